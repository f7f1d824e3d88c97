# The same names as the outputs of infra/main.bicep, so the post-deploy script reads either.

output "AZURE_LOCATION" {
  description = "Region of the deployment."
  value       = azurerm_resource_group.main.location
}

output "AZURE_RESOURCE_GROUP" {
  description = "Resource group holding every resource."
  value       = azurerm_resource_group.main.name
}

output "AZURE_FUNCTION_APP_NAME" {
  description = "Name of the function app."
  value       = azapi_resource.function_app.name
}

output "AZURE_FUNCTION_APP_URL" {
  description = "HTTPS endpoint of the function app."
  value       = "https://${azapi_resource.function_app.output.properties.defaultHostName}"
}

output "AZURE_CLIENT_ID" {
  description = "Client ID of the app's user-assigned managed identity."
  value       = azurerm_user_assigned_identity.app.client_id
}

output "AZURE_HOST_STORAGE_ACCOUNT" {
  description = "Name of the host storage account (AzureWebJobsStorage)."
  value       = azurerm_storage_account.host.name
}

output "AZURE_DATA_STORAGE_ACCOUNT" {
  description = "Name of the data storage account."
  value       = azurerm_storage_account.data.name
}

output "AZURE_DATA_BLOB_ENDPOINT" {
  description = "Blob endpoint of the data storage account."
  value       = azurerm_storage_account.data.primary_blob_endpoint
}

output "AZURE_DATA_CONTAINERS" {
  description = "Names of the containers on the data account."
  value       = local.data_container_names
}

output "AZURE_EVENTGRID_SYSTEM_TOPIC" {
  description = "Name of the Event Grid system topic on the data account."
  value       = azurerm_eventgrid_system_topic.data.name
}

output "AZURE_APPLICATION_INSIGHTS_NAME" {
  description = "Name of Application Insights."
  value       = azurerm_application_insights.main.name
}

output "ACS_ENDPOINT" {
  description = "Communication Services endpoint used for alert emails."
  value       = local.acs_endpoint
}

output "ACS_SENDER_ADDRESS" {
  description = "Sender address of alert emails."
  value       = local.acs_sender_address
}
