"""User-facing errors: each is printed as one clear line instead of a traceback."""

from __future__ import annotations

import logging
import os
import sys


class PlugtuneError(Exception):
    """An error caused by the user's input or setup, reported as a single line.

    The CLI prints ``error: <message>`` and exits with status 2; set ``HYDRA_FULL_ERROR=1``
    to see the traceback instead.
    """


class DataError(PlugtuneError):
    """A problem with one row of a data file, located as ``file:line``."""

    def __init__(self, path, line: int | None, reason: str):
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {reason}")


def log_to_files(message: str, level: int = logging.ERROR) -> None:
    """Write ``message`` as a record of ``level`` (default ERROR) to the log files only (the
    run's ``plugtune.log``), not to the console, which shows it its own way."""
    record = logging.LogRecord("plugtune", level, __file__, 0, message, None, None)
    seen = set()
    for logger in (logging.getLogger(), logging.getLogger("plugtune")):
        for handler in logger.handlers:
            if isinstance(handler, logging.FileHandler) and id(handler) not in seen:
                seen.add(id(handler))
                handler.handle(record)
                handler.flush()


def report_error(exc: PlugtuneError) -> None:
    """Print one line and exit 2, unless HYDRA_FULL_ERROR=1 asks for the traceback. The line
    goes to the run's log file too, so a failed run's own log says what stopped it."""
    log_to_files(f"error: {exc}")
    if os.environ.get("HYDRA_FULL_ERROR") == "1":
        raise exc
    print(f"error: {exc}", file=sys.stderr)
    sys.exit(2)
