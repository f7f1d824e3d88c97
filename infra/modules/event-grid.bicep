// Event Grid system topic on the data account. Its subscription (BlobCreated under incoming/ ->
// the blob extension webhook of ingest_blob) is created by infra/scripts/create-event-subscription.sh
// after the app is deployed: the webhook URL carries the blobs_extension system key, which the
// Functions host only creates once it has loaded a blob trigger with source EventGrid, and Event
// Grid validates the webhook when the subscription is created, so the code must already be running.

@description('Name of the Event Grid system topic.')
param name string

@description('Azure region of the topic; must be the data account\'s region.')
param location string

@description('Tags applied to the topic.')
param tags object = {}

@description('Name of the data storage account whose blob events the topic publishes.')
param dataStorageAccountName string

resource dataStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: dataStorageAccountName
}

resource systemTopic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: name
  location: location
  tags: tags
  properties: {
    source: dataStorage.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

@description('Name of the system topic, used by the post-deploy script.')
output name string = systemTopic.name
