"""Progress bars for long steps (tqdm), quiet when stderr is not a terminal in CI logs."""

from __future__ import annotations

import os
import sys


def progress(total: int, desc: str):
    """A tqdm bar for ``total`` items; set PLUGTUNE_PROGRESS=0 to hide bars."""
    from tqdm.auto import tqdm

    disable = os.environ.get("PLUGTUNE_PROGRESS", "1") == "0"
    return tqdm(total=total, desc=desc, disable=disable, file=sys.stderr, dynamic_ncols=True)
