"""Which data locations a definition applied through the app may read (``monitoring.data.locations``)."""

from __future__ import annotations

import pytest

from monitoring.data.locations import LocationPolicy, check_allowed, location_problem
from monitoring.errors import ConfigurationError

POLICY = LocationPolicy(account="mldata01", containers=frozenset({"data", "incoming"}))


@pytest.mark.parametrize("uri", [
    "az://data/fraud/production/",
    "az://incoming/sales/",
    "az://data/fraud/2026/*/*.parquet",
    "abfss://data@mldata01.dfs.core.windows.net/fraud/",
    "abfs://data@mldata01.dfs.core.windows.net/fraud/x.parquet",
    "AZ://data/fraud/",
])
def test_the_data_containers_of_the_data_account_are_allowed(uri: str) -> None:
    assert location_problem(uri, POLICY) is None
    check_allowed(uri, POLICY)


@pytest.mark.parametrize(("uri", "reason"), [
    ("/etc/passwd", "is a local path"),
    ("/home/site/wwwroot/local.settings.json", "is a local path"),
    ("data/fraud/*.parquet", "is a local path"),
    ("../secrets/*.csv", "is a local path"),
    ("file:///etc/passwd", "is a local path"),
    ("https://mldata01.blob.core.windows.net/data/x.parquet", "is a local path"),
    ("azure://data/fraud/", "not an az:// or abfs[s]:// URI"),
    ("az://results/other-monitor/history.parquet", "is in container `results`"),
    ("az://quarantine/sales/x.csv", "is in container `quarantine`"),
    ("az://monitors/m.yaml", "is in container `monitors`"),
    ("abfss://data@elsewhere.dfs.core.windows.net/fraud/", "names another storage account"),
    ("abfss://data@mldata01.dfs.core.windows.net.evil.example/fraud/", "names another storage account"),
    ("az://data/../results/m/history.parquet", "`.`/`..` segment"),
    ("az://data/fraud/%2e%2e/x", "%-escape"),
    ("az://data/fraud\\..\\x", "backslash"),
])
def test_anything_else_is_refused_with_the_reason(uri: str, reason: str) -> None:
    problem = location_problem(uri, POLICY)
    assert problem is not None
    assert reason in problem
    with pytest.raises(ConfigurationError, match=r"definitions applied to the app read only|segment"):
        check_allowed(uri, POLICY)


def test_the_containers_are_a_setting_and_the_account_comes_from_the_settings(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STORAGE_CONNECTION_STRING", raising=False)
    monkeypatch.setenv("DATA_STORAGE_ACCOUNT", "mldata01")
    monkeypatch.delenv("DATA_CONTAINERS", raising=False)
    assert LocationPolicy.from_settings() == POLICY
    monkeypatch.setenv("DATA_CONTAINERS", "data, incoming ,archive")
    policy = LocationPolicy.from_settings()
    assert location_problem("az://archive/2025/", policy) is None
    assert location_problem("az://results/m/", policy) is not None
    monkeypatch.delenv("DATA_STORAGE_ACCOUNT")
    monkeypatch.setenv("STORAGE_CONNECTION_STRING", "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
                                                    "AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:10000/x;")
    assert LocationPolicy.from_settings().account == "devstoreaccount1"
