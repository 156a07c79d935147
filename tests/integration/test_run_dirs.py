"""Run directories on real runs: a result describes the run that produced it (issue 25).

Another run's checkpoints and a finished run are refused before Hydra touches the directory;
run dirs are unique; files get the umask's modes; the log holds the error that stopped a run;
a resumed run's throughput counts its own work.
"""

import json
import os
import stat
import subprocess
import sys
import types
from pathlib import Path

import pytest

import core.pipeline
from core.checkpoints import latest_checkpoint, resume_or_start
from core.pipeline import run
from core.testing import REPO, compose_config, run_cli, tiny_overrides


def fake_checkpoint(run_dir: Path, step: int = 4) -> Path:
    path = run_dir / "checkpoints" / f"checkpoint-{step}"
    path.mkdir(parents=True)
    (path / "trainer_state.json").write_text(json.dumps({"global_step": step, "max_steps": 10}))
    return path


def test_another_runs_checkpoints_stop_the_run_before_hydra_writes(tiny_model, tiny_data, tmp_path):
    run_dir = tmp_path / "run"
    base = tiny_overrides(tiny_model, *tiny_data)
    resume_or_start(compose_config(base), run_dir)  # what the crashed run recorded when it started
    fake_checkpoint(run_dir)
    (run_dir / ".hydra").mkdir()
    (run_dir / ".hydra" / "overrides.yaml").write_text("- crashed-run\n")

    result = run_cli("core", *base, "train.lr=1e-3", "train.batch_size=4", f"hydra.run.dir={run_dir}")
    assert result.returncode == 2, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "train.lr: 0.005 -> 0.001" in lines[0] and "train.batch_size: 8 -> 4" in lines[0]
    assert "train.resume=false" in lines[0] and "hydra.run.dir" in lines[0]
    assert (run_dir / ".hydra" / "overrides.yaml").read_text() == "- crashed-run\n"  # untouched
    assert not (run_dir / "results.json").exists()


def test_a_finished_run_dir_is_refused_naming_the_run(tiny_model, tiny_data, tmp_path):
    run_dir = tmp_path / "run"
    (run_dir / ".hydra").mkdir(parents=True)
    (run_dir / ".hydra" / "overrides.yaml").write_text("- finished-run\n")
    (run_dir / "results.json").write_text(json.dumps({"task": "intent", "model": "tiny"}))
    result = run_cli("core", *tiny_overrides(tiny_model, *tiny_data), f"hydra.run.dir={run_dir}")
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert f"error: {run_dir} holds a finished run (intent on tiny" in result.stderr and "overwrite=true" in result.stderr
    assert (run_dir / ".hydra" / "overrides.yaml").read_text() == "- finished-run\n"
    assert json.loads((run_dir / "results.json").read_text()) == {"task": "intent", "model": "tiny"}


def test_runs_started_in_the_same_second_get_their_own_dirs(tiny_model, tiny_data, tmp_path):
    args = [sys.executable, "-m", "core", *tiny_overrides(tiny_model, *tiny_data), "mode=inspect"]
    env = {**os.environ, "PLUGTUNE_PROGRESS": "0", "PYTHONPATH": str(REPO)}
    processes = [subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
    for process in processes:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-2000:]
    dirs = [p.parent.parent for p in (tmp_path / "outputs" / "intent").glob("*/.hydra/overrides.yaml")]
    assert len(dirs) == 2, dirs


def test_a_failed_runs_log_holds_the_error_that_stopped_it(tiny_model, tiny_data, tmp_path):
    run_dir = tmp_path / "run"
    missing = tmp_path / "missing.jsonl"
    overrides = [o for o in tiny_overrides(tiny_model, *tiny_data) if not o.startswith("data.train_path=")]
    result = run_cli("core", *overrides, f"data.train_path={missing}", f"hydra.run.dir={run_dir}")
    assert result.returncode == 2, result.stderr[-2000:]
    line = result.stderr.strip()
    assert line.startswith("error: ") and str(missing) in line
    assert line in (run_dir / "plugtune.log").read_text()


def test_a_resumed_run_counts_only_its_own_work_and_files_follow_the_umask(tiny_model, tiny_data, tmp_path, monkeypatch):
    cfg = compose_config(tiny_overrides(tiny_model, *tiny_data) + ["train.save_steps=4"])  # 40 rows: 10 steps
    run_dir = tmp_path / "run"
    old_umask = os.umask(0o022)
    try:
        with monkeypatch.context() as patch:  # keep the checkpoints, as a run killed before its end would
            patch.setattr(core.pipeline, "shutil", types.SimpleNamespace(rmtree=lambda *a, **k: None))
            whole = run(cfg, run_dir)
        for name in ("results.json", "report.md", "predictions.jsonl", "train_log.json"):
            assert stat.S_IMODE((run_dir / name).stat().st_mode) == 0o644, name
        assert stat.S_IMODE((run_dir / "adapter").stat().st_mode) == 0o755
        assert whole["train"]["examples"] == whole["train"]["examples_this_process"] == 80

        # Killed after step 8's checkpoint (the trainer keeps the last two: 8 and 10): drop step 10 and the result.
        import shutil

        shutil.rmtree(run_dir / "checkpoints" / "checkpoint-10")
        (run_dir / "results.json").unlink()
        assert latest_checkpoint(run_dir).name == "checkpoint-8"
        resumed = run(cfg, run_dir)
    finally:
        os.umask(old_umask)
    train = resumed["train"]
    assert train["resumed_from"].endswith("checkpoint-8")
    assert train["examples"] == 80 and train["examples_this_process"] == 16  # steps 9-10 of 10
    assert train["examples_per_second"] == pytest.approx(16 / train["seconds"], rel=0.05)
