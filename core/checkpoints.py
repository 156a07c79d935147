"""Training checkpoints: where a run keeps them, and which one a re-run resumes from.

The trainer saves ``run_dir/checkpoints/checkpoint-STEP`` every ``train.save_steps`` steps
(model adapter, optimizer, scheduler, RNG states, data position); the pipeline deletes them
once the adapter is saved. A run that finds a checkpoint in its own run directory (the same
command re-run with the same ``hydra.run.dir``) continues from it. ``train.resume=true`` also
looks at the other runs beside it (Hydra's timestamped directories) for the newest unfinished
one with the same overrides.
"""

from __future__ import annotations

import logging
from pathlib import Path

from core.errors import PlugtuneError
from core.rundir import read_overrides

CHECKPOINT_DIR = "checkpoints"
log = logging.getLogger("plugtune")


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The highest-step complete checkpoint of a run (``trainer_state.json`` is saved last)."""
    found = []
    for path in (Path(run_dir) / CHECKPOINT_DIR).glob("checkpoint-*"):
        step = path.name.removeprefix("checkpoint-")
        if step.isdigit() and (path / "trainer_state.json").is_file():
            found.append((int(step), path))
    return max(found)[1] if found else None


def _run_overrides(run_dir: Path) -> list[str] | None:
    """The command-line overrides Hydra recorded for a run, without ``train.resume``."""
    overrides = read_overrides(run_dir)
    if overrides is None:
        return None
    return sorted(o for o in overrides if not o.lstrip("+~").startswith("train.resume="))


def find_resume_checkpoint(cfg, run_dir: Path) -> Path | None:
    """The checkpoint this run should continue from, or None to train from the start."""
    run_dir = Path(run_dir)
    own = latest_checkpoint(run_dir)
    if own is not None:
        return own
    if not cfg.train.resume:
        return None
    wanted = _run_overrides(run_dir)
    candidates = [
        latest_checkpoint(d) for d in run_dir.parent.iterdir()
        if d.is_dir() and d != run_dir and not (d / "results.json").exists() and _run_overrides(d) == wanted
    ]
    unfinished = [checkpoint for checkpoint in candidates if checkpoint is not None]
    if not unfinished:
        raise PlugtuneError(
            f"train.resume=true: no unfinished run with checkpoints and the same overrides under {run_dir.parent}; "
            f"re-run the crashed command exactly, or pass its directory as hydra.run.dir=DIR"
        )
    return max(unfinished, key=lambda checkpoint: checkpoint.stat().st_mtime)
