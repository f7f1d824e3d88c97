terraform {
  required_version = ">= 1.6"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = ">= 4.20, < 5.0"
    }
    # The function app itself is an azapi resource: see function_app.tf for why.
    azapi = {
      source  = "Azure/azapi"
      version = ">= 2.0, < 3.0"
    }
  }
}

provider "azurerm" {
  features {}

  # Null falls back to ARM_SUBSCRIPTION_ID or the Azure CLI's current subscription.
  subscription_id = var.subscription_id

  # Shared keys are off on both storage accounts, so the provider reaches storage data planes with
  # Entra ID too.
  storage_use_azuread = true
}

provider "azapi" {}
