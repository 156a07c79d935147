"""Modules that moved: importing an old name fails with one line naming the new one.

A plugin written against an older layout (``from plugins.lora import LoraHead``) then fails to
load with ``ImportError: plugins.lora moved to core.heads; import it from there``, which the
plugin manager reports in one line with the plugin's name (``core.plugins``) before going on
without it. ``MOVED_MODULES`` is the one table of such moves: add a line when a module moves.
"""

from __future__ import annotations

import importlib.abc
import sys

# old module -> the module that holds its names now
MOVED_MODULES = {
    "plugins.lora": "core.heads",
    "plugins.frozen_prefix": "core.speedups.frozen_block_cache",
    "plugins.progressive_freeze": "core.speedups.freeze_schedule",
    "plugins.compiled_blocks": "core.speedups.compiled_blocks",
    "plugins.cpu_bf16": "core.speedups.cpu_bf16",
    "plugins.pooled_top_mlp": "core.speedups.pooled_top_mlp",
}


def moved_message(old: str) -> str:
    """The one line an import of the moved module ``old`` fails with."""
    return f"{old} moved to {MOVED_MODULES[old]}; import it from there"


class MovedModuleFinder(importlib.abc.MetaPathFinder):
    """A meta-path finder that answers an import of a moved module with an ImportError naming
    where it went. It sits last on ``sys.meta_path``, so it only sees imports no other finder
    could satisfy: a module that still exists under its old name imports as usual."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname in MOVED_MODULES:
            raise ImportError(moved_message(fullname), name=fullname)
        return None


def install() -> None:
    """Put the finder at the end of ``sys.meta_path`` (once; later calls do nothing)."""
    if not any(isinstance(finder, MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.append(MovedModuleFinder())
