"""Blueprint ``ingest_blob``: bring-your-own data arriving in ``incoming/<dataset>/...``.

Event Grid (``BlobCreated`` on the data account) fires the trigger; the connection ``DataStorage`` is the
data account. ``monitoring.ingest.receive`` validates the upload and moves it into ``data`` or
``quarantine``; this function then starts the runs of the monitors whose trigger is ``on_arrival`` for
that dataset (a run that already finished for the same window runs again: it now has more data).
"""

import asyncio
import logging

import azure.durable_functions as df
import azure.functions as func

from functions.starts import start_run
from monitoring.dispatch.ingest import receive
from monitoring.storage.blob import DATA, INCOMING, QUARANTINE, container_client
from monitoring.storage.definitions import definition_store

bp = df.Blueprint()
log = logging.getLogger(__name__)


def _etag(blob: func.InputStream) -> str | None:
    # Set by the Python worker for blob triggers, but not declared on azure-functions' InputStream type.
    properties = getattr(blob, "blob_properties", None) or {}
    return properties.get("ETag") or properties.get("Etag") or properties.get("etag")


@bp.function_name("ingest_blob")
@bp.blob_trigger(arg_name="blob", path=f"{INCOMING}/{{name}}", connection="DataStorage",
                 source=func.BlobSource.EVENT_GRID)
@bp.durable_client_input(client_name="client")
async def ingest_blob(blob: func.InputStream, client: df.DurableOrchestrationClient) -> None:
    """Ingest or quarantine one upload, then start its ``on_arrival`` runs."""
    name = (blob.name or "").removeprefix(f"{INCOMING}/")
    arrival = await asyncio.to_thread(
        receive, name, etag=_etag(blob), definitions=definition_store(), incoming=container_client(INCOMING),
        data=container_client(DATA), quarantine=container_client(QUARANTINE))
    for run in arrival.runs:
        await start_run(client, run, rerun_finished=True)
    log.info("ingest %s: %s", name, arrival.outcome.to_dict())
