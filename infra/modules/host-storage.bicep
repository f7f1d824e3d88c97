// Host storage for the Functions runtime (AzureWebJobsStorage) and the Flex Consumption deployment
// package. Reached only with the app's managed identity: shared keys are off.
//
// Why each storage service is used on this account:
//   blob  - host locks and timer/scheduler state (azure-webjobs-hosts), blob trigger receipts,
//           Durable Functions large payloads and lease blobs, and the deployment package container
//   queue - Durable Functions control and work-item queues (the task hub)
//   table - Durable Functions history and instance tables (the task hub)
//   file  - not used: Flex Consumption needs no content file share
//
// No access logs here: the account holds only the runtime's own state, whose continuous polling
// would cost more to log than it tells, and only the app's identity holds roles on it.

@description('Name of the host storage account (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region of the account.')
param location string

@description('Tags applied to the account.')
param tags object = {}

@description('Name of the blob container that holds the Flex Consumption deployment package.')
param deploymentContainerName string

@description('Days a deleted blob or container stays recoverable.')
@minValue(1)
@maxValue(365)
param deleteRetentionDays int = 7

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_35:Flex Consumption without VNet integration reaches host storage over the public endpoint; access is Entra ID only (shared keys off).
  // checkov:skip=CKV_AZURE_59:No VNet integration (Flex Consumption app, Event Grid), so the public endpoint stays on; every request needs an Entra ID token (shared keys off).
  // checkov:skip=CKV_AZURE_206:Host storage holds only runtime state and the deployment package, both rebuilt by a redeploy; LRS is enough.
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
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

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

@description('Resource ID of the host storage account.')
output id string = account.id

@description('Name of the host storage account.')
output name string = account.name

@description('Blob endpoint of the host storage account, ending in a slash.')
output blobEndpoint string = account.properties.primaryEndpoints.blob

@description('Name of the deployment package container.')
output deploymentContainerName string = deploymentContainer.name
