"""results.json and report.md record which plugin and distribution (and version) provided each name."""

import importlib.metadata
import json
import os

import pytest

from core import EvalResult, hookimpl
from core.pipeline import run
from core.testing import compose_config, inline_plugin, tiny_overrides


class PredictedShare:
    """An inline evaluator: the share of predictions equal to the first label."""

    def evaluate(self, predictions, ctx):
        share = sum(p.prediction == ctx.labels[0] for p in predictions) / max(len(predictions), 1)
        return EvalResult(metrics={"first_label_share": share})


class InlinePlugin:
    @hookimpl
    def register_evaluators(self, register):
        register("first_label_share", PredictedShare())


def calibration_version() -> str:
    try:
        return importlib.metadata.version("plugtune-calibration")
    except importlib.metadata.PackageNotFoundError:
        if os.environ.get("CI"):
            pytest.fail("CI must install examples/plugtune-calibration (see .ci/run)")
        pytest.skip("pip install -e examples/plugtune-calibration to run this test")


def test_results_and_report_name_the_plugin_and_distribution_of_every_name(tiny_model, tiny_data, tmp_path):
    version = calibration_version()
    overrides = tiny_overrides(tiny_model, *tiny_data) + ["task.evaluators=[macro_f1,calibration,first_label_share]"]
    with inline_plugin(InlinePlugin(), name="share-plugin"):
        run(compose_config(overrides), tmp_path / "run")

    saved = json.loads((tmp_path / "run" / "results.json").read_text())
    plugtune = importlib.metadata.version("plugtune")
    assert saved["plugins"] == [
        {"kind": "data_format", "name": "text_label", "plugin": "text_label", "distribution": "plugtune", "version": plugtune},
        {"kind": "prompt_template", "name": "text", "plugin": "text_template", "distribution": "plugtune", "version": plugtune},
        {"kind": "task_head", "name": "seq_cls", "plugin": "seq_cls", "distribution": "plugtune", "version": plugtune},
        {"kind": "trainer", "name": "hf", "plugin": "hf_trainer", "distribution": "plugtune", "version": plugtune},
        {"kind": "evaluator", "name": "macro_f1", "plugin": "macro_f1", "distribution": "plugtune", "version": plugtune},
        {"kind": "evaluator", "name": "calibration", "plugin": "calibration", "distribution": "plugtune-calibration", "version": version},
        {"kind": "evaluator", "name": "first_label_share", "plugin": "share-plugin", "distribution": None, "version": None},
    ]

    report = (tmp_path / "run" / "report.md").read_text()
    assert "## Plugins" in report
    assert f"| evaluator | `calibration` | calibration | plugtune-calibration | {version} |" in report
    assert f"| task_head | `seq_cls` | seq_cls | plugtune | {plugtune} |" in report
    assert "| evaluator | `first_label_share` | share-plugin | inline | - |" in report
