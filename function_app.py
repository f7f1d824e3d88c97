"""The Function App: one Durable app that registers the blueprints of ``functions/`` and nothing else."""

import azure.durable_functions as df

from functions import alert_jobs, http_api, ingest, runs, scheduler

app = df.DFApp()
app.register_functions(runs.bp)
app.register_functions(scheduler.bp)
app.register_functions(ingest.bp)
app.register_functions(http_api.bp)
app.register_functions(alert_jobs.bp)
