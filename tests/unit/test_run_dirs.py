"""Run directories: fingerprints for resume, unique names, finished runs, file modes, the log,
resumed throughput and the sweep's exit code (pure logic: no model, no CLI)."""

import json
import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from core.checkpoints import find_resume_checkpoint, remaining_fraction, resume_or_start
from core.errors import PlugtuneError, report_error
from core.rundir import save_dir_atomic, write_json_atomic, write_text_atomic
from core.testing import compose_config, write_intent_rows


def make_checkpoint(run_dir: Path, step: int, max_steps: int = 10) -> Path:
    path = run_dir / "checkpoints" / f"checkpoint-{step}"
    path.mkdir(parents=True)
    (path / "trainer_state.json").write_text(json.dumps({"global_step": step, "max_steps": max_steps}))
    return path


def config(tmp_path: Path, *extra: str, rows=(("a", "refund"), ("b", "balance"))):
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    train = write_intent_rows(data / "train.jsonl", list(rows))
    eval_ = write_intent_rows(data / "eval.jsonl", [("c", "refund")])
    return compose_config([f"data.train_path={train}", f"data.eval_path={eval_}", *extra])


# 1. resume only a run made with the same config and data ------------------------------------

def test_a_checkpoint_of_the_same_config_and_data_is_resumed(tmp_path):
    run_dir = tmp_path / "run"
    assert resume_or_start(config(tmp_path), run_dir) is None  # first start: records the fingerprint
    assert (run_dir / "fingerprint.json").is_file()
    checkpoint = make_checkpoint(run_dir, 4)
    # run-only keys (train.resume, mode, overwrite) do not count
    assert resume_or_start(config(tmp_path, "overwrite=true"), run_dir) == checkpoint


def test_a_checkpoint_of_another_config_stops_the_run_naming_what_differs(tmp_path):
    run_dir = tmp_path / "run"
    resume_or_start(config(tmp_path, "train.lr=1e-3"), run_dir)
    make_checkpoint(run_dir, 4)
    with pytest.raises(PlugtuneError) as raised:
        find_resume_checkpoint(config(tmp_path, "train.lr=5e-3", "train.batch_size=4"), run_dir)
    message = str(raised.value)
    assert "\n" not in message and str(run_dir) in message
    assert "train.lr: 0.001 -> 0.005" in message and "train.batch_size: 16 -> 4" in message
    assert "hydra.run.dir" in message and "train.resume=false" in message


def test_a_checkpoint_made_on_other_data_stops_the_run(tmp_path):
    run_dir = tmp_path / "run"
    resume_or_start(config(tmp_path), run_dir)
    make_checkpoint(run_dir, 4)
    with pytest.raises(PlugtuneError, match=r"data.train_path: the file's content differs"):
        resume_or_start(config(tmp_path, rows=(("a", "refund"), ("b", "other"))), run_dir)


def test_resume_false_starts_over_in_place(tmp_path):
    run_dir = tmp_path / "run"
    resume_or_start(config(tmp_path, "train.lr=1e-3"), run_dir)
    make_checkpoint(run_dir, 4)
    assert resume_or_start(config(tmp_path, "train.lr=5e-3", "train.resume=false"), run_dir) is None
    assert not (run_dir / "checkpoints").exists()
    assert json.loads((run_dir / "fingerprint.json").read_text())["config"]["train.lr"] == 5e-3


def test_a_sibling_with_other_data_is_not_resumed(tmp_path):
    crashed, current = tmp_path / "runs" / "crashed", tmp_path / "runs" / "current"
    resume_or_start(config(tmp_path), crashed)
    make_checkpoint(crashed, 4)
    other_data = config(tmp_path, "train.resume=true", rows=(("x", "refund"),))
    with pytest.raises(PlugtuneError, match="no unfinished run"):
        resume_or_start(other_data, current)
    assert resume_or_start(config(tmp_path, "train.resume=true"), current) == crashed / "checkpoints" / "checkpoint-4"


# 3. a finished run is not overwritten without overwrite=true --------------------------------

def test_a_finished_run_dir_is_refused_unless_overwrite(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "results.json").write_text("{}")
    with pytest.raises(PlugtuneError) as raised:
        resume_or_start(config(tmp_path), run_dir)
    assert "\n" not in str(raised.value) and str(run_dir) in str(raised.value) and "overwrite=true" in str(raised.value)
    resume_or_start(config(tmp_path, "overwrite=true"), run_dir)
    assert not (run_dir / "results.json").exists()  # the old result cannot outlive the new run


# 2. unique run dirs; every torchrun rank agrees ------------------------------------------

STAMP = "from core.distributed import run_stamp; print(run_stamp())"


def stamps(count: int, env: dict) -> list[str]:
    processes = [subprocess.Popen([sys.executable, "-c", STAMP], env={**os.environ, **env}, stdout=subprocess.PIPE, text=True)
                 for _ in range(count)]
    return [p.communicate()[0].strip() for p in processes]


def test_runs_started_in_the_same_second_get_different_stamps():
    env = {"WORLD_SIZE": "1"}
    found = stamps(4, env)
    assert len(set(found)) == 4, found


def test_the_ranks_of_one_torchrun_job_share_a_stamp():
    # four "ranks" started by the same launcher (this process): one stamp
    found = stamps(4, {"WORLD_SIZE": "4"})
    assert len(set(found)) == 1, found


# 4. atomic writes honour the umask ----------------------------------------------------------

@pytest.mark.parametrize("umask,file_mode,dir_mode", [(0o022, 0o644, 0o755), (0o077, 0o600, 0o700)])
def test_atomic_writes_honour_the_umask(tmp_path, umask, file_mode, dir_mode):
    old = os.umask(umask)
    try:
        write_text_atomic(tmp_path / "report.md", "x")
        write_json_atomic(tmp_path / "results.json", {})
        save_dir_atomic(tmp_path / "adapter", lambda d: (d / "a.bin").write_bytes(b"1"))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "report.md").stat().st_mode) == file_mode
    assert stat.S_IMODE((tmp_path / "results.json").stat().st_mode) == file_mode
    assert stat.S_IMODE((tmp_path / "adapter").stat().st_mode) == dir_mode


# 5. the error that stopped a run is in its log file -----------------------------------------

def test_report_error_writes_the_line_to_the_log_file(tmp_path, monkeypatch):
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    handler = logging.FileHandler(tmp_path / "plugtune.log")
    logging.getLogger().addHandler(handler)
    try:
        with pytest.raises(SystemExit) as exited:
            report_error(PlugtuneError("data.train_path: no such file"))
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    assert exited.value.code == 2
    assert "error: data.train_path: no such file" in (tmp_path / "plugtune.log").read_text()


# 6. a resumed run's throughput counts this process's work ----------------------------------

def test_remaining_fraction_of_a_resumed_run(tmp_path):
    assert remaining_fraction(None) == 1.0
    assert remaining_fraction(make_checkpoint(tmp_path, 4, max_steps=10)) == pytest.approx(0.6)


# 7. a sweep with a failed job exits non-zero after writing the leaderboard --------------------

def test_the_leaderboard_callback_exits_1_when_a_job_failed(tmp_path, capsys):
    from omegaconf import OmegaConf

    from core.leaderboard import LeaderboardCallback

    for job, name, content in (("0", "failed.json", {"error": "boom"}), ("1", "results.json", None)):
        (tmp_path / job / ".hydra").mkdir(parents=True)
        (tmp_path / job / ".hydra" / "overrides.yaml").write_text(f"- train.lr={job}\n")
        if content is not None:
            (tmp_path / job / name).write_text(json.dumps(content))
    (tmp_path / "1" / "results.json").write_text(json.dumps(
        {"main_metric": "acc", "metrics": {"baseline": {"acc": 0.1}, "finetuned": {"acc": 0.5}}, "train": {"seconds": 1}}))
    with pytest.raises(SystemExit) as exited:
        LeaderboardCallback().on_multirun_end(OmegaConf.create({"hydra": {"sweep": {"dir": str(tmp_path)}}}))
    assert exited.value.code == 1
    assert (tmp_path / "leaderboard.md").is_file()
    assert "1 of 2 jobs failed" in capsys.readouterr().err


def test_files_written_into_an_atomic_folder_follow_the_umask(tmp_path):
    import os

    from core.rundir import current_umask, save_dir_atomic

    def write(folder):
        # as safetensors writes a model: a private file, whatever the umask
        fd = os.open(folder / "model.safetensors", os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)

    save_dir_atomic(tmp_path / "merged", write)
    assert (tmp_path / "merged" / "model.safetensors").stat().st_mode & 0o777 == 0o666 & ~current_umask()
