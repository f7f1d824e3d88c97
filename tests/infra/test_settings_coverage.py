"""Both templates set every app setting the code reads in Azure, and nothing secret.

The lists are ``monitoring.settings.SETTINGS`` (what the Python code reads) and ``HOST_SETTINGS`` (what
the Functions host, its extensions or azure-identity read): a setting marked ``templates`` must be set on
the function app by the Bicep and by the Terraform; ``optional`` may be added by hand; ``local`` is a
local convenience (Azurite, a local outbox) that a deployment must never set.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from monitoring.settings import HOST_SETTINGS, SETTINGS

if TYPE_CHECKING:
    from tests.infra.conftest import TemplateFacts

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"

ALL_SETTINGS = [*SETTINGS, *HOST_SETTINGS]
AZURE_SETTINGS = {s.name for s in ALL_SETTINGS if s.deploy == "templates"}
OPTIONAL_SETTINGS = {s.name for s in ALL_SETTINGS if s.deploy == "optional"}
LOCAL_ONLY_SETTINGS = {s.name for s in ALL_SETTINGS if s.deploy == "local"}


# Ways a template could hand a key or connection string to the app or its outputs.
KEY_PATTERNS = re.compile(
    r"listKeys\(|listConnectionStrings\(|listAccountSas\(|listServiceSas\(|AccountKey="
    r"|primary_access_key|secondary_access_key|primary_connection_string|secondary_connection_string"
    r"|primary_key\b|secondary_key\b|primary_blob_connection_string|SharedAccessSignature",
)


@pytest.fixture(params=("bicep", "terraform"))
def template(request: pytest.FixtureRequest) -> TemplateFacts:
    return request.getfixturevalue(request.param)


def test_settings_lists_are_not_empty() -> None:
    assert {s.name for s in SETTINGS if s.deploy == "templates"}, "monitoring.settings.SETTINGS has none for Azure"
    assert {s.name for s in HOST_SETTINGS if s.deploy == "templates"}, "HOST_SETTINGS has none for Azure"


def test_sets_every_setting_the_code_reads(template: TemplateFacts) -> None:
    missing = sorted(AZURE_SETTINGS - set(template.app_settings))
    assert not missing, f"{template.name} does not set: {missing} (see monitoring/settings.py)"


def test_sets_no_local_only_setting(template: TemplateFacts) -> None:
    local = sorted(LOCAL_ONLY_SETTINGS & set(template.app_settings))
    assert not local, f"{template.name} sets local-only settings: {local}"


def test_sets_no_unknown_setting(template: TemplateFacts) -> None:
    unknown = sorted(set(template.app_settings) - AZURE_SETTINGS - OPTIONAL_SETTINGS)
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
