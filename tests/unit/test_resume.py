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


def test_the_fingerprint_is_the_same_before_and_after_the_files_are_resolved(tmp_path):
    """The command-line check (before the run) sees the composed config; the pipeline records the
    fingerprint once data.train_path and the shipped settings are filled in: they must agree."""
    from core.checkpoints import differences, fingerprint
    from core.shipped_data import resolve_data_paths
    from core.testing import write_intent_rows

    for overrides in (["task=qa"], [f"data.train_path={write_intent_rows(tmp_path / 't.jsonl', [('a', 'x')])}"]):
        composed = compose_config(overrides)
        resolved = compose_config(overrides)
        resolve_data_paths(resolved)
        assert differences(fingerprint(composed), fingerprint(resolved)) == []
        assert fingerprint(composed)["data"]["data.train_path"]  # the file's content is hashed


def test_overwriting_a_finished_run_does_not_resume_from_its_kept_checkpoints(tmp_path):
    """train.keep_checkpoints=true leaves the finished run's checkpoints: overwrite=true replaces
    the run, so they are removed and training starts over (it 'resumed' at the last step before)."""
    from core.checkpoints import resume_or_start

    cfg = compose_config(["overwrite=true", "train.keep_checkpoints=true"])
    make_checkpoint(tmp_path, 10)
    (tmp_path / "results.json").write_text("{}")
    assert resume_or_start(cfg, tmp_path) is None
    assert not (tmp_path / "checkpoints").exists() and not (tmp_path / "results.json").exists()
