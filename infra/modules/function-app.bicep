// The function app on a Flex Consumption (FC1) plan, Python 3.11, running as the user-assigned
// identity. Every app setting the code reads (monitoring/settings.py, azure=True) is set here from
// resources and parameters; none holds a key or a connection string.

@description('Name of the function app (at most 32 characters keeps the Functions host ID unique).')
@maxLength(32)
param name string

@description('Name of the Flex Consumption plan.')
param planName string

@description('Azure region of the plan and the app.')
param location string

@description('Tags applied to the plan and the app; the app also gets azd-service-name.')
param tags object = {}

@description('Service name in azure.yaml that azd deploys to this app.')
param azdServiceName string = 'api'

@description('Resource ID of the user-assigned managed identity.')
param identityId string

@description('Client ID of the user-assigned managed identity.')
param identityClientId string

@description('Name of the host storage account (AzureWebJobsStorage).')
param hostStorageAccountName string

@description('Blob endpoint of the host storage account, ending in a slash.')
param hostBlobEndpoint string

@description('Name of the deployment package container on the host storage account.')
param deploymentContainerName string

@description('Name of the data storage account.')
param dataStorageAccountName string

@description('Blob endpoint of the data storage account, ending in a slash.')
param dataBlobEndpoint string

@description('Queue endpoint of the data storage account, ending in a slash.')
param dataQueueEndpoint string

@description('Application Insights connection string (an endpoint identifier; local auth is disabled).')
param applicationInsightsConnectionString string

@description('Communication Services endpoint, https://<name>.<geo>.communication.azure.com.')
param acsEndpoint string

@description('Sender address of the linked email domain.')
param acsSenderAddress string

@description('Memory of each instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Upper bound of instances the app scales out to (per scale group): Flex Consumption allows 40 to 1000, default 100.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Always-ready instances of the durable group (orchestrators, activities and entities).')
@minValue(0)
param durableAlwaysReady int = 1

@description('Durable Functions task hub name (TASKHUB_NAME).')
param taskHubName string = 'monitoring'

@description('Six-field NCRONTAB schedule, UTC, of the scheduler timer (SCHEDULER_SCHEDULE).')
param schedulerSchedule string = '0 */5 * * * *'

@description('Features computed per compute_signal activity (FEATURES_PER_ACTIVITY).')
@minValue(1)
param featuresPerActivity int = 32

@description('Memory budget of one compute_signal activity in MiB (ACTIVITY_MEMORY_MB); with host.json\'s two concurrent activities and the host\'s share it must fit instanceMemoryMB.')
@minValue(1)
param activityMemoryMb int = 768

@description('Comma-separated recipients for monitors without emails (ALERT_DEFAULT_RECIPIENTS).')
param alertDefaultRecipients string = ''

@description('Link to a run\'s folder in alert emails, with {monitor} and {fire_time} (REPORT_URL_PATTERN).')
param reportUrlPattern string = ''

@description('Root URI of Azure ML model data collector output for endpoint targets (MDC_ROOT).')
param mdcRoot string = ''

// The complete set of app settings. Flex Consumption derives the runtime from functionAppConfig, so
// FUNCTIONS_WORKER_RUNTIME and FUNCTIONS_EXTENSION_VERSION are deliberately absent.
var appSettings = [
  // Host storage through the identity (no AzureWebJobsStorage connection string).
  {
    name: 'AzureWebJobsStorage__accountName'
    value: hostStorageAccountName
  }
  {
    name: 'AzureWebJobsStorage__credential'
    value: 'managedidentity'
  }
  {
    name: 'AzureWebJobsStorage__clientId'
    value: identityClientId
  }
  // Telemetry through the identity (App Insights local auth is disabled).
  {
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
    value: applicationInsightsConnectionString
  }
  {
    name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
    value: 'ClientId=${identityClientId};Authorization=AAD'
  }
  // DefaultAzureCredential in the monitoring code picks the user-assigned identity by this.
  {
    name: 'AZURE_CLIENT_ID'
    value: identityClientId
  }
  {
    name: 'DATA_STORAGE_ACCOUNT'
    value: dataStorageAccountName
  }
  // Blob trigger connection `DataStorage` (ingest_blob, source EventGrid, path incoming/{name}).
  {
    name: 'DataStorage__blobServiceUri'
    value: dataBlobEndpoint
  }
  {
    name: 'DataStorage__queueServiceUri'
    value: dataQueueEndpoint
  }
  {
    name: 'DataStorage__credential'
    value: 'managedidentity'
  }
  {
    name: 'DataStorage__clientId'
    value: identityClientId
  }
  {
    name: 'TASKHUB_NAME'
    value: taskHubName
  }
  {
    name: 'SCHEDULER_SCHEDULE'
    value: schedulerSchedule
  }
  {
    name: 'FEATURES_PER_ACTIVITY'
    value: string(featuresPerActivity)
  }
  {
    name: 'ACTIVITY_MEMORY_MB'
    value: string(activityMemoryMb)
  }
  {
    name: 'ALERT_RETRY_HOURS'
    value: '24'
  }
  {
    name: 'ALERT_STUCK_MINUTES'
    value: '15'
  }
  {
    name: 'DATA_CONTAINERS'
    value: 'data,incoming'
  }
  {
    name: 'INGEST_MAX_ROWS'
    value: '10000000'
  }
  {
    name: 'INGEST_MAX_DECODED_MB'
    value: '1024'
  }
  {
    name: 'ACS_ENDPOINT'
    value: acsEndpoint
  }
  {
    name: 'ACS_SENDER_ADDRESS'
    value: acsSenderAddress
  }
  {
    name: 'ALERT_DEFAULT_RECIPIENTS'
    value: alertDefaultRecipients
  }
  {
    name: 'REPORT_URL_PATTERN'
    value: reportUrlPattern
  }
  {
    name: 'MDC_ROOT'
    value: mdcRoot
  }
]

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  // checkov:skip=CKV_AZURE_225:Zone-redundant Flex Consumption plans exist only in some regions; a scheduled batch workload resumes from Durable state after a zonal outage.
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  // checkov:skip=CKV_AZURE_17:Client certificates would reject Event Grid deliveries to the blob extension webhook.
  // checkov:skip=CKV_AZURE_222:Event Grid delivers BlobCreated events to the public webhook; there is no VNet integration.
  // checkov:skip=CKV_AZURE_212:Flex Consumption scales instances itself; the durable group keeps always-ready instances (durableAlwaysReady).
  // checkov:skip=CKV_AZURE_78:Flex Consumption rejects siteConfig.ftpsState (deprecations table, ARM error 51021); the ftp basicPublishingCredentialsPolicies below disables FTP.
  // checkov:skip=CKV_AZURE_213:A health check needs an anonymous HTTP route; every HTTP function here requires a function key, and failures surface in Application Insights.
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': azdServiceName
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    publicNetworkAccess: 'Enabled'
    // No ftpsState (nor any other property of the "Flex Consumption plan deprecations" table in the
    // Functions app settings reference): ARM rejects it on Flex sites (error 51021). FTP stays off
    // through the ftp basicPublishingCredentialsPolicies below.
    siteConfig: {
      appSettings: appSettings
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      http20Enabled: true
      remoteDebuggingEnabled: false
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${hostBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        alwaysReady: [
          {
            name: 'durable'
            instanceCount: durableAlwaysReady
          }
        ]
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }
}

// No publishing with basic (user name and password) credentials: azd and the Azure CLI deploy to
// Flex Consumption with Entra ID.
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

@description('Name of the function app.')
output name string = site.name

@description('Default host name of the function app.')
output defaultHostName string = site.properties.defaultHostName
