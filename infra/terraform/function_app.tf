# The function app on a Flex Consumption (FC1) plan, Python 3.11, running as the user-assigned
# identity. Every app setting the code reads (monitoring/settings.py, azure=True) is set here from
# resources and variables; none holds a key or a connection string.

resource "azurerm_service_plan" "main" {
  #checkov:skip=CKV_AZURE_225:Zone-redundant Flex Consumption plans exist only in some regions; a scheduled batch workload resumes from Durable state after a zonal outage.
  #checkov:skip=CKV_AZURE_212:Flex Consumption scales instances itself; the durable group keeps always-ready instances (durable_always_ready).
  name                = "plan-${local.resource_token}"
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  tags                = local.tags
  os_type             = "Linux"
  sku_name            = "FC1"
}

locals {
  # The complete set of app settings. Flex Consumption derives the runtime from functionAppConfig,
  # so FUNCTIONS_WORKER_RUNTIME and FUNCTIONS_EXTENSION_VERSION are deliberately absent.
  app_settings = {
    # Host storage through the identity (no AzureWebJobsStorage connection string).
    AzureWebJobsStorage__accountName = azurerm_storage_account.host.name
    AzureWebJobsStorage__credential  = "managedidentity"
    AzureWebJobsStorage__clientId    = azurerm_user_assigned_identity.app.client_id
    # Telemetry through the identity (App Insights local auth is disabled). The connection string
    # identifies the ingestion endpoint; with local auth off it cannot send telemetry by itself.
    APPLICATIONINSIGHTS_CONNECTION_STRING     = azurerm_application_insights.main.connection_string
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING = "ClientId=${azurerm_user_assigned_identity.app.client_id};Authorization=AAD"
    # DefaultAzureCredential in the monitoring code picks the user-assigned identity by this.
    AZURE_CLIENT_ID      = azurerm_user_assigned_identity.app.client_id
    DATA_STORAGE_ACCOUNT = azurerm_storage_account.data.name
    # Blob trigger connection `DataStorage` (ingest_blob, source EventGrid, path incoming/{name}).
    DataStorage__blobServiceUri  = azurerm_storage_account.data.primary_blob_endpoint
    DataStorage__queueServiceUri = azurerm_storage_account.data.primary_queue_endpoint
    DataStorage__credential      = "managedidentity"
    DataStorage__clientId        = azurerm_user_assigned_identity.app.client_id
    TASKHUB_NAME                 = var.task_hub_name
    SCHEDULER_SCHEDULE           = var.scheduler_schedule
    FEATURES_PER_ACTIVITY        = tostring(var.features_per_activity)
    ACTIVITY_MEMORY_MB           = tostring(var.activity_memory_mb)
    ALERT_RETRY_HOURS            = "24"
    ALERT_STUCK_MINUTES          = "15"
    DATA_CONTAINERS              = "data,incoming"
    INGEST_MAX_ROWS              = "10000000"
    INGEST_MAX_DECODED_MB        = "1024"
    ACS_ENDPOINT                 = local.acs_endpoint
    ACS_SENDER_ADDRESS           = local.acs_sender_address
    ALERT_DEFAULT_RECIPIENTS     = var.alert_default_recipients
    REPORT_URL_PATTERN           = var.report_url_pattern
    MDC_ROOT                     = var.mdc_root
  }
}

# azapi rather than azurerm_function_app_flex_consumption: with an identity for host storage, that
# resource adds an AzureWebJobsStorage app setting the host then tries to use as a connection string
# (hashicorp/terraform-provider-azurerm#29693, #29149, #33211), so the app would fail to start or
# never converge. This body is the same Microsoft.Web/sites resource as modules/function-app.bicep.
resource "azapi_resource" "function_app" {
  type      = "Microsoft.Web/sites@2024-04-01"
  name      = local.function_app_name
  parent_id = azurerm_resource_group.main.id
  location  = azurerm_resource_group.main.location
  tags = merge(local.tags, {
    "azd-service-name" = "api"
  })

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.app.id]
  }

  body = {
    kind = "functionapp,linux"
    properties = {
      serverFarmId        = azurerm_service_plan.main.id
      httpsOnly           = true
      clientCertEnabled   = false
      publicNetworkAccess = "Enabled"
      # No ftpsState (nor any other property of the "Flex Consumption plan deprecations" table in the
      # Functions app settings reference): ARM rejects it on Flex sites (error 51021). FTP stays off
      # through the ftp basicPublishingCredentialsPolicies below.
      siteConfig = {
        appSettings            = [for name, value in local.app_settings : { name = name, value = value }]
        minTlsVersion          = "1.2"
        scmMinTlsVersion       = "1.2"
        http20Enabled          = true
        remoteDebuggingEnabled = false
      }
      functionAppConfig = {
        deployment = {
          storage = {
            type  = "blobContainer"
            value = "${azurerm_storage_account.host.primary_blob_endpoint}${azurerm_storage_container.deployment.name}"
            authentication = {
              type                           = "UserAssignedIdentity"
              userAssignedIdentityResourceId = azurerm_user_assigned_identity.app.id
            }
          }
        }
        scaleAndConcurrency = {
          instanceMemoryMB     = var.instance_memory_mb
          maximumInstanceCount = var.maximum_instance_count
          alwaysReady = [
            {
              name          = "durable"
              instanceCount = var.durable_always_ready
            }
          ]
        }
        runtime = {
          name    = "python"
          version = "3.11"
        }
      }
    }
  }

  response_export_values = ["properties.defaultHostName"]

  # The host must not start before it may read its storage, and alerts need the linked domain.
  depends_on = [
    azurerm_communication_service_email_domain_association.main,
    azurerm_role_assignment.host_blob_owner,
    azurerm_role_assignment.host_queue_contributor,
    azurerm_role_assignment.host_table_contributor,
    azurerm_role_assignment.data_blob_owner,
    azurerm_role_assignment.data_queue_contributor,
    azurerm_role_assignment.app_insights_metrics_publisher,
  ]
}

# No publishing with basic (user name and password) credentials: azd and the Azure CLI deploy to
# Flex Consumption with Entra ID. Both policies exist with every site, so they are updated in place
# (an azapi_resource would fail to create them: "Resource already exists ... needs to be imported").
resource "azapi_update_resource" "scm_basic_auth" {
  type      = "Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01"
  name      = "scm"
  parent_id = azapi_resource.function_app.id
  body = {
    properties = {
      allow = false
    }
  }
}

resource "azapi_update_resource" "ftp_basic_auth" {
  type      = "Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01"
  name      = "ftp"
  parent_id = azapi_resource.function_app.id
  body = {
    properties = {
      allow = false
    }
  }
}
