"""Training checkpoints: where a run keeps them, and which one a re-run resumes from.

The trainer saves ``run_dir/checkpoints/checkpoint-STEP`` every ``train.save_steps`` steps
(model adapter, optimizer, scheduler, RNG states, data position); the pipeline deletes them
once the adapter is saved. When training starts, the run records ``fingerprint.json``: its
resolved config (without run-only keys such as ``train.resume``) and the sha256 of each data
file (of a list of training files each one by position, ``data.train_path[1]``, its format and
weight in the config). A run that finds a checkpoint in its own run directory (the same command
re-run with the same ``hydra.run.dir``) continues from it only when the fingerprints match;
otherwise it stops and names what differs. ``train.resume=false`` starts over in place (the
checkpoints are removed); ``train.resume=true`` also looks at the other runs beside it (Hydra's timestamped
directories) for the newest unfinished one with the same overrides, config and data.
A run dir holding a finished run (``results.json``) is only reused with ``overwrite=true``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path

from omegaconf import OmegaConf

from core.errors import PlugtuneError
from core.rundir import read_overrides, write_json_atomic

CHECKPOINT_DIR = "checkpoints"
FINGERPRINT_FILE = "fingerprint.json"
RESULTS_FILE = "results.json"
#: Keys that say how a run is started, not what it computes: never part of the fingerprint.
RUN_ONLY_KEYS = ("train.resume", "overwrite", "mode", "train.threads", "model.cache_dir")
#: Keys naming files whose content (sha256) is fingerprinted instead of their path.
FILE_KEYS = ("data.train_path", "data.eval_path", "data.tools_file", "task.template_file")
log = logging.getLogger("plugtune")


def _checkpoints(folder, holding: str) -> list[tuple[int, Path]]:
    """``(step, path)`` of the ``checkpoint-N`` folders under ``folder`` that hold ``holding``, by step."""
    found = []
    for path in Path(folder).glob("checkpoint-*"):
        step = path.name.removeprefix("checkpoint-")
        if step.isdigit() and (path / holding).is_file():
            found.append((int(step), path))
    return sorted(found)


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The highest-step complete checkpoint of a run (``trainer_state.json`` is saved last)."""
    found = _checkpoints(Path(run_dir) / CHECKPOINT_DIR, "trainer_state.json")
    return found[-1][1] if found else None


def kept_checkpoints(folder) -> list[int]:
    """The steps of the checkpoints under ``folder`` (a run's ``checkpoints/``) that hold an adapter, in order."""
    return [step for step, _ in _checkpoints(folder, "adapter_config.json")]


def remaining_fraction(checkpoint: Path | str | None) -> float:
    """The share of the run's steps still to train after ``checkpoint`` (1.0 without one): a
    resumed run's throughput counts only the work of its own process."""
    if checkpoint is None:
        return 1.0
    try:
        state = json.loads((Path(checkpoint) / "trainer_state.json").read_text(encoding="utf-8"))
        step, total = int(state.get("global_step") or 0), int(state.get("max_steps") or 0)
    except (OSError, ValueError):
        return 1.0
    return max(0.0, (total - step) / total) if total > 0 else 1.0


def _flatten(node, prefix: str = "") -> dict:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            out.update(_flatten(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: node}


def _sha256(path) -> str | None:
    if not path or not Path(str(path)).is_file():
        return None
    digest = hashlib.sha256()
    with open(str(path), "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(cfg) -> dict:
    """What a checkpoint was made with: ``{"config": {dotted key: value}, "data": {key: sha256}}``."""
    from core.shipped_data import resolve_data_paths

    cfg = cfg.copy()
    resolve_data_paths(cfg, quiet=True)  # the files a run reads, whether or not the pipeline resolved them yet
    container = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    container.pop("hydra", None)
    flat = _flatten(container)
    config = {k: v for k, v in flat.items() if k not in RUN_ONLY_KEYS and k not in FILE_KEYS}
    data = {}
    for key in FILE_KEYS:
        value = flat.get(key)
        if isinstance(value, list):  # several files (data.train_path): each one's content, by position
            entries = [entry if isinstance(entry, dict) else {"path": entry} for entry in value]
            data.update({f"{key}[{i}]": _sha256(entry.get("path")) for i, entry in enumerate(entries)})
            # An entry's format and weight change what is trained: part of the config, not the path.
            config[key] = [{k: v for k, v in entry.items() if k != "path"} for entry in entries]
        elif value:
            data[key] = _sha256(value)
    return {"config": config, "data": data}


def _short(value) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= 40 else text[:37] + "..."


def differences(old: dict, new: dict) -> list[str]:
    """What differs between two fingerprints, one short phrase per key."""
    found = []
    old_cfg, new_cfg = old.get("config", {}), new.get("config", {})
    for key in sorted(set(old_cfg) | set(new_cfg)):
        if old_cfg.get(key, "<unset>") != new_cfg.get(key, "<unset>"):
            found.append(f"{key}: {_short(old_cfg.get(key, '<unset>'))} -> {_short(new_cfg.get(key, '<unset>'))}")
    old_data, new_data = old.get("data", {}), new.get("data", {})
    for key in sorted(set(old_data) | set(new_data)):
        if old_data.get(key) != new_data.get(key):
            found.append(f"{key}: the file's content differs (sha256 {str(old_data.get(key))[:8]} -> {str(new_data.get(key))[:8]})")
    return found


def read_fingerprint(run_dir: Path) -> dict | None:
    path = Path(run_dir) / FINGERPRINT_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    except ValueError:
        return None


def check_not_finished(cfg, run_dir: Path) -> None:
    """Refuse a run dir that holds a finished run (``results.json``) unless ``overwrite=true``."""
    results = Path(run_dir) / RESULTS_FILE
    if results.is_file() and not cfg.get("overwrite", False):
        try:
            finished = json.loads(results.read_text(encoding="utf-8"))
            what = f"{finished.get('task')} on {finished.get('model')}, "
        except (OSError, ValueError, AttributeError):
            what = ""
        raise PlugtuneError(
            f"{run_dir} holds a finished run ({what}{RESULTS_FILE}); re-running would replace its results: "
            f"use a new run dir (hydra.run.dir=DIR) or add overwrite=true to replace it"
        )


def check_same_run(cfg, run_dir: Path, current: dict | None = None) -> None:
    """Stop when ``run_dir``'s checkpoints were made with another config or other data."""
    recorded = read_fingerprint(run_dir)
    if recorded is None:
        log.warning("%s has checkpoints but no %s (an older plugtune): resuming without checking config and data",
                    run_dir, FINGERPRINT_FILE)
        return
    found = differences(recorded, current or fingerprint(cfg))
    if found:
        shown = "; ".join(found[:4]) + (f"; and {len(found) - 4} more" if len(found) > 4 else "")
        raise PlugtuneError(
            f"{run_dir} holds checkpoints of a run with another config or data ({shown}): "
            f"use a new run dir (hydra.run.dir=DIR) or add train.resume=false to start over in place"
        )


def check_run_dir(cfg, run_dir: Path) -> None:
    """Every check made before a run touches ``run_dir`` (the CLI runs it before Hydra writes
    ``.hydra/`` there): not a finished run, and checkpoints only of this config and data."""
    check_not_finished(cfg, run_dir)
    if cfg.mode != "inspect" and cfg.train.resume is not False and latest_checkpoint(run_dir) is not None:
        check_same_run(cfg, run_dir)


def _run_overrides(run_dir: Path) -> list[str] | None:
    """The command-line overrides Hydra recorded for a run, without ``train.resume``."""
    overrides = read_overrides(run_dir)
    if overrides is None:
        return None
    return sorted(o for o in overrides if not o.lstrip("+~").startswith("train.resume="))


def find_resume_checkpoint(cfg, run_dir: Path, current: dict | None = None) -> Path | None:
    """The checkpoint this run should continue from, or None to train from the start."""
    run_dir = Path(run_dir)
    if cfg.train.resume is False:
        return None
    current = current or fingerprint(cfg)
    own = latest_checkpoint(run_dir)
    if own is not None:
        check_same_run(cfg, run_dir, current)
        return own
    if not cfg.train.resume:
        return None
    wanted = _run_overrides(run_dir)

    def same_run(d: Path) -> bool:
        recorded = read_fingerprint(d)
        return recorded is None or not differences(recorded, current)

    candidates = [
        latest_checkpoint(d) for d in run_dir.parent.iterdir()
        if d.is_dir() and d != run_dir and not (d / RESULTS_FILE).exists() and _run_overrides(d) == wanted and same_run(d)
    ]
    unfinished = [checkpoint for checkpoint in candidates if checkpoint is not None]
    if not unfinished:
        raise PlugtuneError(
            f"train.resume=true: no unfinished run with checkpoints and the same overrides, config and data under "
            f"{run_dir.parent}; re-run the crashed command exactly, or pass its directory as hydra.run.dir=DIR"
        )
    return max(unfinished, key=lambda checkpoint: checkpoint.stat().st_mtime)


def resume_or_start(cfg, run_dir: Path, main_process: bool = True) -> Path | None:
    """Check ``run_dir`` and return the checkpoint to continue from (None: train from the start).

    A finished run is refused unless ``overwrite=true`` (then its ``results.json`` goes first);
    ``train.resume=false`` removes old checkpoints; the run's fingerprint is (re)written.
    Only the main process changes files."""
    run_dir = Path(run_dir)
    check_not_finished(cfg, run_dir)
    current = fingerprint(cfg)
    # overwrite=true on a finished run: checkpoints it kept (train.keep_checkpoints) are the old
    # run's finished training, not a crash to continue from.
    replacing = (run_dir / RESULTS_FILE).is_file()
    checkpoint = None if replacing else find_resume_checkpoint(cfg, run_dir, current)
    if main_process:
        (run_dir / RESULTS_FILE).unlink(missing_ok=True)  # overwrite=true: the old result cannot outlive this run
        if (cfg.train.resume is False or replacing) and (run_dir / CHECKPOINT_DIR).exists():
            why = "overwrite=true replaces a finished run" if replacing else "train.resume=false"
            log.info("%s: removing the checkpoints in %s and starting over", why, run_dir)
            shutil.rmtree(run_dir / CHECKPOINT_DIR)
        write_json_atomic(run_dir / FINGERPRINT_FILE, current)
    return checkpoint



try:
    from hydra.experimental.callback import Callback
except ImportError:  # pragma: no cover - hydra-core is a dependency
    Callback = object


class RunDirCallback(Callback):
    """Hydra callback: :func:`check_run_dir` before Hydra writes ``.hydra/`` and the log into the
    run dir, so a refused run leaves a finished or crashed run's directory exactly as it was."""

    def on_run_start(self, config, **kwargs) -> None:
        import copy

        from omegaconf import open_dict, read_write

        from core.errors import report_error

        try:
            run_dir = Path(str(config.hydra.run.dir))
            task_cfg = copy.deepcopy(config)
            with read_write(task_cfg), open_dict(task_cfg):
                del task_cfg["hydra"]
            OmegaConf.to_container(task_cfg, resolve=True)
        except Exception:  # noqa: BLE001 - unresolvable here: the pipeline checks again
            return
        try:
            check_run_dir(task_cfg, run_dir)
        except PlugtuneError as exc:
            report_error(exc)
