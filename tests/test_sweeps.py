"""Multirun sweeps: the leaderboard, failed jobs, and the Optuna / joblib / submitit presets."""

import csv
import json
import math
import re
from datetime import datetime
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from conftest import run_cli, tiny_overrides
from core.leaderboard import collect, main as leaderboard_main, parse_overrides, swept_keys, write_leaderboard
from core.testing import compose_config


def overrides_without(overrides: list[str], *keys: str) -> list[str]:
    """Drop the given keys from an override list, so a sweep can set them instead."""
    return [o for o in overrides if o.split("=", 1)[0] not in keys]


def fake_job(sweep: Path, num: int, overrides: list[str], finetuned=None, error=None) -> Path:
    job = sweep / str(num)
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "overrides.yaml").write_text(OmegaConf.to_yaml(overrides))
    if error:
        (job / "failed.json").write_text(json.dumps({"error": error}))
    elif finetuned is not None:
        results = {
            "main_metric": "macro_f1",
            "metrics": {"baseline": {"macro_f1": 0.1 + num / 100}, "finetuned": {"macro_f1": finetuned}},
            "train": {"seconds": 10.0 + num},
        }
        (job / "results.json").write_text(json.dumps(results))
        (job / "report.md").write_text("# report\n")
    return job


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_parse_overrides_handles_append_and_delete():
    assert parse_overrides(["train.lr=1e-4", "+foo=bar", "~baz", "peft.target_modules=[qv]"]) == {
        "train.lr": "1e-4", "foo": "bar", "baz": "", "peft.target_modules": "[qv]",
    }


def test_leaderboard_ranks_finished_jobs_and_lists_failures(tmp_path):
    sweep = tmp_path / "sweep"
    fake_job(sweep, 0, ["task=intent", "train.lr=1e-4"], finetuned=0.5)
    fake_job(sweep, 1, ["task=intent", "train.lr=5e-4"], finetuned=0.8)
    fake_job(sweep, 2, ["task=intent", "train.lr=1e-2"], error="data.eval_path: /x.jsonl does not exist")
    fake_job(sweep, 10, ["task=intent", "train.lr=1e-3"], finetuned=0.7)
    fake_job(sweep, 3, ["task=intent", "train.lr=2e-3"])  # killed: neither results nor failure

    rows = write_leaderboard(sweep)

    assert [r.job for r in rows] == ["1", "10", "0", "2", "3"]
    assert [r.status for r in rows] == ["ok", "ok", "ok", "failed", "incomplete"]
    assert swept_keys(rows) == ["train.lr"]
    table = read_csv(sweep / "leaderboard.csv")
    assert [float(r["finetuned"]) for r in table[:3]] == [0.8, 0.7, 0.5]
    assert [float(r["baseline"]) for r in table[:3]] == [0.11, 0.2, 0.1]
    assert table[3]["error"] == "data.eval_path: /x.jsonl does not exist"
    markdown = (sweep / "leaderboard.md").read_text()
    assert "| 1 | 5e-4 | 0.1100 | 0.8000 | 11.0 | [1](1/report.md) |" in markdown
    assert "| 4 | 1e-2 | failed | data.eval_path: /x.jsonl does not exist |  | 2 |" in markdown
    assert "Common overrides: `task=intent`" in markdown
    assert (sweep / "leaderboard.png").stat().st_size > 1000


def test_leaderboard_cli_rebuilds_and_rejects_a_missing_dir(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    fake_job(sweep, 0, ["peft.r=4"], finetuned=0.25)
    fake_job(sweep, 1, ["peft.r=8"], finetuned=0.75)
    assert leaderboard_main([str(sweep)]) == 0
    assert "| 1 | 8 |" in capsys.readouterr().out
    assert [r["job"] for r in read_csv(sweep / "leaderboard.csv")] == ["1", "0"]
    assert leaderboard_main([str(tmp_path / "nope")]) == 2
    assert "usage: python -m core.leaderboard SWEEP_DIR" in capsys.readouterr().err


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
    assert result.returncode == 0, result.stderr
    rows = collect(sweep)
    assert [(r.job, r.status) for r in rows] == [("1", "ok"), ("0", "failed")]
    assert str(missing) in rows[1].error and "\n" not in rows[1].error
    assert not (sweep / "0" / "results.json").exists()
    markdown = (sweep / "leaderboard.md").read_text()
    assert "2 jobs, 1 finished, 1 failed or incomplete" in markdown
    assert rows[1].error.replace("|", "\\|") in markdown


def test_optuna_preset_composes_with_in_memory_storage():
    cfg = compose_config(["hparams_search=optuna"], return_hydra_config=True)
    sweeper = cfg.hydra.sweeper
    assert sweeper.direction == "maximize" and sweeper.storage is None
    assert set(sweeper.params) == {"train.lr", "peft.r", "peft.alpha", "train.epochs", "peft.target_modules"}


def test_launcher_presets_compose():
    parallel = compose_config(["hydra/launcher=local_parallel"], return_hydra_config=True).hydra.launcher
    assert parallel._target_.endswith("JoblibLauncher") and parallel.n_jobs == 2
    slurm = compose_config(["hydra/launcher=slurm"], return_hydra_config=True).hydra.launcher
    assert slurm._target_.endswith("SlurmLauncher") and slurm.gpus_per_node == 1


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
