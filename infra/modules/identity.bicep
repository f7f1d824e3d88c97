// The one user-assigned managed identity the function app uses for everything: host storage,
// the data account (SDK and blob trigger), Communication Services email and Application Insights
// ingestion. Roles are granted in rbac.bicep; no key or connection string is ever handed out.

@description('Name of the user-assigned managed identity.')
param name string

@description('Azure region of the identity.')
param location string

@description('Tags applied to the identity.')
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

@description('Resource ID, for the function app identity block and Flex deployment storage.')
output id string = identity.id

@description('Client ID, for the __clientId app settings, AZURE_CLIENT_ID and App Insights.')
output clientId string = identity.properties.clientId

@description('Object (principal) ID, for role assignments.')
output principalId string = identity.properties.principalId

@description('Name of the identity.')
output name string = identity.name
