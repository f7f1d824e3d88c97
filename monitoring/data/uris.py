"""Data locations: cloud URIs (``az://``, ``abfs[s]://``), local paths and ``azureml:`` asset mapping."""

from __future__ import annotations

import re
from pathlib import Path

from monitoring.errors import ConfigurationError
from monitoring.settings import get_settings

_CLOUD = re.compile(r"^(az|azure|abfs|abfss)://", re.IGNORECASE)


def is_cloud(uri: str) -> bool:
    return bool(_CLOUD.match(uri))


# --------------------------------------------------------------------------------------------------
# Resolving paths


def load_asset_map(path: str | None = None) -> dict[str, str]:
    """``assets.yaml``: ``azureml:<name>:<version>`` (or ``<name>:<version>``) -> data URI."""
    from ruamel.yaml import YAML

    path = path or get_settings().asset_map
    if not path:
        return {}
    file = Path(path)
    if not file.exists():
        raise ConfigurationError(f"asset map {path} (setting ASSET_MAP) does not exist")
    data = YAML(typ="safe").load(file.read_text()) or {}
    if not isinstance(data, dict):
        raise ConfigurationError(f"asset map {path} must map asset names to URIs")
    base = file.parent
    out: dict[str, str] = {}
    for key, value in data.items():
        uri = str(value)
        if not is_cloud(uri) and not Path(uri).is_absolute():
            uri = str(base / uri)
        out[str(key).removeprefix("azureml:")] = uri
    return out


def resolve_path(path: str, *, base_dir: Path | None = None, asset_map: dict[str, str] | None = None) -> str:
    """A dataset URI from a definition's ``path``: assets mapped, relative paths taken from the YAML's folder."""
    if path.startswith("azureml://"):
        raise ConfigurationError(
            f"`{path}` is an Azure ML datastore URI; point `path` at the blob folder instead "
            "(az://<container>/<prefix>/ or abfss://<container>@<account>.dfs.core.windows.net/<prefix>/)"
        )
    if path.startswith("azureml:"):
        key = path.removeprefix("azureml:")
        mapping = asset_map if asset_map is not None else load_asset_map()
        if key not in mapping:
            raise ConfigurationError(
                f"data asset `{path}` is not mapped: add `{path}: <data URI>` to an assets.yaml and set "
                "ASSET_MAP to its path, or write the blob path in the definition instead"
            )
        return mapping[key]
    if is_cloud(path) or Path(path).is_absolute() or base_dir is None:
        return path
    return str((base_dir / path).resolve())


# --------------------------------------------------------------------------------------------------
# Listing files


def storage_options() -> dict[str, str]:
    """polars ``storage_options`` for Blob Storage: a local connection string, else the account name
    (credentials then come from azure-identity's DefaultAzureCredential)."""
    settings = get_settings()
    if settings.storage_connection_string is not None:
        conn = settings.storage_connection_string.get_secret_value()
        parts = dict(p.split("=", 1) for p in conn.split(";") if "=" in p)
        if parts.get("UseDevelopmentStorage", "").lower() == "true":
            return {"use_emulator": "true"}
        options = {"account_name": parts["AccountName"], "account_key": parts["AccountKey"]}
        if "BlobEndpoint" in parts:
            options["endpoint"] = parts["BlobEndpoint"]
            if parts["BlobEndpoint"].startswith("http://"):
                options["allow_http"] = "true"
        return options
    account = settings.data_storage_account
    if not account:
        raise ConfigurationError("reading az:// data needs DATA_STORAGE_ACCOUNT (or STORAGE_CONNECTION_STRING locally)")
    return {"account_name": account}


def split_cloud(uri: str) -> tuple[str, str]:
    """(container, prefix) of an az:// or abfs[s]:// URI."""
    rest = _CLOUD.sub("", uri)
    container, _, prefix = rest.partition("/")
    return container.split("@", 1)[0], prefix
