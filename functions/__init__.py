"""The Azure Functions bindings: one blueprint per workflow, each a thin shell over ``monitoring``.

``runs`` (the ``monitor_run`` orchestration and its activities), ``scheduler`` (the timer), ``ingest`` (the
bring-your-own-data blob trigger) and ``http_api`` (the HTTP API). ``function_app.py`` registers them.
"""
