# Azure Communication Services for alert emails: an Email Communication Service with an
# Azure-managed domain (DoNotReply@<guid>.azurecomm.net), linked to a Communication Services
# resource whose endpoint the app calls with its managed identity (role in rbac.tf).
resource "azurerm_email_communication_service" "main" {
  name                = "ecs-${local.resource_token}"
  resource_group_name = azurerm_resource_group.main.name
  data_location       = var.email_data_location
  tags                = local.tags
}

resource "azurerm_email_communication_service_domain" "managed" {
  # An Azure-managed domain must be named exactly this.
  name                             = "AzureManagedDomain"
  email_service_id                 = azurerm_email_communication_service.main.id
  domain_management                = "AzureManaged"
  user_engagement_tracking_enabled = false
  tags                             = local.tags
}

resource "azurerm_communication_service" "main" {
  name                = "acs-${local.resource_token}"
  resource_group_name = azurerm_resource_group.main.name
  data_location       = var.email_data_location
  tags                = local.tags
}

resource "azurerm_communication_service_email_domain_association" "main" {
  communication_service_id = azurerm_communication_service.main.id
  email_service_domain_id  = azurerm_email_communication_service_domain.managed.id
}

locals {
  acs_endpoint       = "https://${azurerm_communication_service.main.hostname}"
  acs_sender_address = "DoNotReply@${azurerm_email_communication_service_domain.managed.mail_from_sender_domain}"
}
