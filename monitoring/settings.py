"""The app settings the Python code reads, typed and validated in one model; the host's own settings listed.

:class:`Settings` (pydantic-settings) reads every setting of the monitoring code from the environment (the
Function App's application settings, ``local.settings.json`` locally): integers as integers, lists split,
URLs and names checked, secrets hidden from ``repr``. An empty value means "not set". :func:`get_settings`
returns the settings of the current environment, cached per environment, so a changed variable is seen
at once (tests use ``monkeypatch.setenv``).

An invalid value fails only the code that reads it, with one line naming the setting and the rule
(:class:`~monitoring.errors.ConfigurationError`): a wrong ``ACS_ENDPOINT`` costs the email channel of an
alert, never the run (alert channels fail alone, by design). :attr:`Settings.problems` lists every invalid
setting at once.

Deployment: each setting says whether both templates in ``infra/`` set it (``templates``), a deployment
may add it by hand (``optional``) or it is a local convenience a deployment never sets (``local``).
:data:`HOST_SETTINGS` lists the settings the Functions host, its extensions or azure-identity read and the
Python code never does; ``tests/infra/test_settings_coverage.py`` checks both templates against both lists.
"""

from __future__ import annotations

import os
import re
import string
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlparse

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from monitoring.errors import ConfigurationError

Deploy = Literal["templates", "optional", "local"]

#: Placeholders of REPORT_URL_PATTERN.
REPORT_URL_PLACEHOLDERS = ("fire_time", "monitor", "run_id")
_ADDRESS = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_ACCOUNT = re.compile(r"^[a-z0-9]{3,24}$")


def _setting(name: str, description: str, *, deploy: Deploy = "templates", default: Any = None) -> Any:
    """A field read from the environment variable ``name``; ``deploy`` feeds the template checks."""
    return Field(default=default, validation_alias=name, description=description,
                 json_schema_extra={"deploy": deploy})


def check_report_url_pattern(pattern: str) -> str:
    """``pattern`` if it is a REPORT_URL_PATTERN that fills to an http(s) link, else a ConfigurationError."""
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(pattern) if name is not None]
    except ValueError as exc:
        raise ConfigurationError(f"REPORT_URL_PATTERN `{pattern}` is not a valid pattern: {exc}") from None
    unknown = [f for f in fields if f not in REPORT_URL_PLACEHOLDERS]
    if unknown:
        raise ConfigurationError(
            f"REPORT_URL_PATTERN uses `{{{unknown[0]}}}`; the placeholders are "
            + ", ".join(f"{{{p}}}" for p in REPORT_URL_PLACEHOLDERS)
        )
    if not pattern.format_map(dict.fromkeys(REPORT_URL_PLACEHOLDERS, "x")).lower().startswith(("https://", "http://")):
        raise ConfigurationError(
            f"REPORT_URL_PATTERN must start with https:// (or http://); `{pattern}` would not be a clickable link"
        )
    return pattern


def https_endpoint(value: str, name: str) -> str:
    """``https://<host>`` of an endpoint given with or without its scheme; anything but https is refused."""
    url = value if "://" in value else f"https://{value}"
    parsed = urlparse(url)
    if parsed.scheme.lower() != "https" or not parsed.netloc:
        raise ConfigurationError(
            f"{name} must be an https:// endpoint such as https://<resource>.communication.azure.com, got a "
            f"`{parsed.scheme}://` one: the key or token would cross the network in clear text"
        )
    return f"https://{parsed.netloc}"


@dataclass(frozen=True)
class AcsConnection:
    """ACS_CONNECTION_STRING parsed: the resource's https endpoint and its access key (never shown)."""

    endpoint: str
    access_key: str = field(repr=False)

    @classmethod
    def parse(cls, value: str) -> AcsConnection:
        """``endpoint=https://...;accesskey=...``; errors never echo the value (it holds the key)."""
        parts: dict[str, str] = {}
        for element in value.split(";"):
            key, _, item = element.partition("=")
            parts[key.strip().lower()] = item.strip()
        if not parts.get("endpoint") or not parts.get("accesskey"):
            raise ConfigurationError(
                "ACS_CONNECTION_STRING must look like endpoint=https://<resource>.communication.azure.com/;"
                "accesskey=<key> (the resource's Keys page in the portal)"
            )
        endpoint = https_endpoint(parts["endpoint"], "the endpoint of ACS_CONNECTION_STRING")
        return cls(endpoint=endpoint, access_key=parts["accesskey"])


def _comma_list(value: Any) -> Any:
    if isinstance(value, str):
        return [item.strip() for item in re.split(r"[,;]", value) if item.strip()]
    return value


class Settings(BaseSettings):
    """Every setting the monitoring code reads. Field descriptions document each one and its default."""

    model_config = SettingsConfigDict(case_sensitive=True, env_ignore_empty=True, extra="ignore", frozen=True)

    data_storage_account: str | None = _setting(
        "DATA_STORAGE_ACCOUNT",
        "Name of the storage account holding the monitors, data, incoming, quarantine and results containers; "
        "reached with DefaultAzureCredential (the app's managed identity). Default: none (then "
        "STORAGE_CONNECTION_STRING must be set).")
    features_per_activity: int = _setting(
        "FEATURES_PER_ACTIVITY", "Features computed per compute_signal activity, a positive integer. Default: 32.",
        default=32)
    activity_memory_mb: int = _setting(
        "ACTIVITY_MEMORY_MB", "Memory budget of one compute_signal activity in MiB, a positive integer; features "
        "per activity shrink so that each activity fits it (host.json runs maxConcurrentActivityFunctions at "
        "once). Default: 768.", default=768)
    memory_budget_mb: int | None = _setting(
        "MEMORY_BUDGET_MB", "Local only: memory budget of a local run (`run`) in MiB, a positive integer; a "
        "signal reads its features in column groups that fit it, and a numerical drift feature whose two "
        "windows do not fit is computed by value range. Durable activities use ACTIVITY_MEMORY_MB instead. "
        "Default: none (40% of the machine's memory).", deploy="local")
    alert_retry_hours: float = _setting(
        "ALERT_RETRY_HOURS", "Hours after a run's first alert attempt during which the scheduler re-attempts "
        "undelivered channels (failed, or interrupted while sending), with backoff; at least 0. Default: 24.",
        default=24.0)
    alert_stuck_minutes: float = _setting(
        "ALERT_STUCK_MINUTES", "Minutes a channel may stay 'sending' before the scheduler treats the send as "
        "interrupted; at least 1. Default: 15.", default=15.0)
    data_containers: Annotated[list[str], NoDecode] = _setting(
        "DATA_CONTAINERS", "Comma-separated containers of the data account that monitors applied through the "
        "app may read (az://<container>/...); anything else fails validation. Default: data,incoming.",
        default=["data", "incoming"])
    ingest_max_rows: int = _setting(
        "INGEST_MAX_ROWS", "Most rows an upload to incoming/ may have (parquet: from its footer; CSV/JSONL: "
        "counted while streaming), checked before it is decoded. Default: 10000000.", default=10_000_000)
    ingest_max_decoded_mb: int = _setting(
        "INGEST_MAX_DECODED_MB", "Most megabytes an upload to incoming/ may take decoded (parquet: rows times "
        "type widths from the footer; CSV/JSONL: 8 bytes a cell plus the text), checked before it is decoded. "
        "Default: 1024.", default=1024)
    mdc_root: str | None = _setting(
        "MDC_ROOT", "Root folder or az:// URI of Azure ML model data collector output, for endpoint targets. "
        "Default: none (endpoint targets then fail with a message naming it).")
    acs_endpoint: str | None = _setting(
        "ACS_ENDPOINT", "Azure Communication Services endpoint, https://<name>.communication.azure.com (the "
        "scheme may be left out; only https is accepted). Default: none (email goes to the local outbox).")
    acs_sender_address: str | None = _setting(
        "ACS_SENDER_ADDRESS", "Sender address of the linked email domain, DoNotReply@<domain>. Required with "
        "ACS_ENDPOINT or ACS_CONNECTION_STRING. Default: none.")
    alert_default_recipients: Annotated[list[str], NoDecode] = _setting(
        "ALERT_DEFAULT_RECIPIENTS", "Email addresses (separated by `,` or `;`) for monitors without "
        "alert_notification.emails. Default: none.", default=[])
    report_url_pattern: str | None = _setting(
        "REPORT_URL_PATTERN", "Link to a run in alerts, https://...; {monitor}, {fire_time} and {run_id} are "
        "filled in; ending in `/` it is the run's folder. Default: none (links to the store's locations).")
    custom_signal_modules: Annotated[list[str], NoDecode] = _setting(
        "CUSTOM_SIGNAL_MODULES", "Python modules (comma-separated dotted names, shipped with the app) whose "
        "@register_custom_signal functions monitors may name as component_id. Default: none; the local demo "
        "uses examples.custom_signals.", deploy="optional", default=[])
    asset_map: str | None = _setting(
        "ASSET_MAP", "Path of an assets.yaml mapping azureml:<name>:<version> to a data URI. Default: none.",
        deploy="local")
    storage_connection_string: SecretStr | None = _setting(
        "STORAGE_CONNECTION_STRING", "Local only: connection string of Azurite or another account that allows "
        "keys; wins over DATA_STORAGE_ACCOUNT. Default: none.", deploy="local")
    acs_connection_string: AcsConnection | None = _setting(
        "ACS_CONNECTION_STRING", "Local only: ACS connection string (endpoint=https://...;accesskey=...) "
        "instead of the managed identity. Default: none.", deploy="local")
    monitoring_outbox: Path | None = _setting(
        "MONITORING_OUTBOX", "Local only: folder for .eml files when no ACS is configured. Default: "
        "<results folder>/../outbox for a local store, else next to the run.", deploy="local")

    @field_validator("data_storage_account")
    @classmethod
    def _account(cls, value: str | None) -> str | None:
        if value is not None and not _ACCOUNT.match(value):
            raise ValueError("DATA_STORAGE_ACCOUNT must be a storage account name: 3-24 lowercase letters and digits")
        return value

    @field_validator("features_per_activity", "activity_memory_mb", "memory_budget_mb", "ingest_max_rows",
                     "ingest_max_decoded_mb", mode="before")
    @classmethod
    def _positive(cls, value: Any, info: ValidationInfo) -> int | None:
        if value is None and info.field_name == "memory_budget_mb":  # optional: not set
            return None
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = 0
        if number < 1:
            name = cls.model_fields[str(info.field_name)].validation_alias
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
        return number

    @field_validator("alert_retry_hours", "alert_stuck_minutes", mode="before")
    @classmethod
    def _at_least(cls, value: Any, info: ValidationInfo) -> float:
        minimum = 0.0 if info.field_name == "alert_retry_hours" else 1.0
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = minimum - 1
        if not minimum <= number < float("inf"):
            name = cls.model_fields[str(info.field_name)].validation_alias
            raise ValueError(f"{name} must be a number of at least {minimum:g}, got {value!r}")
        return number

    @field_validator("data_containers", mode="before")
    @classmethod
    def _containers(cls, value: Any) -> Any:
        return _comma_list(value) if isinstance(value, str) else value

    @field_validator("acs_endpoint")
    @classmethod
    def _acs_endpoint(cls, value: str | None) -> str | None:
        return None if value is None else https_endpoint(value, "ACS_ENDPOINT")

    @field_validator("acs_sender_address")
    @classmethod
    def _sender(cls, value: str | None) -> str | None:
        if value is not None and "@" not in value:
            raise ValueError("ACS_SENDER_ADDRESS must be the MailFrom address of an email domain linked to the "
                             "Communication Services resource, e.g. DoNotReply@<domain>")
        return value

    @field_validator("alert_default_recipients", mode="before")
    @classmethod
    def _recipients(cls, value: Any) -> Any:
        addresses = _comma_list(value)
        bad = [a for a in addresses if not _ADDRESS.match(a)]
        if bad:
            raise ValueError(f"ALERT_DEFAULT_RECIPIENTS holds `{bad[0]}`, which is not an email address")
        seen: dict[str, str] = {}
        for address in addresses:
            seen.setdefault(address.lower(), address)
        return list(seen.values())

    @field_validator("custom_signal_modules", mode="before")
    @classmethod
    def _modules(cls, value: Any) -> Any:
        modules = _comma_list(value)
        bad = [m for m in modules if not _MODULE.match(m)]
        if bad:
            raise ValueError(f"CUSTOM_SIGNAL_MODULES holds `{bad[0]}`, which is not a dotted Python module name")
        return modules

    @field_validator("report_url_pattern")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        return None if value is None else check_report_url_pattern(value)

    @field_validator("acs_connection_string", mode="before")
    @classmethod
    def _acs_connection(cls, value: Any) -> Any:
        return AcsConnection.parse(value) if isinstance(value, str) else value

    @field_validator("monitoring_outbox")
    @classmethod
    def _outbox(cls, value: Path | None) -> Path | None:
        return None if value is None else value.expanduser()

    @model_validator(mode="wrap")
    @classmethod
    def _each_setting_fails_alone(cls, data: Any, handler: Any) -> Any:
        """Validate again without the invalid settings, remembering why each failed (see ``__getattribute__``)."""
        try:
            return handler(data)
        except ValidationError as exc:
            problems = {str(e["loc"][0]): _message(str(e["loc"][0]), e["msg"]) for e in exc.errors() if e["loc"]}
            if not problems or not isinstance(data, dict):
                raise
            model = handler({k: v for k, v in data.items() if k not in problems})
            model.__dict__["_problems"] = problems
            return model

    @property
    def problems(self) -> dict[str, str]:
        """Setting name -> why its value is invalid, for every invalid setting."""
        return dict(self.__dict__.get("_problems", {}))

    def __getattribute__(self, name: str) -> Any:
        # Reading an invalid setting raises its one-line error; every other attribute is plain.
        fields = type(self).model_fields
        if name in fields:
            alias = str(fields[name].validation_alias)
            problem = object.__getattribute__(self, "__dict__").get("_problems", {}).get(alias)
            if problem is not None:
                raise ConfigurationError(problem)
        return super().__getattribute__(name)


def _message(name: str, msg: str) -> str:
    """One line naming the setting and the rule; never the value (it may be a secret)."""
    text = msg.removeprefix("Value error, ")
    return text if name in text else f"setting {name}: {text}"


@lru_cache(maxsize=8)
def _load(_environment: tuple[str | None, ...]) -> Settings:
    return Settings()


def get_settings() -> Settings:
    """The settings of the current environment; parsed once per distinct set of values."""
    return _load(tuple(os.environ.get(name) for name in SETTING_NAMES))


@dataclass(frozen=True)
class HostSetting:
    """A setting read by the Functions host, an extension or azure-identity, never by our code."""

    name: str
    reader: str
    description: str
    deploy: Deploy = "templates"


#: Settings the Python code never reads, with who reads them; both templates set the ``templates`` ones.
HOST_SETTINGS: tuple[HostSetting, ...] = (
    HostSetting("AZURE_CLIENT_ID", "azure-identity",
                "Client ID of the user-assigned managed identity DefaultAzureCredential uses."),
    HostSetting("DataStorage__blobServiceUri", "Functions host (blob trigger)",
                "Blob endpoint of the data account for the connection named DataStorage."),
    HostSetting("DataStorage__queueServiceUri", "Functions host (blob trigger)",
                "Queue endpoint of the data account (the blob extension keeps receipts there)."),
    HostSetting("DataStorage__credential", "Functions host (blob trigger)",
                "Always 'managedidentity' for the DataStorage connection."),
    HostSetting("DataStorage__clientId", "Functions host (blob trigger)",
                "Client ID of the identity used by the DataStorage connection."),
    HostSetting("TASKHUB_NAME", "Functions host (host.json %TASKHUB_NAME%)",
                "Durable Functions task hub name. The sample local settings use monitoringlocal."),
    HostSetting("SCHEDULER_SCHEDULE", "Functions host (timer binding %SCHEDULER_SCHEDULE%)",
                "NCRONTAB (six fields, UTC) of the scheduler timer, e.g. 0 */5 * * * *."),
    HostSetting("AzureWebJobsStorage__accountName", "Functions host", "The host's own storage account."),
    HostSetting("AzureWebJobsStorage__credential", "Functions host", "Always 'managedidentity'."),
    HostSetting("AzureWebJobsStorage__clientId", "Functions host", "Client ID of the host storage identity."),
    HostSetting("APPLICATIONINSIGHTS_CONNECTION_STRING", "Functions host", "Application Insights resource."),
    HostSetting("APPLICATIONINSIGHTS_AUTHENTICATION_STRING", "Functions host",
                "Entra ID authentication of telemetry (Authorization=AAD;ClientId=...)."),
    HostSetting("FUNCTIONS_WORKER_RUNTIME", "Core Tools (local.settings.json)",
                "Always 'python' locally; Flex Consumption sets the runtime on the site instead.", deploy="local"),
    HostSetting("AzureWebJobsStorage", "Core Tools (local.settings.json)",
                "Local host storage: UseDevelopmentStorage=true (Azurite).", deploy="local"),
    HostSetting("DataStorage", "Core Tools (local.settings.json)",
                "Local blob trigger connection: UseDevelopmentStorage=true (Azurite).", deploy="local"),
)


@dataclass(frozen=True)
class SettingInfo:
    """One setting of :class:`Settings` as data: name, description, default and deployment."""

    name: str
    description: str
    default: Any
    deploy: Deploy


def _infos() -> tuple[SettingInfo, ...]:
    out: list[SettingInfo] = []
    for info in Settings.model_fields.values():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        deploy: Deploy = "local" if extra.get("deploy") == "local" else (
            "optional" if extra.get("deploy") == "optional" else "templates")
        out.append(SettingInfo(name=str(info.validation_alias), description=info.description or "",
                               default=info.default, deploy=deploy))
    return tuple(out)


#: Every setting of :class:`Settings`, in declaration order.
SETTINGS: tuple[SettingInfo, ...] = _infos()
SETTING_NAMES: tuple[str, ...] = tuple(s.name for s in SETTINGS)
#: Every name the app and its host use: a webhook URL must live in a setting of its own.
RESERVED_NAMES: frozenset[str] = frozenset(SETTING_NAMES) | {h.name for h in HOST_SETTINGS}


def clear_settings_cache() -> None:
    """Forget parsed settings (they are cached per environment, so this is rarely needed)."""
    _load.cache_clear()


__all__ = [
    "HOST_SETTINGS", "REPORT_URL_PLACEHOLDERS", "RESERVED_NAMES", "SETTINGS", "SETTING_NAMES", "AcsConnection",
    "Deploy", "HostSetting", "SettingInfo", "Settings", "check_report_url_pattern", "clear_settings_cache",
    "get_settings", "https_endpoint",
]
