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
]
