#!/bin/sh
# Creates (or updates) the Event Grid subscription that delivers BlobCreated events for uploads
# under incoming/ on the data account to the ingest_blob function.
#
# Why a script and not the templates: the webhook URL carries the blob extension's system key
# (blobs_extension), which the Functions host creates only after it has loaded the deployed code's
# blob trigger (source EventGrid), and Event Grid validates the webhook when the subscription is
# created. So this runs after the code is deployed: azd runs it as the postdeploy hook; after
# `az deployment group create` or `terraform apply`, run it yourself (README.md, section Deploy).
#
# Needs the Azure CLI, signed in, and the deployment outputs in the environment (azd sets them):
#   AZURE_RESOURCE_GROUP          resource group of the deployment
#   AZURE_FUNCTION_APP_NAME       the function app
#   AZURE_EVENTGRID_SYSTEM_TOPIC  the system topic on the data account
# Optional: KEY_WAIT_ATTEMPTS (default 30, 10 s apart), EVENT_SUBSCRIPTION_NAME.
# Safe to re-run: creating an existing subscription updates it.
set -eu

: "${AZURE_RESOURCE_GROUP:?set AZURE_RESOURCE_GROUP to the deployment's resource group}"
: "${AZURE_FUNCTION_APP_NAME:?set AZURE_FUNCTION_APP_NAME to the deployment output of that name}"
: "${AZURE_EVENTGRID_SYSTEM_TOPIC:?set AZURE_EVENTGRID_SYSTEM_TOPIC to the deployment output of that name}"

function_name="ingest_blob"
container="incoming"
subscription_name="${EVENT_SUBSCRIPTION_NAME:-incoming-to-ingest-blob}"
attempts="${KEY_WAIT_ATTEMPTS:-30}"

host=$(az functionapp show \
  --resource-group "$AZURE_RESOURCE_GROUP" --name "$AZURE_FUNCTION_APP_NAME" \
  --query defaultHostName --output tsv)

echo "Waiting for the blobs_extension key of $AZURE_FUNCTION_APP_NAME ..."
key=""
i=0
while [ "$i" -lt "$attempts" ]; do
  key=$(az functionapp keys list \
    --resource-group "$AZURE_RESOURCE_GROUP" --name "$AZURE_FUNCTION_APP_NAME" \
    --query "systemKeys.blobs_extension" --output tsv 2>/dev/null || true)
  if [ -n "$key" ]; then
    break
  fi
  i=$((i + 1))
  # A request starts the host if it is scaled to zero; the host creates the key on start-up.
  curl --silent --output /dev/null --max-time 10 "https://$host/" || true
  sleep 10
done
if [ -z "$key" ]; then
  echo "error: $AZURE_FUNCTION_APP_NAME has no blobs_extension system key after $attempts tries." >&2
  echo "Is the code deployed, and does it register $function_name as a blob trigger with source EventGrid?" >&2
  exit 1
fi

# The key is passed to az only; it is never printed.
endpoint="https://$host/runtime/webhooks/blobs?functionName=Host.Functions.$function_name&code=$key"

az eventgrid system-topic event-subscription create \
  --resource-group "$AZURE_RESOURCE_GROUP" \
  --system-topic-name "$AZURE_EVENTGRID_SYSTEM_TOPIC" \
  --name "$subscription_name" \
  --endpoint-type webhook \
  --endpoint "$endpoint" \
  --included-event-types Microsoft.Storage.BlobCreated \
  --subject-begins-with "/blobServices/default/containers/$container/" \
  --output none

echo "Event Grid subscription $subscription_name: BlobCreated under $container/ -> $function_name."
