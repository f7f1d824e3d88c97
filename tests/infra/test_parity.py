"""The Bicep and the Terraform declare the same deployment.

Both templates are parsed (conftest.py) and reduced to the same facts; every test compares one fact
across the two, and most also pin it to the contract in DESIGN.md, so a change has to land in both
templates, and a change of contract in the tests as well.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.infra.conftest import TemplateFacts

COMPUTED = "<computed>"  # how conftest records a name that is an expression, not a literal
TEMPLATES = ("bicep", "terraform")
DATA_CONTAINERS = {"monitors", "data", "incoming", "quarantine", "results"}

APP = "app identity"
EXPECTED_ROLE_ASSIGNMENTS = {
    # Host storage: the Functions host and Durable Functions need blobs, queues and tables.
    ("Storage Blob Data Owner", "storage:host", APP, False),
    ("Storage Queue Data Contributor", "storage:host", APP, False),
    ("Storage Table Data Contributor", "storage:host", APP, False),
    # Data account: the Event Grid blob trigger's connection (Owner, test_flex_policy.py), monitoring
    # data, and the blob trigger's poison queue.
    ("Storage Blob Data Owner", "storage:data", APP, False),
    ("Storage Queue Data Contributor", "storage:data", APP, False),
    # Identity-based telemetry and email.
    ("Monitoring Metrics Publisher", "app_insights", APP, False),
    ("Communication and Email Service Owner", "communication", APP, False),
    # Optional: the deploying principal may upload monitors and data.
    ("Storage Blob Data Contributor", "storage:data", "deployer", True),
}

SECURE_STORAGE = {
    "shared_key_access": False,
    "public_blob_access": False,
    "min_tls": "TLS1_2",
    "https_only": True,
    "local_users": False,
    "infrastructure_encryption": True,
    "blob_soft_delete": True,
    "container_soft_delete": True,
}

SECURE_SITE = {
    "https_only": True,
    "client_cert": False,
    "min_tls": "1.2",
    "scm_min_tls": "1.2",
    # No ftps_state: Flex Consumption rejects it (test_flex_policy.py); basic_auth_ftp keeps FTP off.
    "remote_debugging": False,
    "basic_auth_scm": False,
    "basic_auth_ftp": False,
    "identity": "UserAssigned",
    "deployment_storage_auth": "UserAssignedIdentity",
}


@pytest.fixture(params=TEMPLATES)
def template(request: pytest.FixtureRequest) -> TemplateFacts:
    return request.getfixturevalue(request.param)


# --- the same in both ------------------------------------------------------------------------


def test_same_containers(bicep: TemplateFacts, terraform: TemplateFacts) -> None:
    assert bicep.containers == terraform.containers


def test_same_app_setting_names(bicep: TemplateFacts, terraform: TemplateFacts) -> None:
    only_bicep = set(bicep.app_settings) - set(terraform.app_settings)
    only_terraform = set(terraform.app_settings) - set(bicep.app_settings)
    assert not only_bicep, f"only in Bicep: {only_bicep}"
    assert not only_terraform, f"only in Terraform: {only_terraform}"


def test_same_role_assignments(bicep: TemplateFacts, terraform: TemplateFacts) -> None:
    assert bicep.role_assignments == terraform.role_assignments, (
        f"only in Bicep: {bicep.role_assignments - terraform.role_assignments}; "
        f"only in Terraform: {terraform.role_assignments - bicep.role_assignments}"
    )


def test_same_storage_settings(bicep: TemplateFacts, terraform: TemplateFacts) -> None:
    assert bicep.storage == terraform.storage


def test_same_function_app_settings(bicep: TemplateFacts, terraform: TemplateFacts) -> None:
    assert bicep.site == terraform.site


def test_same_app_insights_auth(bicep: TemplateFacts, terraform: TemplateFacts) -> None:
    assert bicep.app_insights_local_auth_disabled == terraform.app_insights_local_auth_disabled


def test_same_outputs(bicep: TemplateFacts, terraform: TemplateFacts) -> None:
    assert bicep.outputs == terraform.outputs, (
        f"only in Bicep: {bicep.outputs - terraform.outputs}; only in Terraform: {terraform.outputs - bicep.outputs}"
    )


def test_same_resources(bicep: TemplateFacts, terraform: TemplateFacts) -> None:
    kinds = sorted(set(bicep.inventory) | set(terraform.inventory))
    differ = {
        kind: (bicep.inventory[kind], terraform.inventory[kind])
        for kind in kinds
        if bicep.inventory[kind] != terraform.inventory[kind]
    }
    assert not differ, f"resource counts differ (Bicep, Terraform): {differ}"


# --- the contract, in each ----------------------------------------------------------------------


def test_data_account_has_the_five_containers(template: TemplateFacts) -> None:
    assert set(template.containers.get("data", {})) == DATA_CONTAINERS


def test_host_account_has_the_deployment_container(template: TemplateFacts) -> None:
    assert list(template.containers.get("host", {})) == [COMPUTED]


def test_containers_are_private(template: TemplateFacts) -> None:
    public = {
        (account, name): access
        for account, names in template.containers.items()
        for name, access in names.items()
        if access != "private"
    }
    assert not public


def test_role_assignments_are_least_privilege(template: TemplateFacts) -> None:
    assert template.role_assignments == EXPECTED_ROLE_ASSIGNMENTS, (
        f"unexpected: {template.role_assignments - EXPECTED_ROLE_ASSIGNMENTS}; "
        f"missing: {EXPECTED_ROLE_ASSIGNMENTS - template.role_assignments}"
    )


@pytest.mark.parametrize("account", ["host", "data"])
def test_storage_accounts_are_locked_down(template: TemplateFacts, account: str) -> None:
    settings = template.storage[account]
    wrong = {k: settings.get(k) for k, v in SECURE_STORAGE.items() if settings.get(k) != v}
    assert not wrong, f"{account} account: {wrong}, expected {SECURE_STORAGE}"


def test_data_account_loses_nothing(template: TemplateFacts) -> None:
    data = template.storage["data"]
    assert data["versioning"] is True
    assert data["replication"] in {"GRS", "RAGRS", "GZRS", "RAGZRS"}


def test_function_app_is_locked_down(template: TemplateFacts) -> None:
    wrong = {k: template.site.get(k) for k, v in SECURE_SITE.items() if template.site.get(k) != v}
    assert not wrong, f"function app: {wrong}, expected {SECURE_SITE}"


def test_function_app_is_flex_python_with_a_ready_durable_group(template: TemplateFacts) -> None:
    assert template.site["kind"] == "functionapp,linux"
    assert template.site["runtime"] == ("python", "3.11")
    assert template.site["always_ready_groups"] == ["durable"]
    assert template.site["scale_settings"] == ["instanceMemoryMB", "maximumInstanceCount"]


def test_app_insights_accepts_only_entra_id(template: TemplateFacts) -> None:
    assert template.app_insights_local_auth_disabled is True


# --- the templates document themselves ----------------------------------------------------------


def test_every_parameter_is_described(template: TemplateFacts) -> None:
    assert not template.undescribed_parameters, f"add a description to: {template.undescribed_parameters}"


def test_every_bicep_module_is_used(bicep: TemplateFacts) -> None:
    assert not bicep.unused_modules, f"modules main.bicep does not deploy: {bicep.unused_modules}"
