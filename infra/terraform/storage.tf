# ---------------------------------------------------------------------------------------------
# Host storage for the Functions runtime (AzureWebJobsStorage) and the Flex Consumption deployment
# package. Reached only with the app's managed identity: shared keys are off.
#
# Why each storage service is used on this account:
#   blob  - host locks and timer/scheduler state (azure-webjobs-hosts), blob trigger receipts,
#           Durable Functions large payloads and lease blobs, and the deployment package container
#   queue - Durable Functions control and work-item queues (the task hub)
#   table - Durable Functions history and instance tables (the task hub)
#   file  - not used: Flex Consumption needs no content file share
#
# No access logs here: the account holds only the runtime's own state, whose continuous polling
# would cost more to log than it tells, and only the app's identity holds roles on it.
# ---------------------------------------------------------------------------------------------
resource "azurerm_storage_account" "host" {
  #checkov:skip=CKV_AZURE_35:Flex Consumption without VNet integration reaches host storage over the public endpoint; access is Entra ID only (shared keys off).
  #checkov:skip=CKV_AZURE_59:No VNet integration (Flex Consumption app, Event Grid), so the public endpoint stays on; every request needs an Entra ID token (shared keys off).
  #checkov:skip=CKV_AZURE_206:Host storage holds only runtime state and the deployment package, both rebuilt by a redeploy; LRS is enough.
  #checkov:skip=CKV2_AZURE_33:No VNet to place a private endpoint in (Flex Consumption without VNet integration); access is Entra ID only.
  #checkov:skip=CKV2_AZURE_1:Microsoft-managed keys with infrastructure double encryption; a customer-managed key needs a Key Vault and rotation this template does not own.
  #checkov:skip=CKV_AZURE_33:Host queues are Durable Functions' own polling traffic; logging it would cost more than it tells, and only the app identity has queue access.
  name                = "stfn${local.resource_token}"
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  tags                = local.tags

  account_kind             = "StorageV2"
  account_tier             = "Standard"
  account_replication_type = "LRS"
  access_tier              = "Hot"

  shared_access_key_enabled         = false
  allow_nested_items_to_be_public   = false
  cross_tenant_replication_enabled  = false
  default_to_oauth_authentication   = true
  local_user_enabled                = false
  sftp_enabled                      = false
  min_tls_version                   = "TLS1_2"
  https_traffic_only_enabled        = true
  public_network_access_enabled     = true
  infrastructure_encryption_enabled = true

  network_rules {
    default_action = "Allow"
    bypass         = ["AzureServices"]
  }

  blob_properties {
    delete_retention_policy {
      days = var.host_retention_days
    }
    container_delete_retention_policy {
      days = var.host_retention_days
    }
  }
}

resource "azurerm_storage_container" "deployment" {
  #checkov:skip=CKV2_AZURE_21:The check wants Log Analytics storage insights, which needs the account key (shared keys are off); this container only holds the deployment package.
  name                  = local.deployment_container_name
  storage_account_id    = azurerm_storage_account.host.id
  container_access_type = "private"
}

# ---------------------------------------------------------------------------------------------
# The data account: monitor definitions, datasets, uploads, quarantined uploads and results.
# Nothing is lost: blob versioning keeps every overwritten version and soft delete keeps deleted
# blobs and containers recoverable. Reached only with Entra ID (shared keys off); users upload with
# `az storage blob upload --auth-mode login`. Blob and queue access is logged to Log Analytics.
#
# Why each storage service is used on this account:
#   blob  - the five containers below; the monitoring code reads and writes them with
#           DefaultAzureCredential, and the blob trigger (connection DataStorage) reads `incoming`
#   queue - the blob extension's poison queue (webjobs-blobtrigger-poison) for uploads whose
#           ingest_blob run failed every retry lives on the trigger connection's account,
#           hence DataStorage__queueServiceUri
#   table - not used
#   file  - not used
# ---------------------------------------------------------------------------------------------
locals {
  # monitors: monitor definitions (YAML), read by the scheduler
  # data: validated datasets, one folder per dataset, read by the signals
  # incoming: user uploads; a BlobCreated event under incoming/ fires ingest_blob
  # quarantine: uploads that failed validation, each with <name>.error.json
  # results: run.json, signals/, report.html, alert.json and history.parquet per monitor
  data_container_names = [
    "monitors",
    "data",
    "incoming",
    "quarantine",
    "results",
  ]
}

resource "azurerm_storage_account" "data" {
  #checkov:skip=CKV_AZURE_35:Flex Consumption without VNet integration and Event Grid delivery need the public endpoint; access is Entra ID only (shared keys off).
  #checkov:skip=CKV_AZURE_59:No VNet integration (Flex Consumption app, Event Grid), so the public endpoint stays on; every request needs an Entra ID token (shared keys off).
  #checkov:skip=CKV2_AZURE_33:No VNet to place a private endpoint in (Flex Consumption without VNet integration); access is Entra ID only.
  #checkov:skip=CKV2_AZURE_1:Microsoft-managed keys with infrastructure double encryption; a customer-managed key needs a Key Vault and rotation this template does not own.
  #checkov:skip=CKV_AZURE_33:Queue reads, writes and deletes are logged by the Azure Monitor diagnostic setting data_queue, which replaces classic Storage Analytics logging.
  name                = "stdata${local.resource_token}"
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  tags                = local.tags

  account_kind = "StorageV2"
  account_tier = "Standard"
  # Geo-redundant: monitor definitions, datasets and results survive a regional outage.
  account_replication_type = "GRS"
  access_tier              = "Hot"

  shared_access_key_enabled         = false
  allow_nested_items_to_be_public   = false
  cross_tenant_replication_enabled  = false
  default_to_oauth_authentication   = true
  local_user_enabled                = false
  sftp_enabled                      = false
  min_tls_version                   = "TLS1_2"
  https_traffic_only_enabled        = true
  public_network_access_enabled     = true
  infrastructure_encryption_enabled = true

  network_rules {
    default_action = "Allow"
    bypass         = ["AzureServices"]
  }

  blob_properties {
    versioning_enabled = true
    delete_retention_policy {
      days = var.data_retention_days
    }
    container_delete_retention_policy {
      days = var.data_retention_days
    }
  }
}

resource "azurerm_storage_container" "data" {
  #checkov:skip=CKV2_AZURE_21:The check wants Log Analytics storage insights, which needs the account key (shared keys are off); blob reads are logged by the diagnostic setting data_blob instead.
  for_each = toset(local.data_container_names)

  name                  = each.value
  storage_account_id    = azurerm_storage_account.data.id
  container_access_type = "private"
}

# Every read, write and delete of monitoring data (and of the poison queue) is logged to Log
# Analytics through Azure Monitor, which replaces classic Storage Analytics logging.
resource "azurerm_monitor_diagnostic_setting" "data_blob" {
  name                       = "blob-access-to-log-analytics"
  target_resource_id         = "${azurerm_storage_account.data.id}/blobServices/default"
  log_analytics_workspace_id = azurerm_log_analytics_workspace.main.id

  enabled_log {
    category = "StorageRead"
  }
  enabled_log {
    category = "StorageWrite"
  }
  enabled_log {
    category = "StorageDelete"
  }
}

resource "azurerm_monitor_diagnostic_setting" "data_queue" {
  name                       = "queue-access-to-log-analytics"
  target_resource_id         = "${azurerm_storage_account.data.id}/queueServices/default"
  log_analytics_workspace_id = azurerm_log_analytics_workspace.main.id

  enabled_log {
    category = "StorageRead"
  }
  enabled_log {
    category = "StorageWrite"
  }
  enabled_log {
    category = "StorageDelete"
  }
}
