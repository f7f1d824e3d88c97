# Serverless model monitoring: the same resources as infra/main.bicep, with the azurerm provider.
#
#   terraform -chdir=infra/terraform init
#   terraform -chdir=infra/terraform apply -var environment_name=<name> -var location=<region>
#
# Then deploy the code and run infra/scripts/create-event-subscription.sh (see README.md, section Deploy).

data "azurerm_client_config" "current" {}

resource "azurerm_resource_group" "main" {
  name     = local.resource_group_name
  location = var.location
  tags     = local.tags
}

locals {
  resource_group_name = var.resource_group_name != "" ? var.resource_group_name : "rg-${var.environment_name}"
  # Stable per subscription, group, environment and region, like uniqueString() in the Bicep.
  resource_token = substr(sha256("${data.azurerm_client_config.current.subscription_id}/${local.resource_group_name}/${var.environment_name}/${var.location}"), 0, 13)
  tags = {
    "azd-env-name" = var.environment_name
  }

  function_app_name         = "func-${local.resource_token}"
  deployment_container_name = "app-package-${substr(local.function_app_name, 0, 32)}"
}

# The one user-assigned managed identity the function app uses for everything: host storage, the
# data account (SDK and blob trigger), Communication Services email and Application Insights
# ingestion. Roles are granted in rbac.tf; no key or connection string is ever handed out.
resource "azurerm_user_assigned_identity" "app" {
  name                = "id-${local.resource_token}"
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  tags                = local.tags
}
