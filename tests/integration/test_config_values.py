"""``python -m core`` with a bad config value stops before anything loads: one line, exit 2.

torch, transformers, peft, datasets and trl are made unimportable in the subprocess, so a check
that ran after any model or data code would fail with an ImportError instead of the one line.
"""

import time

import pytest

from core.testing import run_cli

BLOCKED = ("torch", "transformers", "peft", "datasets", "trl")


@pytest.fixture
def no_ml_libraries(tmp_path):
    """PYTHONPATH entries that make the heavy libraries fail to import."""
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    for name in BLOCKED:
        (blocked / f"{name}.py").write_text(f"raise ImportError('{name} imported before the config was checked')\n")
    return {"PYTHONPATH": str(blocked)}


@pytest.mark.parametrize("overrides, line", [
    (["train.lr=-1e-3"], "error: train.lr=-0.001: must be > 0"),
    (["train.batch_size=0"], "error: train.batch_size=0: must be an integer >= 1"),
    (["data.max_train_rows=0"], "error: data.max_train_rows=0: must be null (all rows) or an integer >= 1"),
    (["train.epochs=0"], "error: train.epochs=0.0: must be > 0"),
    (["train.scheduler=cosin"], "error: train.scheduler=cosin: must be one of linear, cosine,"),
    (["mode=inspect", "train.batch_size=0"], "error: train.batch_size=0: must be an integer >= 1"),
    (["peft.method=lora"], "error: peft.method was removed"),
    (["model.notes=x"], "error: model.notes was removed"),
])
def test_bad_value_exits_2_in_one_line_before_anything_loads(tmp_path, no_ml_libraries, overrides, line):
    run_dir = tmp_path / "run"
    start = time.monotonic()
    result = run_cli("core", *overrides, f"hydra.run.dir={run_dir}", env=no_ml_libraries, timeout=120)
    elapsed = time.monotonic() - start
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(line), result.stderr
    assert not (run_dir / "adapter").exists() and not (run_dir / "results.json").exists()
    assert elapsed < 10, elapsed  # ~1 s on an idle machine; the bound only catches a model load


def test_epochs_zero_with_max_steps_is_accepted(tmp_path, no_ml_libraries):
    """epochs is not read when max_steps decides: the check passes and the run goes on to load."""
    result = run_cli("core", "train.epochs=0", "train.max_steps=2", f"hydra.run.dir={tmp_path / 'run'}",
                     env=no_ml_libraries, timeout=120)
    assert "imported before the config was checked" in result.stderr
