#!/bin/sh
# Waits, before a deploy, until the function app's identity can be expected to hold its role on the
# host storage account, which holds the deployment package container.
#
# Why: Flex Consumption reads and writes the deployment package with the app's managed identity
# (functionAppConfig.deployment.storage.authentication). A provision creates that identity's Storage
# Blob Data Owner assignment moments before azd deploys, and a new role assignment "can take up to
# 10 minutes" to take effect (Azure RBAC troubleshooting, "Role assignment changes are not being
# detected"), so a first `azd up` can fail with 403 on the package container. This script polls until
# the assignment is visible, then waits out the rest of ROLE_PROPAGATION_SECONDS counted from the
# assignment's creation time; once the assignment is older than that it returns at once, so later
# deploys are not slowed down. azd runs it as the predeploy hook (azure.yaml).
#
# Needs the Azure CLI, signed in, and the deployment outputs in the environment (azd sets them):
#   AZURE_RESOURCE_GROUP          resource group of the deployment
#   AZURE_HOST_STORAGE_ACCOUNT    the host storage account (AzureWebJobsStorage and the package)
# Optional: ROLE_PROPAGATION_SECONDS (default 600), ROLE_WAIT_ATTEMPTS (default 30, 10 s apart).
set -eu

: "${AZURE_RESOURCE_GROUP:?set AZURE_RESOURCE_GROUP to the deployment's resource group}"
: "${AZURE_HOST_STORAGE_ACCOUNT:?set AZURE_HOST_STORAGE_ACCOUNT to the deployment output of that name}"

propagation="${ROLE_PROPAGATION_SECONDS:-600}"
attempts="${ROLE_WAIT_ATTEMPTS:-30}"
role="Storage Blob Data Owner"

scope=$(az storage account show \
  --resource-group "$AZURE_RESOURCE_GROUP" --name "$AZURE_HOST_STORAGE_ACCOUNT" \
  --query id --output tsv)

created=""
i=0
while [ "$i" -lt "$attempts" ]; do
  # The newest assignment of the role to a service principal made on the account itself.
  created=$(az role assignment list --scope "$scope" --role "$role" \
    --query "[?principalType=='ServicePrincipal' && scope=='$scope'].createdOn | sort(@) | [-1]" \
    --output tsv 2>/dev/null || true)
  if [ -n "$created" ]; then
    break
  fi
  i=$((i + 1))
  sleep 10
done
if [ -z "$created" ]; then
  echo "error: no $role assignment for a service principal on $AZURE_HOST_STORAGE_ACCOUNT after $attempts tries." >&2
  echo "Did the provision create the function app identity's role assignments (infra/modules/rbac.bicep)?" >&2
  exit 1
fi

# Seconds still to wait: the propagation time minus the assignment's age (python3 parses the time;
# without it, wait the whole propagation time).
remaining=$(python3 -c '
import sys
from datetime import datetime, timezone
created = datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00"))
age = (datetime.now(timezone.utc) - created).total_seconds()
print(max(0, int(float(sys.argv[2]) - age)))
' "$created" "$propagation" 2>/dev/null || echo "$propagation")

if [ "$remaining" -gt 0 ]; then
  echo "The $role assignment on $AZURE_HOST_STORAGE_ACCOUNT was created at $created;"
  echo "waiting ${remaining} s more for it to take effect before deploying (ROLE_PROPAGATION_SECONDS=$propagation)."
  sleep "$remaining"
fi
echo "Role assignment on $AZURE_HOST_STORAGE_ACCOUNT is older than $propagation s: deploying."
