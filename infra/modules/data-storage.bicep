// The data account: monitor definitions, datasets, uploads, quarantined uploads and results.
// Nothing is lost: blob versioning keeps every overwritten version and soft delete keeps deleted
// blobs and containers recoverable. Reached only with Entra ID (shared keys off); users upload with
// `az storage blob upload --auth-mode login`. Blob and queue access is logged to Log Analytics.
//
// Why each storage service is used on this account:
//   blob  - the five containers below; the monitoring code reads and writes them with
//           DefaultAzureCredential, and the blob trigger (connection DataStorage) reads `incoming`
//   queue - the blob extension's poison queue (webjobs-blobtrigger-poison) for uploads whose
//           ingest_blob run failed every retry lives on the trigger connection's account,
//           hence DataStorage__queueServiceUri
//   table - not used
//   file  - not used

@description('Name of the data storage account (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region of the account.')
param location string

@description('Tags applied to the account.')
param tags object = {}

@description('Resource ID of the Log Analytics workspace that receives blob and queue access logs.')
param logAnalyticsWorkspaceId string

@description('Days a deleted blob, blob version or container stays recoverable.')
@minValue(1)
@maxValue(365)
param deleteRetentionDays int = 14

// monitors: monitor definitions (YAML), read by the scheduler
// data: validated datasets, one folder per dataset, read by the signals
// incoming: user uploads; a BlobCreated event under incoming/ fires ingest_blob
// quarantine: uploads that failed validation, each with <name>.error.json
// results: run.json, signals/, report.html, alert.json and history.parquet per monitor
var containerNames = [
  'monitors'
  'data'
  'incoming'
  'quarantine'
  'results'
]

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_35:Flex Consumption without VNet integration and Event Grid delivery need the public endpoint; access is Entra ID only (shared keys off).
  // checkov:skip=CKV_AZURE_59:No VNet integration (Flex Consumption app, Event Grid), so the public endpoint stays on; every request needs an Entra ID token (shared keys off).
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    // Geo-redundant: monitor definitions, datasets and results survive a regional outage.
    name: 'Standard_GRS'
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    isLocalUserEnabled: false
    isSftpEnabled: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      services: {
        blob: {
          enabled: true
          keyType: 'Account'
        }
        file: {
          enabled: true
          keyType: 'Account'
        }
        queue: {
          enabled: true
          keyType: 'Account'
        }
        table: {
          enabled: true
          keyType: 'Account'
        }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    isVersioningEnabled: true
    deleteRetentionPolicy: {
      enabled: true
      days: deleteRetentionDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: deleteRetentionDays
    }
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for containerName in containerNames: {
    parent: blobService
    name: containerName
    properties: {
      publicAccess: 'None'
    }
  }
]

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' existing = {
  parent: account
  name: 'default'
}

// Every read, write and delete of monitoring data (and of the poison queue) is logged to Log
// Analytics through Azure Monitor, which replaces classic Storage Analytics logging.
resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'blob-access-to-log-analytics'
  scope: blobService
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        category: 'StorageRead'
        enabled: true
      }
      {
        category: 'StorageWrite'
        enabled: true
      }
      {
        category: 'StorageDelete'
        enabled: true
      }
    ]
  }
}

resource queueDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'queue-access-to-log-analytics'
  scope: queueService
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        category: 'StorageRead'
        enabled: true
      }
      {
        category: 'StorageWrite'
        enabled: true
      }
      {
        category: 'StorageDelete'
        enabled: true
      }
    ]
  }
}

@description('Resource ID of the data storage account.')
output id string = account.id

@description('Name of the data storage account.')
output name string = account.name

@description('Blob endpoint of the data account, ending in a slash.')
output blobEndpoint string = account.properties.primaryEndpoints.blob

@description('Queue endpoint of the data account, ending in a slash.')
output queueEndpoint string = account.properties.primaryEndpoints.queue

@description('Names of the containers on the data account.')
output containerNames array = containerNames
