"""Blueprint ``ingest_blob``: bring-your-own data arriving in ``incoming/<dataset>/...``.

Event Grid (``BlobCreated`` on the data account) fires the trigger; the connection ``DataStorage`` is the
data account. The trigger binds the SDK type ``BlobClient`` (``azurefunctions-extensions-bindings-blob``,
as the Flex Consumption Event Grid blob quickstart does): the host passes only a reference to the blob,
never its bytes, so an upload is read once, by ``monitoring.dispatch.ingest.receive``, within its limits
(with ``func.InputStream`` the host would load the whole blob into memory first). ``receive`` validates
the upload and moves it into ``data`` or ``quarantine``; this function then starts the runs of the
monitors whose trigger is ``on_arrival`` for that dataset (a run that already finished for the same
window runs again: it now has more data).
"""

import asyncio
import logging

import azure.durable_functions as df
import azure.functions as func
import azurefunctions.extensions.bindings.blob as blob_sdk

from functions.starts import start_run
from monitoring.dispatch.ingest import receive
from monitoring.storage.blob import DATA, INCOMING, QUARANTINE, container_client
from monitoring.storage.definitions import definition_store

bp = df.Blueprint()
log = logging.getLogger(__name__)


@bp.function_name("ingest_blob")
@bp.blob_trigger(arg_name="blob", path=f"{INCOMING}/{{name}}", connection="DataStorage",
                 source=func.BlobSource.EVENT_GRID)
@bp.durable_client_input(client_name="client")
async def ingest_blob(blob: blob_sdk.BlobClient, client: df.DurableOrchestrationClient) -> None:
    """Ingest or quarantine one upload, then start its ``on_arrival`` runs."""
    name = blob.blob_name.removeprefix(f"{INCOMING}/")
    arrival = await asyncio.to_thread(
        receive, name, etag=None, definitions=definition_store(), incoming=container_client(INCOMING),
        data=container_client(DATA), quarantine=container_client(QUARANTINE))
    for run in arrival.runs:
        await start_run(client, run, rerun_finished=True)
    log.info("ingest %s: %s", name, arrival.outcome.to_dict())
