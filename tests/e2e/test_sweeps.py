"""Multirun sweeps on the embedded model: the acceptance's 2x2 grid."""

import pytest

from core.testing import assert_leaderboard_matches_jobs, run_cli


@pytest.mark.slow
def test_grid_sweep_on_the_embedded_model(tmp_path):
    """The 2x2 grid of the acceptance, on the embedded model with a small slice of the intent data."""
    sweep = tmp_path / "sweep"
    result = run_cli(
        "core", "-m", "task=intent", "data.max_train_rows=96", "data.max_eval_rows=40", "train.epochs=1", "train.min_steps=0",
        "train.lr=1e-3,3e-3", "peft.r=4,8", f"hydra.sweep.dir={sweep}", timeout=1200,
    )
    assert result.returncode == 0, result.stderr
    table = assert_leaderboard_matches_jobs(sweep, 4)
    assert all(0.0 <= float(r["finetuned"]) <= 1.0 for r in table)
    assert len({r["finetuned"] for r in table}) > 1, "four different settings gave identical scores"
