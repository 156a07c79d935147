"""Checkpoints: which one a resumed run picks up, and which earlier run it continues."""

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from core.checkpoints import find_resume_checkpoint, latest_checkpoint
from core.errors import PlugtuneError
from core.testing import compose_config


def make_checkpoint(run_dir: Path, step: int, complete: bool = True) -> Path:
    path = run_dir / "checkpoints" / f"checkpoint-{step}"
    path.mkdir(parents=True)
    if complete:
        (path / "trainer_state.json").write_text("{}")
    return path


def record_overrides(run_dir: Path, overrides: list[str]) -> None:
    (run_dir / ".hydra").mkdir(parents=True, exist_ok=True)
    (run_dir / ".hydra" / "overrides.yaml").write_text(OmegaConf.to_yaml(overrides))


def test_latest_checkpoint_skips_incomplete_ones(tmp_path):
    assert latest_checkpoint(tmp_path) is None
    make_checkpoint(tmp_path, 4)
    make_checkpoint(tmp_path, 10)
    make_checkpoint(tmp_path, 12, complete=False)  # killed while saving
    assert latest_checkpoint(tmp_path).name == "checkpoint-10"


def test_resume_true_finds_the_unfinished_sibling_run_with_the_same_overrides(tmp_path):
    cfg = compose_config(["train.resume=true"])
    crashed, finished, other, current = (tmp_path / n for n in ("crashed", "finished", "other", "current"))
    record_overrides(crashed, ["task=intent", "train.lr=1e-3"])
    make_checkpoint(crashed, 8)
    record_overrides(finished, ["task=intent", "train.lr=1e-3"])
    make_checkpoint(finished, 9)
    (finished / "results.json").write_text("{}")
    record_overrides(other, ["task=intent", "train.lr=5e-3"])
    make_checkpoint(other, 20)
    record_overrides(current, ["task=intent", "train.lr=1e-3", "train.resume=true"])
    assert find_resume_checkpoint(cfg, current) == crashed / "checkpoints" / "checkpoint-8"
    # without train.resume only the run's own directory counts
    assert find_resume_checkpoint(compose_config(), current) is None
    record_overrides(current, ["task=intent", "train.lr=2e-3", "train.resume=true"])
    with pytest.raises(PlugtuneError, match="train.resume=true: no unfinished run"):
        find_resume_checkpoint(cfg, current)
