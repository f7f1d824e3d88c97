"""The facts both infrastructure templates declare, read with real parsers.

``infra/main.bicep`` and ``infra/modules/*.bicep`` are parsed with pycep-parser, ``infra/terraform/*.tf``
with python-hcl2 (both in requirements-dev.txt). Each parser yields its own raw tree; the functions
here reduce a tree to the few facts the parity and settings tests compare, in one vocabulary:

- ``containers``: account role (``host``/``data``) -> container name -> public access level
- ``app_settings``: names of the function app's app settings
- ``role_assignments``: (built-in role name, scope, principal, conditional) tuples
- ``storage``: account role -> security and recovery settings
- ``site``: the function app's security and runtime settings
- ``outputs``: output names; ``inventory``: resources counted per kind

Names that are computed (an expression rather than a literal) are recorded as ``<computed>``.
A resource the mappings below do not know makes the reduction fail with its name, so a new kind of
resource has to be added to both templates and to these mappings together.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
TERRAFORM = INFRA / "terraform"
COMPUTED = "<computed>"

# Built-in role definition IDs are the same in every Azure tenant.
BUILTIN_ROLES = {
    "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Queue Data Contributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
    "Storage Table Data Contributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
    "Monitoring Metrics Publisher": "3913510d-42f4-4e42-8a64-420c390055eb",
    "Communication and Email Service Owner": "09976791-48a7-449e-bb21-39d1a415f350",
}
ROLE_BY_ID = {guid: name for name, guid in BUILTIN_ROLES.items()}

# Which storage account is which: Bicep by module file, Terraform by resource name.
BICEP_ACCOUNT_FILES = {"host-storage.bicep": "host", "data-storage.bicep": "data"}
TF_ACCOUNTS = {"host": "host", "data": "data"}

# Role assignment scopes: Bicep by the (existing) resource symbol in rbac.bicep, Terraform by the
# resource whose id is the scope.
BICEP_SCOPES = {
    "hostStorage": ("Microsoft.Storage/storageAccounts", "storage:host"),
    "dataStorage": ("Microsoft.Storage/storageAccounts", "storage:data"),
    "appInsights": ("Microsoft.Insights/components", "app_insights"),
    "communicationService": ("Microsoft.Communication/communicationServices", "communication"),
}
TF_SCOPES = {
    "azurerm_storage_account.host": "storage:host",
    "azurerm_storage_account.data": "storage:data",
    "azurerm_application_insights.main": "app_insights",
    "azurerm_communication_service.main": "communication",
}
BICEP_PRINCIPALS = {"appPrincipalId": "app identity", "deployerPrincipalId": "deployer"}
TF_PRINCIPALS = {
    "azurerm_user_assigned_identity.app.principal_id": "app identity",
    "var.principal_id": "deployer",
}

# Resource kinds, so both templates can be counted in one vocabulary. None: not counted (Bicep
# service singletons configured inline in Terraform, the resource group Bicep deploys into, and
# `existing` references). Containers and role assignments are compared in detail elsewhere.
BICEP_KINDS: dict[str, str | None] = {
    "Microsoft.ManagedIdentity/userAssignedIdentities": "identity",
    "Microsoft.Storage/storageAccounts": "storage account",
    "Microsoft.Storage/storageAccounts/blobServices": None,
    "Microsoft.Storage/storageAccounts/queueServices": None,
    "Microsoft.Storage/storageAccounts/blobServices/containers": "container",
    "Microsoft.Insights/diagnosticSettings": "diagnostic setting",
    "Microsoft.OperationalInsights/workspaces": "log analytics workspace",
    "Microsoft.Insights/components": "application insights",
    "Microsoft.Communication/emailServices": "email service",
    "Microsoft.Communication/emailServices/domains": "email domain",
    "Microsoft.Communication/communicationServices": "communication service",
    "Microsoft.Web/serverfarms": "app service plan",
    "Microsoft.Web/sites": "function app",
    "Microsoft.Web/sites/basicPublishingCredentialsPolicies": "basic auth policy",
    "Microsoft.EventGrid/systemTopics": "event grid system topic",
    "Microsoft.Authorization/roleAssignments": "role assignment",
}
TF_KINDS: dict[str, str | None] = {
    "azurerm_resource_group": None,
    "azurerm_user_assigned_identity": "identity",
    "azurerm_storage_account": "storage account",
    "azurerm_storage_container": "container",
    "azurerm_monitor_diagnostic_setting": "diagnostic setting",
    "azurerm_log_analytics_workspace": "log analytics workspace",
    "azurerm_application_insights": "application insights",
    "azurerm_email_communication_service": "email service",
    "azurerm_email_communication_service_domain": "email domain",
    "azurerm_communication_service": "communication service",
    # Bicep links the domain inside the Communication Services resource (linkedDomains).
    "azurerm_communication_service_email_domain_association": "email domain link",
    "azurerm_service_plan": "app service plan",
    "azurerm_eventgrid_system_topic": "event grid system topic",
    "azurerm_role_assignment": "role assignment",
}
TF_AZAPI_KINDS = {
    "Microsoft.Web/sites": "function app",
    "Microsoft.Web/sites/basicPublishingCredentialsPolicies": "basic auth policy",
}
# azapi_update_resource: properties of a resource that exists anyway (a site's publishing policies).
TF_AZAPI_UPDATE_KINDS = {
    "Microsoft.Web/sites/basicPublishingCredentialsPolicies": "basic auth policy",
}


@dataclass
class TemplateFacts:
    """What one template declares, in the shared vocabulary described in the module docstring."""

    name: str
    containers: dict[str, dict[str, str]] = field(default_factory=dict)
    app_settings: list[str] = field(default_factory=list)
    app_setting_values: dict[str, Any] = field(default_factory=dict)
    role_assignments: set[tuple[str, str, str, bool]] = field(default_factory=set)
    storage: dict[str, dict[str, Any]] = field(default_factory=dict)
    site: dict[str, Any] = field(default_factory=dict)
    app_insights_local_auth_disabled: bool | None = None
    outputs: set[str] = field(default_factory=set)
    inventory: Counter[str] = field(default_factory=Counter)
    undescribed_parameters: list[str] = field(default_factory=list)
    unused_modules: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------------------------
# Bicep (pycep-parser)
# ----------------------------------------------------------------------------------------------


def parse_bicep() -> dict[str, dict[str, Any]]:
    """Parse every Bicep file under infra/; keys are paths relative to infra/."""
    from pycep import BicepParser

    files = sorted(INFRA.glob("*.bicep")) + sorted((INFRA / "modules").glob("*.bicep"))
    return {f.relative_to(INFRA).as_posix(): BicepParser().parse(file_path=f) for f in files}


def _bicep_unwrap(resource: dict[str, Any]) -> tuple[dict[str, Any], bool, dict[str, Any] | None]:
    """Body of a resource, whether it is conditional, and its loop (for `[for x in arr: {...}]`)."""
    config = resource["config"]
    if "config" in config and ("condition" in config or "loop_type" in config):
        return config["config"], config.get("condition") is not None, config.get("loop_type")
    return config, False, None


def _bicep_accessor(expr: Any) -> tuple[str, str] | None:
    """`a.b` as ("a", "b"); anything else None."""
    if isinstance(expr, dict) and expr.get("operator", {}).get("type") == "property_accessor":
        operands = expr["operator"]["operands"]
        if isinstance(operands.get("operand_1"), str) and isinstance(operands.get("operand_2"), str):
            return operands["operand_1"], operands["operand_2"]
    return None


def _bicep_var(tree: dict[str, Any], name: Any) -> Any:
    """Value of variable `name` in this file, or None when `name` is not a variable."""
    if isinstance(name, str) and name in tree.get("variables", {}):
        return tree["variables"][name]["value"]
    return None


def _bicep_loop_names(tree: dict[str, Any], body: dict[str, Any], loop: dict[str, Any] | None) -> list[str]:
    """Names of a resource, expanding `[for item in variable: {name: item}]`."""
    name = body.get("name")
    if loop is not None:
        detail = loop.get("detail", {})
        items = _bicep_var(tree, detail.get("array_name"))
        if isinstance(items, list) and name == detail.get("item_name"):
            return [str(item) for item in items]
        return [COMPUTED]
    if isinstance(name, str) and name not in tree.get("parameters", {}) and name not in tree.get("variables", {}):
        return [name]
    return [COMPUTED]


def bicep_facts(trees: dict[str, dict[str, Any]]) -> TemplateFacts:
    facts = TemplateFacts(name="bicep")
    main = trees["main.bicep"]
    used = {m["detail"]["path"] for m in main.get("modules", {}).values() if m.get("type") == "local"}
    facts.unused_modules = sorted(p for p in trees if p != "main.bicep" and p not in used)
    facts.outputs = set(main.get("outputs", {}))

    for path, tree in trees.items():
        file_name = Path(path).name
        for name, param in tree.get("parameters", {}).items():
            if not any(d.get("type") == "description" and d.get("argument") for d in param.get("decorators", [])):
                facts.undescribed_parameters.append(f"{path}: {name}")

        resources = tree.get("resources", {})
        for symbol, resource in resources.items():
            if resource.get("existing"):
                continue
            rtype = resource["type"]
            body, conditional, loop = _bicep_unwrap(resource)
            props = body.get("properties", {}) or {}
            if rtype not in BICEP_KINDS:
                raise AssertionError(f"{path}: resource {symbol} of unmapped type {rtype}; add it to BICEP_KINDS")
            kind = BICEP_KINDS[rtype]
            names = _bicep_loop_names(tree, body, loop)
            if kind:
                facts.inventory[kind] += len(names)

            if rtype == "Microsoft.Storage/storageAccounts":
                role = BICEP_ACCOUNT_FILES.get(file_name)
                if role is None:
                    raise AssertionError(f"{path}: storage account {symbol} in a file not in BICEP_ACCOUNT_FILES")
                blob = next(
                    (
                        _bicep_unwrap(r)[0].get("properties", {})
                        for r in resources.values()
                        if r["type"] == "Microsoft.Storage/storageAccounts/blobServices" and not r.get("existing")
                    ),
                    {},
                )
                facts.storage[role] = {
                    "shared_key_access": props.get("allowSharedKeyAccess"),
                    "public_blob_access": props.get("allowBlobPublicAccess"),
                    "min_tls": props.get("minimumTlsVersion"),
                    "https_only": props.get("supportsHttpsTrafficOnly"),
                    "local_users": props.get("isLocalUserEnabled"),
                    "infrastructure_encryption": props.get("encryption", {}).get("requireInfrastructureEncryption"),
                    "replication": str(body.get("sku", {}).get("name", "")).removeprefix("Standard_"),
                    "versioning": bool(blob.get("isVersioningEnabled", False)),
                    "blob_soft_delete": bool(blob.get("deleteRetentionPolicy", {}).get("enabled", False)),
                    "container_soft_delete": bool(blob.get("containerDeleteRetentionPolicy", {}).get("enabled", False)),
                }
            elif rtype == "Microsoft.Storage/storageAccounts/blobServices/containers":
                role = BICEP_ACCOUNT_FILES.get(file_name)
                if role is None:
                    raise AssertionError(f"{path}: container {symbol} in a file not in BICEP_ACCOUNT_FILES")
                access = {"None": "private"}.get(props.get("publicAccess"), str(props.get("publicAccess")))
                for container in names:
                    facts.containers.setdefault(role, {})[container] = access
            elif rtype == "Microsoft.Authorization/roleAssignments":
                facts.role_assignments.add(_bicep_role_assignment(path, tree, symbol, body, conditional))
            elif rtype == "Microsoft.Web/sites":
                _bicep_site(facts, tree, body)
            elif rtype == "Microsoft.Web/sites/basicPublishingCredentialsPolicies":
                facts.site[f"basic_auth_{body.get('name')}"] = props.get("allow")
            elif rtype == "Microsoft.Insights/components":
                facts.app_insights_local_auth_disabled = props.get("DisableLocalAuth")
            elif rtype == "Microsoft.Communication/communicationServices":
                facts.inventory["email domain link"] += len(props.get("linkedDomains", []))
    return facts


def _bicep_role_assignment(
    path: str, tree: dict[str, Any], symbol: str, body: dict[str, Any], conditional: bool
) -> tuple[str, str, str, bool]:
    scope_symbol = body.get("scope")
    scope_resource = tree.get("resources", {}).get(scope_symbol, {})
    expected_type, scope = BICEP_SCOPES.get(scope_symbol, (None, f"unknown scope {scope_symbol!r}"))
    if expected_type is not None and scope_resource.get("type") != expected_type:
        scope = f"{scope_symbol!r} is a {scope_resource.get('type')}, expected {expected_type}"
    props = body.get("properties", {})
    role_ref = props.get("roleDefinitionId", {}).get("function", {}).get("parameters", {}).get("resource_name_1")
    accessor = _bicep_accessor(role_ref)
    guid = None
    if accessor is not None:
        table = _bicep_var(tree, accessor[0])
        guid = table.get(accessor[1]) if isinstance(table, dict) else None
    elif isinstance(role_ref, str):
        guid = _bicep_var(tree, role_ref) or role_ref
    role = ROLE_BY_ID.get(str(guid), f"unknown role {guid!r} in {path}:{symbol}")
    principal = BICEP_PRINCIPALS.get(props.get("principalId"), f"unknown principal {props.get('principalId')!r}")
    return role, scope, principal, conditional


def _bicep_site(facts: TemplateFacts, tree: dict[str, Any], body: dict[str, Any]) -> None:
    props = body.get("properties", {})
    site_config = props.get("siteConfig", {})
    settings = site_config.get("appSettings", [])
    if isinstance(settings, str):
        settings = _bicep_var(tree, settings) or []
    facts.app_settings = [s["name"] for s in settings]
    facts.app_setting_values = {s["name"]: s.get("value") for s in settings}
    config = props.get("functionAppConfig", {})
    facts.site.update(_site_common(body.get("kind"), body.get("identity", {}).get("type"), props, site_config, config))


def _site_common(kind: Any, identity: Any, props: dict, site_config: dict, config: dict) -> dict[str, Any]:
    """The function app facts; Bicep and the Terraform azapi body share Microsoft.Web/sites names."""
    scale = config.get("scaleAndConcurrency", {})
    storage = config.get("deployment", {}).get("storage", {})
    return {
        "kind": kind,
        "identity": identity,
        "https_only": props.get("httpsOnly"),
        "client_cert": props.get("clientCertEnabled"),
        "min_tls": site_config.get("minTlsVersion"),
        "scm_min_tls": site_config.get("scmMinTlsVersion"),
        "ftps_state": site_config.get("ftpsState"),
        "remote_debugging": site_config.get("remoteDebuggingEnabled"),
        "runtime": (config.get("runtime", {}).get("name"), config.get("runtime", {}).get("version")),
        "deployment_storage_auth": storage.get("authentication", {}).get("type"),
        "always_ready_groups": sorted(g.get("name") for g in scale.get("alwaysReady", [])),
        "scale_settings": sorted(k for k in scale if k != "alwaysReady"),
    }


# ----------------------------------------------------------------------------------------------
# Terraform (python-hcl2)
# ----------------------------------------------------------------------------------------------


def parse_terraform() -> dict[str, dict[str, Any]]:
    """Parse every .tf file under infra/terraform; keys are file names."""
    import hcl2

    trees = {}
    for f in sorted(TERRAFORM.glob("*.tf")):
        with f.open(encoding="utf-8") as handle:
            trees[f.name] = hcl2.load(handle)
    return trees


def _tf_key(key: str) -> str:
    return key[1:-1] if len(key) >= 2 and key[0] == key[-1] == '"' else key


def _tf(value: Any) -> Any:
    """A literal as Python (strings unquoted); expressions stay as their `${...}` text.

    python-hcl2 7+ keeps the quotes of string literals and wraps expressions in ${...}; older
    releases return bare strings. Both shapes come out the same here.
    """
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    if isinstance(value, dict):
        return {_tf_key(k): _tf(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [_tf(v) for v in value]
    return value


def _tf_block(body: dict[str, Any], name: str) -> dict[str, Any]:
    """First nested block `name` (python-hcl2 gives blocks as one-element lists)."""
    value = body.get(name)
    if isinstance(value, list):
        return value[0] if value else {}
    return value or {}


def _tf_ref(expression: Any) -> str:
    """`${azurerm_x.y.id}` -> `azurerm_x.y`; `${var.z}` -> `var.z`."""
    text = str(expression).strip()
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1]
    return text


def _tf_is_literal(value: Any) -> bool:
    return not (isinstance(value, str) and "${" in value)


def tf_resources(trees: dict[str, dict[str, Any]]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(file, type, name, body) for every resource, with literals unquoted."""
    found = []
    for file_name, tree in trees.items():
        for entry in tree.get("resource", []):
            for rtype, named in entry.items():
                for name, body in named.items():
                    found.append((file_name, _tf_key(rtype), _tf_key(name), _tf(body)))
    return found


def tf_locals(trees: dict[str, dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for tree in trees.values():
        for block in tree.get("locals", []):
            merged.update(_tf(block))
    return merged


def terraform_facts(trees: dict[str, dict[str, Any]]) -> TemplateFacts:
    facts = TemplateFacts(name="terraform")
    local_values = tf_locals(trees)
    for tree in trees.values():
        for entry in tree.get("output", []):
            facts.outputs.update(_tf_key(k) for k in entry)
        for entry in tree.get("variable", []):
            for name, body in entry.items():
                if not _tf(body).get("description"):
                    facts.undescribed_parameters.append(f"variable {_tf_key(name)}")

    resources = tf_resources(trees)
    for file_name, rtype, name, body in resources:
        address = f"{rtype}.{name}"
        if rtype in ("azapi_resource", "azapi_update_resource"):
            api_type = str(body.get("type", "")).split("@")[0]
            kinds = TF_AZAPI_KINDS if rtype == "azapi_resource" else TF_AZAPI_UPDATE_KINDS
            if api_type not in kinds:
                raise AssertionError(f"{file_name}: {address} of unmapped azapi type {api_type}; add it to TF_AZAPI_*")
            facts.inventory[kinds[api_type]] += 1
            azapi_body = body.get("body", {})
            if api_type == "Microsoft.Web/sites":
                _tf_site(facts, body, azapi_body, local_values)
            else:
                facts.site[f"basic_auth_{body.get('name')}"] = azapi_body.get("properties", {}).get("allow")
            continue
        if rtype not in TF_KINDS:
            raise AssertionError(f"{file_name}: {address} of unmapped type {rtype}; add it to TF_KINDS")
        kind = TF_KINDS[rtype]
        conditional = "count" in body or "for_each" in body

        if rtype == "azurerm_storage_container":
            names = [body.get("name")]
            for_each = body.get("for_each")
            if for_each is not None:
                match = re.search(r"local\.(\w+)", str(for_each))
                items = local_values.get(match.group(1)) if match else None
                names = list(items) if isinstance(items, list) and body.get("name") == "${each.value}" else [COMPUTED]
            names = [n if _tf_is_literal(n) else COMPUTED for n in names]
            account = _tf_ref(body.get("storage_account_id")).removesuffix(".id").split(".")[-1]
            role = TF_ACCOUNTS.get(account, f"unknown account {account!r}")
            for container in names:
                facts.containers.setdefault(role, {})[container] = body.get("container_access_type", "private")
            facts.inventory[kind] += len(names)
            continue
        if kind:
            facts.inventory[kind] += 1

        if rtype == "azurerm_storage_account":
            role = TF_ACCOUNTS.get(name)
            if role is None:
                raise AssertionError(f"{file_name}: {address} is not in TF_ACCOUNTS")
            blob = _tf_block(body, "blob_properties")
            facts.storage[role] = {
                "shared_key_access": body.get("shared_access_key_enabled", True),
                "public_blob_access": body.get("allow_nested_items_to_be_public", True),
                "min_tls": body.get("min_tls_version"),
                "https_only": body.get("https_traffic_only_enabled", True),
                "local_users": body.get("local_user_enabled", True),
                "infrastructure_encryption": body.get("infrastructure_encryption_enabled", False),
                "replication": body.get("account_replication_type"),
                "versioning": bool(blob.get("versioning_enabled", False)),
                "blob_soft_delete": bool(_tf_block(blob, "delete_retention_policy")),
                "container_soft_delete": bool(_tf_block(blob, "container_delete_retention_policy")),
            }
        elif rtype == "azurerm_role_assignment":
            scope_ref = _tf_ref(body.get("scope")).removesuffix(".id")
            scope = TF_SCOPES.get(scope_ref, f"unknown scope {scope_ref!r}")
            role = body.get("role_definition_name")
            if role not in BUILTIN_ROLES:
                role = f"unknown role {role!r} in {address}"
            principal_ref = _tf_ref(body.get("principal_id"))
            principal = TF_PRINCIPALS.get(principal_ref, f"unknown principal {principal_ref!r}")
            facts.role_assignments.add((role, scope, principal, conditional))
        elif rtype == "azurerm_application_insights":
            facts.app_insights_local_auth_disabled = body.get("local_authentication_disabled", False)
    return facts


def _tf_site(
    facts: TemplateFacts, resource: dict[str, Any], body: dict[str, Any], local_values: dict[str, Any]
) -> None:
    props = body.get("properties", {})
    site_config = props.get("siteConfig", {})
    settings = site_config.get("appSettings", [])
    if isinstance(settings, str):
        # `[for name, value in local.app_settings : {name = name, value = value}]`
        match = re.search(r"local\.(\w+)", settings)
        mapping = local_values.get(match.group(1), {}) if match else {}
        settings = [{"name": k, "value": v} for k, v in mapping.items()]
    facts.app_settings = [s["name"] for s in settings]
    facts.app_setting_values = {s["name"]: s.get("value") for s in settings}
    identity = _tf_block(resource, "identity")
    config = props.get("functionAppConfig", {})
    facts.site.update(_site_common(body.get("kind"), identity.get("type"), props, site_config, config))


# ----------------------------------------------------------------------------------------------
# Fixtures
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def bicep() -> TemplateFacts:
    return bicep_facts(parse_bicep())


@pytest.fixture(scope="session")
def terraform() -> TemplateFacts:
    return terraform_facts(parse_terraform())
