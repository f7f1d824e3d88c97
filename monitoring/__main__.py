"""Entry point of ``python -m monitoring`` and of the ``funcmon`` command (``run``).

A command ends without tearing the interpreter down: once every exit handler has run (log handlers
flushed and closed, thread pools joined), the process exits with the command's code. Freeing every
object of polars, matplotlib, pydantic and the run one by one took 0.3-0.38 s after a 1M-row run had
printed its result (bench/README.md, session 7); the operating system releases the memory at once.
"""

import atexit
import os
import sys

_exit_code: list[int] = []


def _fast_exit() -> None:
    """Registered before any other exit handler, so it runs after all of them (they run last-in first-out);
    only a command that returned a code exits here, an uncaught error still unwinds normally."""
    if _exit_code:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_code[0])


atexit.register(_fast_exit)

from monitoring.interfaces.cli import main  # noqa: E402  (after the handler, so that it runs last)


def run() -> int:
    """Run the command line and return its exit code (which the process then exits with)."""
    _exit_code.append(main())
    return _exit_code[0]


if __name__ == "__main__":
    sys.exit(run())
