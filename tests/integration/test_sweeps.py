"""Multirun sweeps on the tiny model: the leaderboard, failed jobs, and the Optuna / joblib / submitit launchers."""

import json
import math
import re
from datetime import datetime
from pathlib import Path

from omegaconf import OmegaConf

from core.leaderboard import collect, parse_overrides
from core.testing import assert_leaderboard_matches_jobs, run_cli, tiny_overrides


def overrides_without(overrides: list[str], *keys: str) -> list[str]:
    """Drop the given keys from an override list, so a sweep can set them instead."""
    return [o for o in overrides if o.split("=", 1)[0] not in keys]


def test_grid_sweep_writes_one_dir_per_job_and_a_matching_leaderboard(tiny_model, tiny_data, tmp_path):
    sweep = tmp_path / "sweep"
    base = overrides_without(tiny_overrides(tiny_model, *tiny_data), "train.lr")
    result = run_cli("core", "-m", *base, "train.lr=1e-3,5e-3", "peft.r=4,8", f"hydra.sweep.dir={sweep}")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in sweep.iterdir() if p.is_dir()) == ["0", "1", "2", "3"]
    table = assert_leaderboard_matches_jobs(sweep, 4)
    swept = [parse_overrides(r["overrides"].split()) for r in table]
    assert {(float(o["train.lr"]), int(o["peft.r"])) for o in swept} == {(1e-3, 4), (1e-3, 8), (5e-3, 4), (5e-3, 8)}
    assert (sweep / "leaderboard.png").is_file()
    assert f"leaderboard: {sweep / 'leaderboard.md'} (4 jobs, best macro_f1=" in result.stdout


def test_a_failing_job_is_listed_and_the_sweep_goes_on(tiny_model, tiny_data, tmp_path):
    sweep = tmp_path / "sweep"
    missing = tmp_path / "missing.jsonl"
    base = overrides_without(tiny_overrides(tiny_model, *tiny_data), "data.eval_path")
    result = run_cli("core", "-m", *base, f"data.eval_path={missing},{tiny_data[1]}", f"hydra.sweep.dir={sweep}")
    # the sweep goes on, writes the leaderboard, then exits 1 so scripts and schedulers notice
    assert result.returncode == 1, result.stderr
    assert f"error: sweep: 1 of 2 jobs failed or did not finish (0); see {sweep / 'leaderboard.md'}" in result.stderr
    rows = collect(sweep)
    assert [(r.job, r.status) for r in rows] == [("1", "ok"), ("0", "failed")]
    assert str(missing) in rows[1].error and "\n" not in rows[1].error
    assert not (sweep / "0" / "results.json").exists()
    markdown = (sweep / "leaderboard.md").read_text()
    assert "2 jobs, 1 finished, 1 failed or incomplete" in markdown
    assert rows[1].error.replace("|", "\\|") in markdown


def test_optuna_sweep_runs_trials_and_writes_best_parameters(tiny_model, tiny_data, tmp_path):
    sweep = tmp_path / "sweep"
    base = overrides_without(tiny_overrides(tiny_model, *tiny_data), "train.lr", "train.epochs")
    result = run_cli(
        "core", "-m", "hparams_search=optuna", *base, f"hydra.sweep.dir={sweep}",
        "hydra.sweeper.n_trials=4", "hydra.sweeper.sampler.n_startup_trials=4",
    )
    assert result.returncode == 0, result.stderr
    table = assert_leaderboard_matches_jobs(sweep, 4)
    best = OmegaConf.load(sweep / "optimization_results.yaml")
    assert set(best.best_params) == {"train.lr", "peft.r", "peft.alpha", "train.epochs", "peft.target_modules"}
    # the quoted target-module choices arrive as real lists
    targets = [json.loads((sweep / r["job"] / "results.json").read_text())["config"]["peft"]["target_modules"] for r in table]
    assert all(isinstance(t, list) and len(t) == 1 for t in targets)
    assert best.best_value == max(float(r["finetuned"]) for r in table)


def job_interval(job_dir: Path) -> tuple[float, float]:
    """When a job started (its log's first line) and ended (results.json written), as timestamps."""
    first = re.match(r"\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\]", (job_dir / "plugtune.log").read_text())
    started = datetime.strptime(first.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
    return started, (job_dir / "results.json").stat().st_mtime


def test_local_parallel_launcher_runs_jobs_at_the_same_time(tiny_model, tiny_data, tmp_path):
    sweep = tmp_path / "sweep"
    base = overrides_without(tiny_overrides(tiny_model, *tiny_data), "train.lr", "train.epochs")
    result = run_cli(
        "core", "-m", "hydra/launcher=local_parallel", "train.threads=1", *base,
        "train.epochs=6", "train.lr=1e-3,5e-3", f"hydra.sweep.dir={sweep}",
    )
    assert result.returncode == 0, result.stderr
    assert_leaderboard_matches_jobs(sweep, 2)
    (start0, end0), (start1, end1) = job_interval(sweep / "0"), job_interval(sweep / "1")
    assert start0 < end1 and start1 < end0, "the two jobs did not overlap in time"


def test_submitit_local_launcher_runs_a_sweep(tiny_model, tiny_data, tmp_path):
    sweep = tmp_path / "sweep"
    base = overrides_without(tiny_overrides(tiny_model, *tiny_data), "peft.r")
    result = run_cli("core", "-m", "hydra/launcher=submitit_local", *base, "peft.r=4,8", f"hydra.sweep.dir={sweep}")
    assert result.returncode == 0, result.stderr
    assert_leaderboard_matches_jobs(sweep, 2)
    assert not math.isnan(collect(sweep)[0].finetuned)
