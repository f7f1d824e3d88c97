"""``python -m monitoring apply FILE`` and ``list``: manage the monitors of a deployed app from a shell.

Both talk to the data account the settings name: ``DATA_STORAGE_ACCOUNT`` with your Azure login
(``az login``; DefaultAzureCredential), or ``STORAGE_CONNECTION_STRING`` for Azurite. ``apply`` validates
the file exactly like ``validate`` and uploads it only when it is valid; the scheduler picks it up within
five minutes.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.table import Table

from monitoring.definition import load_file
from monitoring.errors import ConfigurationError
from monitoring.interfaces.remote import apply_text, list_monitors
from monitoring.storage.blob import results_store
from monitoring.storage.definitions import definition_store
from monitoring.text import one_line

#: Same meaning as in ``monitoring.cli`` (imported lazily there to avoid an import cycle).
_EXIT_OK, _EXIT_INVALID = 0, 2


@contextmanager
def _storage_errors() -> Iterator[None]:
    """A storage failure as a one-line error that says what to check, instead of a traceback."""
    from azure.core.exceptions import AzureError, ClientAuthenticationError


    try:
        yield
    except ClientAuthenticationError as exc:
        raise ConfigurationError(f"cannot sign in to Blob Storage ({one_line(str(exc))}); run `az login`, or "
                                 "set STORAGE_CONNECTION_STRING for Azurite") from None
    except AzureError as exc:
        raise ConfigurationError(f"Blob Storage refused the request: {one_line(str(exc))} ({_cause(exc)})") from None


def _cause(exc: Exception) -> str:
    """What to check, by what the service said: Azurite refusing the SDK's API version, or permissions."""
    text = str(exc)
    if ("API version" in text and "not supported by Azurite" in text) or ("InvalidHeaderValue" in text and \
            "x-ms-version" in text):
        return ("Azurite is older than this SDK's API version: start it with `npx azurite --skipApiVersionCheck "
                "...`, or update it with `npm install`")
    return "your identity needs Storage Blob Data Contributor on the data account"


def cmd_apply(args: argparse.Namespace, console: Console) -> int:

    file = Path(args.file)
    load_file(file)  # every problem with its line, before anything is uploaded
    with _storage_errors():
        report = apply_text(file.read_text(encoding="utf-8"), definition_store(), source=str(file))
    console.print(f"[green]applied[/] monitor `{report['name']}` (version {report['version']}) to "
                  f"{report['definition']}: {report['trigger']}", highlight=False)
    for note in report["notes"]:
        console.print(f"  [yellow]note[/]: {note}", highlight=False)
    return _EXIT_OK


def cmd_list(args: argparse.Namespace, console: Console) -> int:

    with _storage_errors():
        monitors = list_monitors(definition_store(), results_store())
    if args.json:
        sys.stdout.write(json.dumps([m.to_dict() for m in monitors], indent=2) + "\n")
        return _EXIT_OK if all(m.valid for m in monitors) else _EXIT_INVALID
    table = Table(title=f"{len(monitors)} monitor(s)", title_justify="left")
    for column in ("monitor", "trigger", "last run", "status", "breached"):
        table.add_column(column)
    for m in monitors:
        if not m.valid:
            problems = "; ".join(m.problems or [])
            table.add_row(m.name, "[bold red]invalid definition[/]", "", "", problems)
            continue
        breached = "" if m.last_breached is None else ("[bold red]yes[/]" if m.last_breached else "no")
        table.add_row(m.name, m.trigger or "", m.last_fire_time or "never", m.last_status or "", breached)
    console.print(table)
    return _EXIT_OK if all(m.valid for m in monitors) else _EXIT_INVALID


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``apply`` and ``list`` to the ``python -m monitoring`` parser."""
    p = subparsers.add_parser("apply", help="validate a monitor definition and upload it to the app's account")
    p.add_argument("file", type=Path, metavar="FILE", help="the monitor YAML to upload to the definitions container")
    p.set_defaults(func=cmd_apply)
    p = subparsers.add_parser("list", help="list the app's monitors with their last run")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_list)


__all__ = ["cmd_apply", "cmd_list", "register"]
