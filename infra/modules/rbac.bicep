// Every role assignment, each scoped to the one resource that needs it (least privilege).
// Built-in role definition IDs are fixed across all Azure tenants.

@description('Principal (object) ID of the function app\'s user-assigned managed identity.')
param appPrincipalId string

@description('Name of the host storage account (AzureWebJobsStorage).')
param hostStorageAccountName string

@description('Name of the data storage account.')
param dataStorageAccountName string

@description('Name of Application Insights.')
param applicationInsightsName string

@description('Name of the Communication Services resource.')
param communicationServiceName string

@description('Object ID of a user or service principal given Storage Blob Data Contributor on the data account so it can upload monitors and data with --auth-mode login; empty for none.')
param deployerPrincipalId string = ''

@description('Type of deployerPrincipalId.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param deployerPrincipalType string = 'User'

var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  communicationAndEmailServiceOwner: '09976791-48a7-449e-bb21-39d1a415f350'
}

resource hostStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: hostStorageAccountName
}

resource dataStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: dataStorageAccountName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource communicationService 'Microsoft.Communication/communicationServices@2023-04-01' existing = {
  name: communicationServiceName
}

// Host storage: the Functions host and Durable Functions (Azure Storage provider) need blobs
// (Owner: the host manages its containers and leases), queues and tables of the task hub.
resource hostBlobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, appPrincipalId, roles.storageBlobDataOwner)
  scope: hostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource hostQueueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, appPrincipalId, roles.storageQueueDataContributor)
  scope: hostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource hostTableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, appPrincipalId, roles.storageTableDataContributor)
  scope: hostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Data account, blobs: the blob trigger (ingest_blob, source EventGrid, connection DataStorage)
// needs Storage Blob Data Owner on the account of its connection, as the Blob storage bindings'
// identity-based connection roles table says for a trigger (and the official
// functions-quickstart-python-azd-eventgrid-blob sample assigns); the app also reads monitors and
// data, moves uploads out of incoming into data or quarantine, and writes results.
resource dataBlobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(dataStorage.id, appPrincipalId, roles.storageBlobDataOwner)
  scope: dataStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Data account, queues: the same table names Storage Queue Data Contributor with Owner for a blob
// trigger: it writes uploads that failed every retry to its poison queue webjobs-blobtrigger-poison
// on the account of its connection.
resource dataQueueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(dataStorage.id, appPrincipalId, roles.storageQueueDataContributor)
  scope: dataStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Identity-based telemetry ingestion (App Insights local auth is disabled).
resource appInsightsMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, appPrincipalId, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Sending email with Entra ID: the Communication Services docs require a role holding
// Microsoft.Communication/CommunicationServices/Read, .../CommunicationServices/Write and
// Microsoft.Communication/EmailServices/write on the Communication Services resource (Contributor or
// a custom role). Communication and Email Service Owner is the narrowest built-in role holding all
// three (Contributor spans every resource type; a custom role would need a role definition, which
// needs rights at subscription scope that a deployer may not have), and it is scoped to this one
// resource only.
resource communicationEmailSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(communicationService.id, appPrincipalId, roles.communicationAndEmailServiceOwner)
  scope: communicationService
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.communicationAndEmailServiceOwner)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Optional: lets the person (or pipeline) deploying upload monitors and data, since shared keys are off.
resource deployerDataBlobContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(dataStorage.id, deployerPrincipalId, roles.storageBlobDataContributor)
  scope: dataStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
  }
}
