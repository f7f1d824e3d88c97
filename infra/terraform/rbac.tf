# Every role assignment, each scoped to the one resource that needs it (least privilege).

# Host storage: the Functions host and Durable Functions (Azure Storage provider) need blobs
# (Owner: the host manages its containers and leases), queues and tables of the task hub.
resource "azurerm_role_assignment" "host_blob_owner" {
  scope                = azurerm_storage_account.host.id
  role_definition_name = "Storage Blob Data Owner"
  principal_id         = azurerm_user_assigned_identity.app.principal_id
  principal_type       = "ServicePrincipal"
}

resource "azurerm_role_assignment" "host_queue_contributor" {
  scope                = azurerm_storage_account.host.id
  role_definition_name = "Storage Queue Data Contributor"
  principal_id         = azurerm_user_assigned_identity.app.principal_id
  principal_type       = "ServicePrincipal"
}

resource "azurerm_role_assignment" "host_table_contributor" {
  scope                = azurerm_storage_account.host.id
  role_definition_name = "Storage Table Data Contributor"
  principal_id         = azurerm_user_assigned_identity.app.principal_id
  principal_type       = "ServicePrincipal"
}

# Data account, blobs: the blob trigger (ingest_blob, source EventGrid, connection DataStorage)
# needs Storage Blob Data Owner on the account of its connection, as the Blob storage bindings'
# identity-based connection roles table says for a trigger (and the official
# functions-quickstart-python-azd-eventgrid-blob sample assigns); the app also reads monitors and
# data, moves uploads out of incoming into data or quarantine, and writes results.
resource "azurerm_role_assignment" "data_blob_owner" {
  scope                = azurerm_storage_account.data.id
  role_definition_name = "Storage Blob Data Owner"
  principal_id         = azurerm_user_assigned_identity.app.principal_id
  principal_type       = "ServicePrincipal"
}

# Data account, queues: the same table names Storage Queue Data Contributor with Owner for a blob
# trigger: it writes uploads that failed every retry to its poison queue webjobs-blobtrigger-poison
# on the account of its connection.
resource "azurerm_role_assignment" "data_queue_contributor" {
  scope                = azurerm_storage_account.data.id
  role_definition_name = "Storage Queue Data Contributor"
  principal_id         = azurerm_user_assigned_identity.app.principal_id
  principal_type       = "ServicePrincipal"
}

# Identity-based telemetry ingestion (App Insights local auth is disabled).
resource "azurerm_role_assignment" "app_insights_metrics_publisher" {
  scope                = azurerm_application_insights.main.id
  role_definition_name = "Monitoring Metrics Publisher"
  principal_id         = azurerm_user_assigned_identity.app.principal_id
  principal_type       = "ServicePrincipal"
}

# Sending email with Entra ID: the Communication Services docs require a role holding
# Microsoft.Communication/CommunicationServices/Read, .../CommunicationServices/Write and
# Microsoft.Communication/EmailServices/write on the Communication Services resource (Contributor or
# a custom role). Communication and Email Service Owner is the narrowest built-in role holding all
# three (Contributor spans every resource type; a custom role would need a role definition, which
# needs rights at subscription scope that a deployer may not have), and it is scoped to this one
# resource only.
resource "azurerm_role_assignment" "communication_email_sender" {
  scope                = azurerm_communication_service.main.id
  role_definition_name = "Communication and Email Service Owner"
  principal_id         = azurerm_user_assigned_identity.app.principal_id
  principal_type       = "ServicePrincipal"
}

# Optional: lets the person (or pipeline) deploying upload monitors and data, since shared keys are off.
resource "azurerm_role_assignment" "deployer_data_blob_contributor" {
  count = var.principal_id != "" ? 1 : 0

  scope                = azurerm_storage_account.data.id
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = var.principal_id
  principal_type       = var.principal_type
}
