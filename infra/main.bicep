// Serverless model monitoring: everything one deployment needs, in one resource group.
//
//   azd up                                  (azure.yaml; parameters from main.parameters.json)
//   az deployment group create -g <rg> -f infra/main.bicep -p environmentName=<name>
//
// Then, once the code is deployed, infra/scripts/create-event-subscription.sh creates the Event
// Grid subscription for uploads (azd runs it as the postdeploy hook). See README.md, section Deploy.
targetScope = 'resourceGroup'

@description('Name of the environment (azd environment name); part of every resource name and the azd-env-name tag.')
@minLength(1)
@maxLength(64)
param environmentName string

@description('Azure region of all regional resources; must offer Flex Consumption.')
@minLength(1)
param location string = resourceGroup().location

@description('Object ID of the user or service principal allowed to upload monitors and data (Storage Blob Data Contributor on the data account); azd passes the signed-in user; empty for none.')
param principalId string = ''

@description('Type of principalId: User for a person, ServicePrincipal for a pipeline.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param principalType string = 'User'

@description('Memory of each function app instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Upper bound of instances the function app scales out to (per scale group): Flex Consumption allows 40 to 1000, default 100.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Always-ready instances of the durable group, so scheduled runs start without a cold start.')
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

@description('Comma-separated email recipients for monitors that list none (ALERT_DEFAULT_RECIPIENTS).')
param alertDefaultRecipients string = ''

@description('Link to a run\'s folder in alert emails, with {monitor} and {fire_time} (REPORT_URL_PATTERN).')
param reportUrlPattern string = ''

@description('Root URI of Azure ML model data collector output for endpoint targets (MDC_ROOT).')
param mdcRoot string = ''

@description('Where Communication Services stores data at rest, e.g. "United States" or "Europe".')
param emailDataLocation string = 'United States'

@description('Days a deleted or overwritten blob on the data account stays recoverable.')
@minValue(1)
@maxValue(365)
param dataRetentionDays int = 14

var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var functionAppName = 'func-${resourceToken}'
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}'

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    name: 'id-${resourceToken}'
    location: location
    tags: tags
  }
}

module hostStorage 'modules/host-storage.bicep' = {
  name: 'host-storage'
  params: {
    name: 'stfn${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
  }
}

module dataStorage 'modules/data-storage.bicep' = {
  name: 'data-storage'
  params: {
    name: 'stdata${resourceToken}'
    location: location
    tags: tags
    deleteRetentionDays: dataRetentionDays
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
  }
}

module communication 'modules/communication.bicep' = {
  name: 'communication'
  params: {
    communicationServiceName: 'acs-${resourceToken}'
    emailServiceName: 'ecs-${resourceToken}'
    dataLocation: emailDataLocation
    tags: tags
  }
}

module rbac 'modules/rbac.bicep' = {
  name: 'rbac'
  params: {
    appPrincipalId: identity.outputs.principalId
    hostStorageAccountName: hostStorage.outputs.name
    dataStorageAccountName: dataStorage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    communicationServiceName: communication.outputs.name
    deployerPrincipalId: principalId
    deployerPrincipalType: principalType
  }
}

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  params: {
    name: functionAppName
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    hostStorageAccountName: hostStorage.outputs.name
    hostBlobEndpoint: hostStorage.outputs.blobEndpoint
    deploymentContainerName: hostStorage.outputs.deploymentContainerName
    dataStorageAccountName: dataStorage.outputs.name
    dataBlobEndpoint: dataStorage.outputs.blobEndpoint
    dataQueueEndpoint: dataStorage.outputs.queueEndpoint
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    acsEndpoint: communication.outputs.endpoint
    acsSenderAddress: communication.outputs.senderAddress
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    durableAlwaysReady: durableAlwaysReady
    taskHubName: taskHubName
    schedulerSchedule: schedulerSchedule
    featuresPerActivity: featuresPerActivity
    activityMemoryMb: activityMemoryMb
    alertDefaultRecipients: alertDefaultRecipients
    reportUrlPattern: reportUrlPattern
    mdcRoot: mdcRoot
  }
  // The host must not start before it may read its storage.
  dependsOn: [
    rbac
  ]
}

module eventGrid 'modules/event-grid.bicep' = {
  name: 'event-grid'
  params: {
    name: 'evgt-${resourceToken}'
    location: location
    tags: tags
    dataStorageAccountName: dataStorage.outputs.name
  }
}

// Outputs become azd environment values, which the post-deploy hook reads.
output AZURE_LOCATION string = location
output AZURE_RESOURCE_GROUP string = resourceGroup().name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_APP_URL string = 'https://${functionApp.outputs.defaultHostName}'
output AZURE_CLIENT_ID string = identity.outputs.clientId
output AZURE_HOST_STORAGE_ACCOUNT string = hostStorage.outputs.name
output AZURE_DATA_STORAGE_ACCOUNT string = dataStorage.outputs.name
output AZURE_DATA_BLOB_ENDPOINT string = dataStorage.outputs.blobEndpoint
output AZURE_DATA_CONTAINERS array = dataStorage.outputs.containerNames
output AZURE_EVENTGRID_SYSTEM_TOPIC string = eventGrid.outputs.name
output AZURE_APPLICATION_INSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
output ACS_ENDPOINT string = communication.outputs.endpoint
output ACS_SENDER_ADDRESS string = communication.outputs.senderAddress
