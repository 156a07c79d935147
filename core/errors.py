"""User-facing errors: each is printed as one clear line instead of a traceback."""

from __future__ import annotations

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


def report_error(exc: PlugtuneError) -> None:
    """Print one line and exit 2, unless HYDRA_FULL_ERROR=1 asks for the traceback."""
    if os.environ.get("HYDRA_FULL_ERROR") == "1":
        raise exc
    print(f"error: {exc}", file=sys.stderr)
    sys.exit(2)
