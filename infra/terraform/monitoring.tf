# Log Analytics and workspace-based Application Insights. Local (instrumentation key) auth is off,
# so telemetry is accepted only from the app's managed identity, which holds Monitoring Metrics
# Publisher (rbac.tf) and authenticates through APPLICATIONINSIGHTS_AUTHENTICATION_STRING.
resource "azurerm_log_analytics_workspace" "main" {
  name                = "log-${local.resource_token}"
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  tags                = local.tags
  sku                 = "PerGB2018"
  retention_in_days   = var.log_retention_days
}

resource "azurerm_application_insights" "main" {
  name                          = "appi-${local.resource_token}"
  resource_group_name           = azurerm_resource_group.main.name
  location                      = azurerm_resource_group.main.location
  tags                          = local.tags
  application_type              = "web"
  workspace_id                  = azurerm_log_analytics_workspace.main.id
  local_authentication_disabled = true
}
