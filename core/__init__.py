"""plugtune core: hook specifications, plugin manager, config schema and the run pipeline.

Plugin authors need only this module's public names::

    from core import hookimpl

    @hookimpl
    def register_evaluators(register):
        register("my_metric", MyEvaluator())
"""

import pluggy

PROJECT_NAME = "plugtune"  # pluggy project name and entry-point group (a contract)

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

from core.errors import DataError, PlugtuneError  # noqa: E402
from core.types import EvalResult, Example, Prediction, ReadResult, RenderedPrompt, SkippedRow  # noqa: E402

# The public plugin API: the only core modules a plugin imports (the built-ins in plugins/ import
# nothing else, and never each other: tests/unit/test_plugin_imports.py checks it). Every other
# core module is the framework's own and may change without notice.
PUBLIC_MODULES = (
    "core",  # hookimpl, the data types, the errors, lookup()
    "core.kinds",  # the Protocols each kind implements, RunContext, TrainResult
    "core.datafiles",  # iter_records and the row helpers data formats share
    "core.heads",  # LoRA / tokenizer / dtype / quantization helpers and LoraHead for task heads
    "core.training",  # the Trainer helpers the built-in trainers share
    "core.speedups",  # the speed-up kit a trainer applies
    "core.progress",  # progress bars that respect PLUGTUNE_PROGRESS
    "core.generation",  # generation.* settings and generate(): how every answer is decoded
)


def lookup(kind: str, name: str):
    """The object registered as ``name`` of ``kind`` (``"prompt_template"``, ``"data_format"``,
    ``"task_head"``, ``"trainer"``, ``"evaluator"``), from the process's registry.

    How one plugin reaches another's object, by name, without importing it; an unknown name is a
    PlugtuneError listing what is available.
    """
    from core.registry import get_registry

    return get_registry().get(kind, name)


__all__ = [
    "PROJECT_NAME",
    "hookspec",
    "hookimpl",
    "PlugtuneError",
    "DataError",
    "Example",
    "Prediction",
    "EvalResult",
    "RenderedPrompt",
    "ReadResult",
    "SkippedRow",
    "PUBLIC_MODULES",
    "lookup",
]
