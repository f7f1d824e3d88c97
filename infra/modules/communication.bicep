// Azure Communication Services for alert emails: an Email Communication Service with an
// Azure-managed domain (DoNotReply@<guid>.azurecomm.net), linked to a Communication Services
// resource whose endpoint the app calls with its managed identity (role in rbac.bicep).

@description('Name of the Communication Services resource (also the endpoint host name prefix).')
param communicationServiceName string

@description('Name of the Email Communication Service.')
param emailServiceName string

@description('Where Communication Services stores data at rest, e.g. "United States" or "Europe".')
param dataLocation string = 'United States'

@description('Tags applied to the resources.')
param tags object = {}

resource emailService 'Microsoft.Communication/emailServices@2023-04-01' = {
  name: emailServiceName
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
  }
}

resource emailDomain 'Microsoft.Communication/emailServices/domains@2023-04-01' = {
  parent: emailService
  // An Azure-managed domain must be named exactly this.
  name: 'AzureManagedDomain'
  location: 'global'
  tags: tags
  properties: {
    domainManagement: 'AzureManaged'
    userEngagementTracking: 'Disabled'
  }
}

resource communicationService 'Microsoft.Communication/communicationServices@2023-04-01' = {
  name: communicationServiceName
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
    linkedDomains: [
      emailDomain.id
    ]
  }
}

@description('Resource ID of the Communication Services resource.')
output id string = communicationService.id

@description('Name of the Communication Services resource.')
output name string = communicationService.name

@description('Endpoint the email client calls, https://<name>.<geo>.communication.azure.com.')
output endpoint string = 'https://${communicationService.properties.hostName}'

@description('Sender address on the Azure-managed domain.')
output senderAddress string = 'DoNotReply@${emailDomain.properties.mailFromSenderDomain}'
