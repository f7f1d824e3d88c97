# Waits, before a deploy, until the function app's identity can be expected to hold its role on the
# host storage account, which holds the deployment package container. PowerShell twin of
# wait-for-role-propagation.sh; see that file for why (a first `azd up` can fail with 403 while the
# new role assignment propagates, which can take up to 10 minutes).
#
# Needs the Azure CLI, signed in, and the deployment outputs in the environment (azd sets them):
#   AZURE_RESOURCE_GROUP, AZURE_HOST_STORAGE_ACCOUNT
# Optional: ROLE_PROPAGATION_SECONDS (default 600), ROLE_WAIT_ATTEMPTS (default 30, 10 s apart).
$ErrorActionPreference = 'Stop'

foreach ($name in 'AZURE_RESOURCE_GROUP', 'AZURE_HOST_STORAGE_ACCOUNT') {
    if (-not [Environment]::GetEnvironmentVariable($name)) {
        throw "set $name to the deployment output of that name"
    }
}
$resourceGroup = $env:AZURE_RESOURCE_GROUP
$account = $env:AZURE_HOST_STORAGE_ACCOUNT
$propagation = if ($env:ROLE_PROPAGATION_SECONDS) { [int]$env:ROLE_PROPAGATION_SECONDS } else { 600 }
$attempts = if ($env:ROLE_WAIT_ATTEMPTS) { [int]$env:ROLE_WAIT_ATTEMPTS } else { 30 }
$role = 'Storage Blob Data Owner'

$scope = az storage account show --resource-group $resourceGroup --name $account --query id --output tsv
if ($LASTEXITCODE -ne 0) { throw "cannot read storage account $account" }

$created = ''
for ($i = 0; $i -lt $attempts; $i++) {
    # The newest assignment of the role to a service principal made on the account itself.
    $created = az role assignment list --scope $scope --role $role `
        --query "[?principalType=='ServicePrincipal' && scope=='$scope'].createdOn | sort(@) | [-1]" `
        --output tsv 2>$null
    if ($created) { break }
    Start-Sleep -Seconds 10
}
if (-not $created) {
    throw "no $role assignment for a service principal on $account after $attempts tries. Did the provision create the function app identity's role assignments (infra/modules/rbac.bicep)?"
}

$age = ([DateTimeOffset]::UtcNow - [DateTimeOffset]::Parse($created)).TotalSeconds
$remaining = [Math]::Max(0, [int]($propagation - $age))
if ($remaining -gt 0) {
    Write-Host "The $role assignment on $account was created at $created;"
    Write-Host "waiting $remaining s more for it to take effect before deploying (ROLE_PROPAGATION_SECONDS=$propagation)."
    Start-Sleep -Seconds $remaining
}
Write-Host "Role assignment on $account is older than $propagation s: deploying."
