"""Starting a run's orchestration at most once: the one place the app calls ``start_new``.

Instance IDs are ``<monitor>-<fire time>`` (``monitoring.scheduler.instance_id``), so "is this run already
known?" is a status lookup. ``start_new`` would silently replace a finished instance with a new one, which
is why the status is checked first; an instance another host started in between makes ``start_new``
fail with "already exists", which counts as started.
"""

import logging
from typing import Literal

import azure.durable_functions as df

from monitoring.dispatch.due import DueRun

log = logging.getLogger(__name__)

ORCHESTRATOR = "monitor_run"
_ACTIVE = frozenset({
    df.OrchestrationRuntimeStatus.Running, df.OrchestrationRuntimeStatus.Pending,
    df.OrchestrationRuntimeStatus.ContinuedAsNew, df.OrchestrationRuntimeStatus.Suspended,
})
StartResult = Literal["started", "restarted", "active", "finished"]


async def start_run(client: df.DurableOrchestrationClient, run: DueRun, *, rerun_finished: bool = False
                    ) -> StartResult:
    """Start ``run`` unless Durable knows its instance; a finished one is started again only when asked.

    Returns ``started`` (new instance), ``restarted`` (a finished instance run again), ``active`` (it is
    pending or running: left alone) or ``finished`` (it ran and ``rerun_finished`` is off).
    """
    status = await client.get_status(run.instance_id)
    state = status.runtime_status if status else None
    if state in _ACTIVE:
        return "active"
    if state is not None and not rerun_finished:
        return "finished"
    try:
        await client.start_new(ORCHESTRATOR, run.instance_id, run.request().model_dump(mode="json"))
    except Exception as exc:
        if "already exists" in str(exc).lower():
            log.info("%s was started concurrently", run.instance_id)
            return "active"
        raise
    log.info("started %s (%s)", run.instance_id, run.reason)
    return "restarted" if state is not None else "started"
