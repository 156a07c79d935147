"""End to end on the embedded model: `python -m core` with no task arguments, as a user runs it."""

import json

import pytest

from core.testing import assert_adapter_reproduces, run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("default-run") / "run"
    result = run_cli("core", f"hydra.run.dir={run_dir}", timeout=1200)
    assert result.returncode == 0, result.stderr[-3000:]
    return run_dir, result


def test_default_intent_run_learns(default_run):
    """The default (4 epochs of batch 16, lr 4e-3, the top 6 LoRA blocks only in epochs 3-4) reached
    macro-F1 0.879-0.905 over three seeds (README); 0.85 leaves room for that spread while still
    failing if learning degrades."""
    run_dir, result = default_run
    results = json.loads((run_dir / "results.json").read_text())
    base = results["metrics"]["baseline"]["macro_f1"]
    tuned = results["metrics"]["finetuned"]["macro_f1"]
    assert tuned >= 0.85, results["metrics"]
    assert tuned - base >= 0.5, results["metrics"]
    # Epochs 1-2 start from the cached states of the 18 blocks below the LoRA ones, epochs 3-4 from 24.
    assert results["train"]["speedups"]["frozen_block_cache"]["cached_blocks"] == 24 and results["train"]["examples"] == 4 * 1600
    assert results["data"]["eval_rows"] == 200 and results["data"]["train_rows"] == 1600
    assert sum(results["data"]["dropped_unknown_labels"]["train"].values()) == 12
    assert "dropped from train (label not in task.labels): 12 rows" in (run_dir / "report.md").read_text()
    assert "macro_f1" in result.stdout and "finetuned" in result.stdout


def test_default_adapter_reproduces_predictions(default_run):
    from core.models import embedded_model_dir
    from core.testing import compose_config

    assert_adapter_reproduces(embedded_model_dir(compose_config().model), default_run[0])
