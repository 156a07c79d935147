"""Multirun sweeps on the embedded model: the acceptance's 2x2 grid."""

import csv
import json
from pathlib import Path

import pytest

from core.testing import run_cli


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def assert_leaderboard_matches_jobs(sweep: Path, expected_jobs: int) -> list[dict]:
    """Every job has results.json, and the leaderboard's numbers are exactly those."""
    table = read_csv(sweep / "leaderboard.csv")
    assert len(table) == expected_jobs
    for row in table:
        results = json.loads((sweep / row["job"] / "results.json").read_text())
        name = results["main_metric"]
        assert row["status"] == "ok" and row["main_metric"] == name
        assert float(row["finetuned"]) == results["metrics"]["finetuned"][name]
        assert float(row["baseline"]) == results["metrics"]["baseline"][name]
        assert float(row["train_seconds"]) == results["train"]["seconds"]
    finetuned = [float(r["finetuned"]) for r in table]
    assert finetuned == sorted(finetuned, reverse=True)
    return table


@pytest.mark.slow
def test_grid_sweep_on_the_embedded_model(tmp_path):
    """The 2x2 grid of the acceptance, on the embedded model with a small slice of the intent data."""
    sweep = tmp_path / "sweep"
    result = run_cli(
        "core", "-m", "task=intent", "data.max_train_rows=96", "data.max_eval_rows=40", "train.epochs=1",
        "train.lr=1e-3,3e-3", "peft.r=4,8", f"hydra.sweep.dir={sweep}", timeout=1200,
    )
    assert result.returncode == 0, result.stderr
    table = assert_leaderboard_matches_jobs(sweep, 4)
    assert all(0.0 <= float(r["finetuned"]) <= 1.0 for r in table)
    assert len({r["finetuned"] for r in table}) > 1, "four different settings gave identical scores"
