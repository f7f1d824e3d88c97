"""Both templates set every app setting the code reads in Azure, and nothing secret.

The list is ``monitoring.settings.SETTINGS``: a setting marked ``azure=True`` must be set on the
function app by the Bicep and by the Terraform; one marked ``azure=False`` is a local convenience
(Azurite, a local outbox) that a deployment must never set.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from monitoring.settings import SETTINGS

if TYPE_CHECKING:
    from tests.infra.conftest import TemplateFacts

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"

AZURE_SETTINGS = {s.name for s in SETTINGS if s.azure}
LOCAL_ONLY_SETTINGS = {s.name for s in SETTINGS if not s.azure}

# Read by the Functions host, not by the monitoring code, so not in SETTINGS.
HOST_SETTINGS = {
    "AzureWebJobsStorage__accountName",
    "AzureWebJobsStorage__credential",
    "AzureWebJobsStorage__clientId",
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
}

# Ways a template could hand a key or connection string to the app or its outputs.
KEY_PATTERNS = re.compile(
    r"listKeys\(|listConnectionStrings\(|listAccountSas\(|listServiceSas\(|AccountKey="
    r"|primary_access_key|secondary_access_key|primary_connection_string|secondary_connection_string"
    r"|primary_key\b|secondary_key\b|primary_blob_connection_string|SharedAccessSignature",
)


@pytest.fixture(params=("bicep", "terraform"))
def template(request: pytest.FixtureRequest) -> TemplateFacts:
    return request.getfixturevalue(request.param)


def test_settings_list_is_not_empty() -> None:
    assert AZURE_SETTINGS, "monitoring.settings.SETTINGS has no setting for Azure"


def test_sets_every_setting_the_code_reads(template: TemplateFacts) -> None:
    missing = sorted(AZURE_SETTINGS - set(template.app_settings))
    assert not missing, f"{template.name} does not set: {missing} (see monitoring/settings.py)"


def test_sets_no_local_only_setting(template: TemplateFacts) -> None:
    local = sorted(LOCAL_ONLY_SETTINGS & set(template.app_settings))
    assert not local, f"{template.name} sets local-only settings: {local}"


def test_sets_no_unknown_setting(template: TemplateFacts) -> None:
    unknown = sorted(set(template.app_settings) - AZURE_SETTINGS - HOST_SETTINGS)
    assert not unknown, (
        f"{template.name} sets settings nothing reads: {unknown}; register them in monitoring/settings.py "
        "or fix the name"
    )


def test_sets_each_setting_once(template: TemplateFacts) -> None:
    repeated = sorted({name for name in template.app_settings if template.app_settings.count(name) > 1})
    assert not repeated


def test_identity_based_connections_use_the_managed_identity(template: TemplateFacts) -> None:
    credentials = {k: v for k, v in template.app_setting_values.items() if k.endswith("__credential")}
    assert set(credentials) == {"AzureWebJobsStorage__credential", "DataStorage__credential"}
    assert set(credentials.values()) == {"managedidentity"}


def test_templates_hand_out_no_keys() -> None:
    files = [*INFRA.rglob("*.bicep"), *INFRA.rglob("*.tf"), *INFRA.rglob("*.json")]
    found = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if KEY_PATTERNS.search(line)
    ]
    assert not found, "templates must not read or pass keys or connection strings:\n" + "\n".join(found)
