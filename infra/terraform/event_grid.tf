# Event Grid system topic on the data account. Its subscription (BlobCreated under incoming/ ->
# the blob extension webhook of ingest_blob) is created by infra/scripts/create-event-subscription.sh
# after the app is deployed: the webhook URL carries the blobs_extension system key, which the
# Functions host only creates once it has loaded a blob trigger with source EventGrid, and Event
# Grid validates the webhook when the subscription is created, so the code must already be running.
resource "azurerm_eventgrid_system_topic" "data" {
  name                = "evgt-${local.resource_token}"
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  tags                = local.tags
  source_resource_id  = azurerm_storage_account.data.id
  topic_type          = "Microsoft.Storage.StorageAccounts"
}
