"""Both templates follow the Flex Consumption documentation and the official Flex samples.

Nothing here can be deployed from the machines that run the tests, so each rule the platform enforces
at deploy time (or that a doc recommends) is a test over the parsed templates (the parsers of
conftest.py, shared with the parity tests). Each test names the doc or sample its rule comes from.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.infra.conftest import parse_bicep, parse_terraform, tf_resources

SITE = "Microsoft.Web/sites"
POLICY = "Microsoft.Web/sites/basicPublishingCredentialsPolicies"

# "Flex Consumption plan deprecations" in "App settings reference for Azure Functions"
# (learn.microsoft.com/azure/azure-functions/functions-app-settings#flex-consumption-plan-deprecations):
# site properties (on `properties` or `properties.siteConfig`) and app settings that must not be set
# on a Flex Consumption app. ARM rejects some outright, e.g. ftpsState with error 51021 ("site
# configuration properties (Site.SiteConfig.FtpsState, ...) for Flex Consumption sites is invalid").
DEPRECATED_SITE_PROPERTIES = {
    "ftpsState": "FTPS not supported",
    "use32BitWorkerProcess": "32-bit not supported",
    "isReserved": "not valid",
    "IsXenon": "not valid",
    "windowsFxVersion": "not valid",
    "alwaysOn": "not valid",
    "preWarmedInstanceCount": "renamed: functionAppConfig.scaleAndConcurrency.alwaysReady",
    "functionAppScaleLimit": "renamed: functionAppConfig.scaleAndConcurrency.maximumInstanceCount",
    "containerSize": "renamed: functionAppConfig.scaleAndConcurrency.instanceMemoryMB",
    "javaVersion": "replaced by functionAppConfig.runtime.version",
    "powerShellVersion": "replaced by functionAppConfig.runtime.version",
    "netFrameworkVersion": "replaced by functionAppConfig.runtime.version",
    "linuxFxVersion": "replaced by functionAppConfig.runtime",
    "vnetBackupRestoreEnabled": "not used for networking in Flex Consumption",
    "vnetContentShareEnabled": "not used for networking in Flex Consumption",
    "vnetImagePullEnabled": "not used for networking in Flex Consumption",
}
DEPRECATED_APP_SETTINGS = {
    "WEBSITE_NODE_DEFAULT_VERSION": "replaced by functionAppConfig.runtime.version",
    "FUNCTIONS_EXTENSION_VERSION": "set by the backend",
    "FUNCTIONS_WORKER_RUNTIME": "replaced by functionAppConfig.runtime.name",
    "FUNCTIONS_WORKER_RUNTIME_VERSION": "replaced by functionAppConfig.runtime.version",
    "FUNCTIONS_MAX_HTTP_CONCURRENCY": "replaced by scaleAndConcurrency.triggers",
    "FUNCTIONS_WORKER_PROCESS_COUNT": "not valid",
    "FUNCTIONS_WORKER_DYNAMIC_CONCURRENCY_ENABLED": "not valid",
    "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING": "replaced by functionAppConfig.deployment",
    "WEBSITE_CONTENTSHARE": "replaced by functionAppConfig.deployment",
    "WEBSITE_CONTENTOVERVNET": "not used for networking in Flex Consumption",
    "WEBSITE_VNET_ROUTE_ALL": "not used for networking in Flex Consumption",
    "WEBSITE_DNS_SERVER": "DNS comes from the integrated virtual network",
    "WEBSITE_SKIP_CONTENTSHARE_VALIDATION": "no content share in Flex Consumption",
    "WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT": "replaced by scaleAndConcurrency.maximumInstanceCount",
    "WEBSITE_RUN_FROM_PACKAGE": "not used for deployments in Flex Consumption",
    "SCM_DO_BUILD_DURING_DEPLOYMENT": "replaced by the deployment's remote build",
    "ENABLE_ORYX_BUILD": "replaced by the deployment's remote build",
}

# Maximum instance count of a Flex Consumption app: 40 to 1000, 100 by default ("Event-driven scaling
# in Azure Functions", section "Limit scale-out"; the official Flex samples default to 100). The doc's
# 2026 revision lowers the floor to 1; 40 is allowed by both revisions.
MIN_MAXIMUM_INSTANCES, MAX_MAXIMUM_INSTANCES, DEFAULT_MAXIMUM_INSTANCES = 40, 1000, 100


def _bicep_sites() -> list[dict[str, Any]]:
    """Body of every Microsoft.Web/sites resource in the Bicep."""
    bodies = []
    for tree in parse_bicep().values():
        for resource in tree.get("resources", {}).values():
            if resource["type"] == SITE and not resource.get("existing"):
                config = resource["config"]
                bodies.append(config.get("config", config) if "condition" in config else config)
    return bodies


def _terraform_sites() -> list[dict[str, Any]]:
    """The `body` of every azapi Microsoft.Web/sites resource in the Terraform."""
    return [
        body.get("body", {})
        for _, rtype, _, body in tf_resources(parse_terraform())
        if rtype == "azapi_resource" and str(body.get("type", "")).split("@")[0] == SITE
    ]


def _site_property_names(body: dict[str, Any]) -> set[str]:
    props = body.get("properties", {}) or {}
    site_config = props.get("siteConfig", {}) or {}
    return {str(name) for name in [*props, *site_config]}


@pytest.mark.parametrize("sites", [_bicep_sites, _terraform_sites], ids=["bicep", "terraform"])
def test_no_flex_deprecated_site_property(sites: Any) -> None:
    """No property of the "Flex Consumption plan deprecations" table (Functions app settings reference).

    ARM refuses some of them outright on a Flex site (ftpsState: error 51021), and the official Flex
    samples (Azure-Samples/functions-quickstart-python-azd-eventgrid-blob,
    durable-functions-quickstart-python-azd) set none of them.
    """
    bodies = sites()
    assert bodies, "no Microsoft.Web/sites resource found"
    deprecated = {name.lower(): name for name in DEPRECATED_SITE_PROPERTIES}
    found = sorted(
        f"{name} ({DEPRECATED_SITE_PROPERTIES[deprecated[name.lower()]]})"
        for body in bodies
        for name in _site_property_names(body)
        if name.lower() in deprecated
    )
    assert not found, f"Flex Consumption deprecates these site properties: {found}"


@pytest.mark.parametrize("template", ["bicep", "terraform"])
def test_no_flex_deprecated_app_setting(template: str, request: pytest.FixtureRequest) -> None:
    """No app setting of the "Flex Consumption plan deprecations" table (Functions app settings reference)."""
    facts = request.getfixturevalue(template)
    deprecated = {name.upper() for name in DEPRECATED_APP_SETTINGS}
    found = sorted(name for name in facts.app_settings if name.upper() in deprecated)
    assert not found, f"{template}: Flex Consumption deprecates these app settings: {found}"


def test_terraform_updates_the_publishing_credential_policies_instead_of_creating_them() -> None:
    """scm and ftp basicPublishingCredentialsPolicies are updated (azapi_update_resource), not created.

    Both policies exist with every Microsoft.Web/sites resource, so an `azapi_resource` (create) fails
    with "Resource already exists ... needs to be imported"; the azapi provider's documentation names
    `azapi_update_resource` for managing properties of a resource that already exists. Bicep is not
    affected: an ARM deployment PUTs the child resource, which creates or updates it.
    """
    resources = tf_resources(parse_terraform())
    created = [
        name
        for _, rtype, name, body in resources
        if rtype == "azapi_resource" and str(body.get("type", "")).split("@")[0] == POLICY
    ]
    assert not created, f"azapi_resource creates publishing credential policies that always exist: {created}"
    updated = {
        body.get("name"): body
        for _, rtype, _, body in resources
        if rtype == "azapi_update_resource" and str(body.get("type", "")).split("@")[0] == POLICY
    }
    assert set(updated) == {"scm", "ftp"}, f"expected scm and ftp updates, got {sorted(map(str, updated))}"
    for name, body in updated.items():
        assert body.get("body", {}).get("properties", {}).get("allow") is False, f"{name}: allow must be false"
        assert "azapi_resource.function_app.id" in str(body.get("parent_id")), f"{name}: parent must be the app"


def _bicep_params(name: str) -> dict[str, dict[str, Any]]:
    """Parameter `name` in every Bicep file that declares it, by file."""
    trees = parse_bicep().items()
    return {path: tree["parameters"][name] for path, tree in trees if name in tree.get("parameters", {})}


def _decorator(param: dict[str, Any], kind: str) -> Any:
    return next((d.get("argument") for d in param.get("decorators", []) if d.get("type") == kind), None)


def test_bicep_maximum_instance_count_is_within_the_flex_range() -> None:
    """maximumInstanceCount allows only 40..1000 and defaults to 100.

    "Event-driven scaling in Azure Functions", section "Limit scale-out": Flex Consumption apps default
    to 100 instances, the lowest maximum instance count is 40 and the highest 1000 (the 2026 revision
    lowers the floor to 1; 40 satisfies both). The official Flex samples default to 100.
    """
    params = _bicep_params("maximumInstanceCount")
    assert {"main.bicep", "modules/function-app.bicep"} <= set(params)
    for path, param in params.items():
        bounds = (_decorator(param, "min_value"), _decorator(param, "max_value"), param.get("default"))
        assert bounds == (MIN_MAXIMUM_INSTANCES, MAX_MAXIMUM_INSTANCES, DEFAULT_MAXIMUM_INSTANCES), (
            f"{path}: maximumInstanceCount (min, max, default) is {bounds}"
        )
    scale = _bicep_sites()[0]["properties"]["functionAppConfig"]["scaleAndConcurrency"]
    assert scale["maximumInstanceCount"] == "maximumInstanceCount", "the site must use the bounded parameter"


def _tf_variable(name: str) -> dict[str, Any]:
    for tree in parse_terraform().values():
        for entry in tree.get("variable", []):
            for key, body in entry.items():
                if key.strip('"') == name:
                    return body
    raise AssertionError(f"variable {name} not declared")


def test_terraform_maximum_instance_count_is_within_the_flex_range() -> None:
    """maximum_instance_count is validated to 40..1000 and defaults to 100 (Event-driven scaling, "Limit scale-out")."""
    variable = _tf_variable("maximum_instance_count")
    assert variable.get("default") == DEFAULT_MAXIMUM_INSTANCES
    conditions = [str(v.get("condition")) for v in variable.get("validation", [])]
    pattern = re.compile(r"var\.maximum_instance_count\s*>=\s*(\d+)\s*&&\s*var\.maximum_instance_count\s*<=\s*(\d+)")
    bounds = [tuple(int(g) for g in m.groups()) for c in conditions if (m := pattern.search(c))]
    assert bounds == [(MIN_MAXIMUM_INSTANCES, MAX_MAXIMUM_INSTANCES)], (
        "write the validation as `var.maximum_instance_count >= 40 && var.maximum_instance_count <= 1000`: "
        f"{conditions}"
    )
    scale = _terraform_sites()[0]["properties"]["functionAppConfig"]["scaleAndConcurrency"]
    assert scale["maximumInstanceCount"] == "${var.maximum_instance_count}"


def test_durable_group_keeps_one_always_ready_instance() -> None:
    """The durable group's always-ready count defaults to 1 in both templates.

    "Azure Storage provider for Durable Functions", section "Flex Consumption plan": set the always
    ready instance count for the `durable` group to 1.
    """
    for path, param in _bicep_params("durableAlwaysReady").items():
        assert param.get("default") == 1, f"{path}: durableAlwaysReady defaults to {param.get('default')}"
    assert _tf_variable("durable_always_ready").get("default") == 1


# Roles for the identity of an Event Grid blob trigger. Blob storage bindings, "identity-based
# connections" roles table: a trigger needs Storage Blob Data Owner and Storage Queue Data
# Contributor on the account of its connection (the queue for poison blobs); the official
# functions-quickstart-python-azd-eventgrid-blob sample assigns both. Host storage
# (AzureWebJobsStorage), "Connecting to host storage with an identity": Storage Blob Data Owner for
# the host; Durable Functions adds queue and table data roles.
TRIGGER_CONNECTION_ROLES = {"Storage Blob Data Owner", "Storage Queue Data Contributor"}
HOST_STORAGE_ROLES = {"Storage Blob Data Owner", "Storage Queue Data Contributor", "Storage Table Data Contributor"}


@pytest.mark.parametrize("template", ["bicep", "terraform"])
def test_event_grid_blob_trigger_identity_has_the_documented_roles(
    template: str, request: pytest.FixtureRequest
) -> None:
    """The app identity holds the Event Grid blob trigger's roles on the data account, and the host's.

    Sources: Azure Blob storage bindings for Azure Functions, identity-based connections ("Trigger:
    Storage Blob Data Owner and Storage Queue Data Contributor"); Azure-Samples/
    functions-quickstart-python-azd-eventgrid-blob (infra/app/rbac.bicep); for host storage, the
    Functions reference, "Connecting to host storage with an identity" (Blob Data Owner; Durable
    Functions: blob, queue and table data roles). That table also lists Storage Account Contributor on
    host storage for "Azure Blobs (trigger only)"; the official Event Grid sample does not assign it
    (it serves the polling trigger's scans), and it would let the app re-enable shared keys, so it is
    deliberately absent.
    """
    facts = request.getfixturevalue(template)
    app_roles: dict[str, set[str]] = {}
    for role, scope, principal, _ in facts.role_assignments:
        if principal == "app identity":
            app_roles.setdefault(scope, set()).add(role)
    assert app_roles.get("storage:data", set()) >= TRIGGER_CONNECTION_ROLES, (
        f"{template}: data account roles {sorted(app_roles.get('storage:data', set()))}, "
        f"the Event Grid blob trigger needs {sorted(TRIGGER_CONNECTION_ROLES)}"
    )
    assert app_roles.get("storage:host", set()) >= HOST_STORAGE_ROLES, (
        f"{template}: host account roles {sorted(app_roles.get('storage:host', set()))}"
    )
    assert facts.app_setting_values.get("DataStorage__credential") == "managedidentity"


def test_azd_waits_for_role_propagation_before_deploying() -> None:
    """azure.yaml runs a predeploy hook that waits for the deployment storage role to take effect.

    Azure RBAC troubleshooting ("Role assignment changes are not being detected"): a new role
    assignment can take up to 10 minutes to take effect, so the first deploy after a provision can
    get 403 on the deployment package container.
    """
    repo = Path(__file__).resolve().parents[2]
    text = (repo / "azure.yaml").read_text(encoding="utf-8")
    predeploy = text.split("predeploy:", 1)[1].split("postdeploy:", 1)[0] if "predeploy:" in text else ""
    for script in ("wait-for-role-propagation.sh", "wait-for-role-propagation.ps1"):
        assert f"./infra/scripts/{script}" in predeploy, f"azure.yaml: predeploy does not run {script}"
        body = (repo / "infra" / "scripts" / script).read_text(encoding="utf-8")
        assert "az role assignment list" in body
        assert "Storage Blob Data Owner" in body
        assert "AZURE_HOST_STORAGE_ACCOUNT" in body
