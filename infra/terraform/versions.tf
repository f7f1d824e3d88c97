terraform {
  required_version = ">= 1.6"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = ">= 4.21, < 5.0"
    }
    # The function app itself is an azapi resource: see function_app.tf for why.
    azapi = {
      source  = "Azure/azapi"
      version = ">= 2.0, < 3.0"
    }
  }
}

provider "azurerm" {
  features {
    storage {
      # Shared keys are off, so everything about storage (accounts, blob properties, containers by
      # storage_account_id) goes through Azure Resource Manager; the provider never probes the
      # queue or blob data plane, which would need a data role for whoever runs Terraform.
      data_plane_available = false
    }
  }

  # Null falls back to ARM_SUBSCRIPTION_ID or the Azure CLI's current subscription.
  subscription_id = var.subscription_id

  # Should any data-plane call remain, it uses Entra ID rather than the (disabled) account key.
  storage_use_azuread = true
}

provider "azapi" {}
