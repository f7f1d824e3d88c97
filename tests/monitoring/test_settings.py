"""The settings model: types, defaults, one-line errors naming the setting, and each setting failing alone."""

from __future__ import annotations

import pytest

from monitoring.errors import ConfigurationError
from monitoring.settings import HOST_SETTINGS, SETTING_NAMES, SETTINGS, get_settings


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)


def test_defaults_when_nothing_is_set() -> None:
    settings = get_settings()
    assert settings.features_per_activity == 32
    assert settings.custom_signal_modules == []  # the deployed app loads no custom signal module
    assert settings.alert_default_recipients == []
    assert settings.data_storage_account is None
    assert settings.problems == {}


def test_values_are_typed(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("FEATURES_PER_ACTIVITY", "7")
    monkeypatch.setenv("ALERT_DEFAULT_RECIPIENTS", "ops@example.com; ML@example.com, ml@example.com,")
    monkeypatch.setenv("CUSTOM_SIGNAL_MODULES", "examples.custom_signals, mine.signals")
    monkeypatch.setenv("ACS_ENDPOINT", "x.communication.azure.com/")
    monkeypatch.setenv("ACS_CONNECTION_STRING", "endpoint=https://x.communication.azure.com/;accesskey=a2V5")
    monkeypatch.setenv("STORAGE_CONNECTION_STRING", "UseDevelopmentStorage=true")
    monkeypatch.setenv("MONITORING_OUTBOX", "~/mail")
    settings = get_settings()
    assert settings.features_per_activity == 7
    assert settings.alert_default_recipients == ["ops@example.com", "ML@example.com"]
    assert settings.custom_signal_modules == ["examples.custom_signals", "mine.signals"]
    assert settings.acs_endpoint == "https://x.communication.azure.com"
    assert settings.acs_connection_string is not None
    assert settings.acs_connection_string.access_key == "a2V5"
    assert settings.monitoring_outbox is not None
    assert "~" not in str(settings.monitoring_outbox)
    assert "a2V5" not in repr(settings)
    assert "UseDevelopmentStorage" not in repr(settings)


def test_an_empty_value_means_not_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEATURES_PER_ACTIVITY", "")
    monkeypatch.setenv("DATA_STORAGE_ACCOUNT", "")
    assert (get_settings().features_per_activity, get_settings().data_storage_account) == (32, None)


def test_a_changed_environment_is_seen_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEATURES_PER_ACTIVITY", "3")
    assert get_settings().features_per_activity == 3
    monkeypatch.setenv("FEATURES_PER_ACTIVITY", "4")
    assert get_settings().features_per_activity == 4


@pytest.mark.parametrize(("name", "value", "message"), [
    ("FEATURES_PER_ACTIVITY", "0", "FEATURES_PER_ACTIVITY must be a positive integer, got '0'"),
    ("FEATURES_PER_ACTIVITY", "many", "FEATURES_PER_ACTIVITY must be a positive integer"),
    ("DATA_STORAGE_ACCOUNT", "Not_An_Account", "DATA_STORAGE_ACCOUNT must be a storage account name"),
    ("ACS_ENDPOINT", "http://x.communication.azure.com", "ACS_ENDPOINT must be an https:// endpoint"),
    ("ACS_SENDER_ADDRESS", "DoNotReply", "ACS_SENDER_ADDRESS must be the MailFrom address"),
    ("ALERT_DEFAULT_RECIPIENTS", "ops@example.com, nobody", "ALERT_DEFAULT_RECIPIENTS holds `nobody`"),
    ("CUSTOM_SIGNAL_MODULES", "examples/custom_signals.py", "CUSTOM_SIGNAL_MODULES holds `examples/custom"),
    ("REPORT_URL_PATTERN", "https://x/{who}/", "REPORT_URL_PATTERN uses `{who}`"),
    ("ACS_CONNECTION_STRING", "accesskey=c2VjcmV0", "ACS_CONNECTION_STRING must look like endpoint=https://"),
])
def test_an_invalid_value_is_one_line_naming_the_setting(monkeypatch: pytest.MonkeyPatch, name: str, value: str,
                                                         message: str) -> None:
    monkeypatch.setenv(name, value)
    settings = get_settings()
    field = next(f for f, info in type(settings).model_fields.items() if info.validation_alias == name)
    with pytest.raises(ConfigurationError, match=message) as raised:
        getattr(settings, field)
    assert "\n" not in str(raised.value)
    assert "c2VjcmV0" not in str(raised.value)
    assert set(settings.problems) == {name}


def test_an_invalid_setting_fails_only_its_readers(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wrong ACS_ENDPOINT costs the email channel, never the storage or the run."""
    monkeypatch.setenv("ACS_ENDPOINT", "http://x.communication.azure.com")
    monkeypatch.setenv("FEATURES_PER_ACTIVITY", "5")
    settings = get_settings()
    assert settings.features_per_activity == 5
    with pytest.raises(ConfigurationError, match="ACS_ENDPOINT"):
        _ = settings.acs_endpoint


def test_every_setting_is_documented_with_its_default_and_deployment() -> None:
    assert len(SETTING_NAMES) == len(set(SETTING_NAMES))
    for info in SETTINGS:
        assert "Default:" in info.description, info.name
        assert info.deploy in ("templates", "optional", "local")
    assert not {h.name for h in HOST_SETTINGS} & set(SETTING_NAMES)


def test_only_settings_the_python_code_reads_are_in_the_model() -> None:
    """Host-read settings (bindings' %NAME%, azure-identity) live in HOST_SETTINGS, not in the model."""
    host = {h.name for h in HOST_SETTINGS}
    assert {"AZURE_CLIENT_ID", "TASKHUB_NAME", "SCHEDULER_SCHEDULE", "DataStorage__blobServiceUri"} <= host
    assert not host & set(SETTING_NAMES)
