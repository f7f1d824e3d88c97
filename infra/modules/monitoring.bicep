// Log Analytics and workspace-based Application Insights. Local (instrumentation key) auth is off,
// so telemetry is accepted only from the app's managed identity, which holds Monitoring Metrics
// Publisher (rbac.bicep) and authenticates through APPLICATIONINSIGHTS_AUTHENTICATION_STRING.

@description('Name of the Log Analytics workspace.')
param logAnalyticsName string

@description('Name of the Application Insights component.')
param applicationInsightsName string

@description('Azure region of both resources.')
param location string

@description('Tags applied to both resources.')
param tags object = {}

@description('Days Log Analytics keeps logs.')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    retentionInDays: retentionInDays
    sku: {
      name: 'PerGB2018'
    }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true
  }
}

@description('Resource ID of the Log Analytics workspace.')
output logAnalyticsWorkspaceId string = workspace.id

@description('Resource ID of Application Insights.')
output applicationInsightsId string = appInsights.id

@description('Name of Application Insights.')
output applicationInsightsName string = appInsights.name

// An identifier of the ingestion endpoint, not a credential: with local auth disabled the
// instrumentation key in it cannot send telemetry without an Entra ID token.
@description('Connection string of Application Insights (endpoint identifier; local auth is disabled).')
output connectionString string = appInsights.properties.ConnectionString
