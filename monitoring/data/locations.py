"""Where a monitor applied through the app may read data: the one home of the rule.

A definition stored in the ``monitors`` container is run by the Function App with the app's identity,
so its data paths must not reach anything else that identity can read: files on the Functions host,
other monitors' results, quarantined uploads, other storage accounts. Definitions applied through the app
(``POST /api/monitors``, ``python -m monitoring apply``, a blob dropped into ``monitors/``) may read only

* ``az://<container>/<prefix>`` or ``abfs[s]://<container>@<account>.dfs.core.windows.net/<prefix>``,
* of the configured data account (``DATA_STORAGE_ACCOUNT``; locally the account of
  ``STORAGE_CONNECTION_STRING``),
* in a container of ``DATA_CONTAINERS`` (default ``data,incoming``),
* with no ``.``/``..`` segment, backslash or percent-escape in the path.

``definition_problems`` is checked when a definition is validated or applied and again when an app run
is planned (after ``azureml:`` assets are mapped), so a definition that reached ``monitors/`` another
way is refused too. The local CLI (``python -m monitoring run``) does not apply it: there the person
running it reads their own files.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from monitoring.data.uris import is_cloud, resolve_path, split_cloud
from monitoring.errors import ConfigurationError
from monitoring.settings import get_settings

if TYPE_CHECKING:
    from monitoring.definition import LoadedMonitor

_SCHEME = re.compile(r"^(az|abfs|abfss)://", re.IGNORECASE)
_HOST = re.compile(r"^(?P<account>[a-z0-9]{3,24})(\.(dfs|blob)\.core\.windows\.net)?$")


@dataclass(frozen=True)
class LocationPolicy:
    """The account and containers app definitions may read."""

    account: str | None
    containers: frozenset[str]

    @classmethod
    def from_settings(cls) -> LocationPolicy:
        settings = get_settings()
        containers = frozenset(settings.data_containers)
        account = settings.data_storage_account
        secret = settings.storage_connection_string
        connection = secret.get_secret_value() if secret is not None else None
        if not account and connection:
            parts = dict(p.split("=", 1) for p in connection.split(";") if "=" in p)
            account = parts.get("AccountName") or ("devstoreaccount1" if "UseDevelopmentStorage" in parts else None)
        return cls(account=account.lower() if account else None, containers=containers)

    def describe(self) -> str:
        return ", ".join(f"az://{c}/" for c in sorted(self.containers)) or "no container (DATA_CONTAINERS is empty)"


def location_problem(uri: str, policy: LocationPolicy) -> str | None:
    """Why the app may not read ``uri`` (one line), or None when it may."""
    allowed = f"definitions applied to the app read only {policy.describe()} of the data account"
    if not _SCHEME.match(uri):
        kind = "a local path" if not is_cloud(uri) else "not an az:// or abfs[s]:// URI"
        return f"`{uri}` is {kind}; {allowed}"
    netloc = _SCHEME.sub("", uri).split("/", 1)[0]
    container, prefix = split_cloud(uri)
    if "@" in netloc:
        match = _HOST.match(netloc.split("@", 1)[1].lower())
        if match is None or policy.account is None or match["account"] != policy.account:
            return f"`{uri}` names another storage account; {allowed}"
    if container not in policy.containers:
        return f"`{uri}` is in container `{container}`; {allowed} (setting DATA_CONTAINERS)"
    if "\\" in prefix or "%" in prefix or any(part in (".", "..") for part in prefix.split("/")):
        return f"`{uri}` has a `.`/`..` segment, a backslash or a %-escape; write the plain path"
    return None


def check_allowed(uri: str, policy: LocationPolicy | None = None) -> None:
    """Raise ``ConfigurationError`` when the app may not read ``uri``."""
    problem = location_problem(uri, policy or LocationPolicy.from_settings())
    if problem:
        raise ConfigurationError(problem)


def _paths(loaded: LoadedMonitor) -> Iterator[tuple[str, str, str]]:
    """(signal, input, path) of every data input of a definition."""
    for name, signal in loaded.schedule.signals().items():
        inputs = {"production_data": signal.production_data, "reference_data": signal.reference_data,
                  **{f"input_data.{k}": v for k, v in (getattr(signal, "input_data", None) or {}).items()}}
        for side, spec in inputs.items():
            if spec is not None and spec.input_data is not None and spec.input_data.path:
                yield name, side, spec.input_data.path


def definition_problems(loaded: LoadedMonitor, policy: LocationPolicy | None = None, *,
                        asset_map: dict[str, str] | None = None, resolve_assets: bool = True) -> list[str]:
    """Every data path of ``loaded`` the app may not read, one line each naming the signal and input.

    ``azureml:`` assets are checked as mapped (``ASSET_MAP``); with ``resolve_assets=False`` (validation,
    where the app's map is not at hand) they are left to the check at plan time.
    """
    policy = policy or LocationPolicy.from_settings()
    out = []
    for signal, side, path in _paths(loaded):
        if path.startswith("azureml:") and not path.startswith("azureml://"):
            if not resolve_assets:
                continue
            try:
                path = resolve_path(path, asset_map=asset_map)
            except ConfigurationError as exc:
                out.append(f"signal `{signal}`: `{side}`: {exc}")
                continue
        problem = location_problem(path, policy)
        if problem:
            out.append(f"signal `{signal}`: `{side}`: {problem}")
    return out


__all__ = ["LocationPolicy", "check_allowed", "definition_problems", "location_problem"]
