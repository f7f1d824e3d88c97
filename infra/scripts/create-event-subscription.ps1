# Creates (or updates) the Event Grid subscription that delivers BlobCreated events for uploads
# under incoming/ on the data account to the ingest_blob function. PowerShell twin of
# create-event-subscription.sh; see that file for why this is a script and not part of the templates.
#
# Needs the Azure CLI, signed in, and the deployment outputs in the environment (azd sets them):
#   AZURE_RESOURCE_GROUP, AZURE_FUNCTION_APP_NAME, AZURE_EVENTGRID_SYSTEM_TOPIC
# Optional: KEY_WAIT_ATTEMPTS (default 30, 10 s apart), EVENT_SUBSCRIPTION_NAME.
$ErrorActionPreference = 'Stop'

foreach ($name in 'AZURE_RESOURCE_GROUP', 'AZURE_FUNCTION_APP_NAME', 'AZURE_EVENTGRID_SYSTEM_TOPIC') {
    if (-not [Environment]::GetEnvironmentVariable($name)) {
        throw "set $name to the deployment output of that name"
    }
}
$resourceGroup = $env:AZURE_RESOURCE_GROUP
$appName = $env:AZURE_FUNCTION_APP_NAME
$topic = $env:AZURE_EVENTGRID_SYSTEM_TOPIC
$functionName = 'ingest_blob'
$container = 'incoming'
$subscriptionName = if ($env:EVENT_SUBSCRIPTION_NAME) { $env:EVENT_SUBSCRIPTION_NAME } else { 'incoming-to-ingest-blob' }
$attempts = if ($env:KEY_WAIT_ATTEMPTS) { [int]$env:KEY_WAIT_ATTEMPTS } else { 30 }

$hostName = az functionapp show --resource-group $resourceGroup --name $appName --query defaultHostName --output tsv
if ($LASTEXITCODE -ne 0) { throw "cannot read function app $appName" }

Write-Host "Waiting for the blobs_extension key of $appName ..."
$key = ''
for ($i = 0; $i -lt $attempts; $i++) {
    $key = az functionapp keys list --resource-group $resourceGroup --name $appName `
        --query 'systemKeys.blobs_extension' --output tsv 2>$null
    if ($key) { break }
    # A request starts the host if it is scaled to zero; the host creates the key on start-up.
    try { Invoke-WebRequest -Uri "https://$hostName/" -TimeoutSec 10 -UseBasicParsing | Out-Null } catch { }
    Start-Sleep -Seconds 10
}
if (-not $key) {
    throw "$appName has no blobs_extension system key after $attempts tries. Is the code deployed, and does it register $functionName as a blob trigger with source EventGrid?"
}

# The key is passed to az only; it is never printed.
$endpoint = "https://$hostName/runtime/webhooks/blobs?functionName=Host.Functions.$functionName&code=$key"
# On Windows az is a .cmd script, where an unquoted & would split the command line.
if ($IsWindows -or $env:OS -eq 'Windows_NT') { $endpoint = '"' + $endpoint + '"' }

az eventgrid system-topic event-subscription create `
    --resource-group $resourceGroup `
    --system-topic-name $topic `
    --name $subscriptionName `
    --endpoint-type webhook `
    --endpoint $endpoint `
    --included-event-types Microsoft.Storage.BlobCreated `
    --subject-begins-with "/blobServices/default/containers/$container/" `
    --output none
if ($LASTEXITCODE -ne 0) { throw 'creating the Event Grid subscription failed' }

Write-Host "Event Grid subscription ${subscriptionName}: BlobCreated under $container/ -> $functionName."
