"""``python -m core``: the Hydra application that runs one task (or a sweep with ``-m``)."""

from __future__ import annotations

import logging
import math
import traceback
from pathlib import Path

import hydra
from omegaconf import DictConfig

import core.config  # noqa: F401  (registers the config schema before Hydra composes)
from core.errors import PlugtuneError, report_error
from core.shipped_data import resolve_data_paths
from core.validate import check_overrides, check_values, quote_plain_text

log = logging.getLogger("plugtune")


# "old key is now new key" for each older key on the command line, logged once logging is set up.
RENAMED: list[str] = []


def main() -> None:
    """``python -m core``: older override keys are renamed first (``train.compile`` is now
    ``train.speedups.compile``, ``task.max_new_tokens`` is ``generation.max_new_tokens``; the
    table is ``core.config.LEGACY_KEYS``), then Hydra composes the config and runs ``hydra_main``."""
    import sys

    from core.config import rename_legacy_overrides

    sys.argv[1:] = quote_plain_text(rename_legacy_overrides(sys.argv[1:], notes=RENAMED))
    try:  # a removed key or a missing group option (task=foo): one line, not Hydra's dump
        check_overrides(sys.argv[1:])
    except PlugtuneError as exc:
        report_error(exc)
    hydra_main()


@hydra.main(version_base="1.3", config_path="pkg://conf", config_name="config")
def hydra_main(cfg: DictConfig) -> float:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    run_dir = Path(HydraConfig.get().runtime.output_dir)
    for note in RENAMED:  # in each run's log (every job of a sweep)
        log.info(note)
    if HydraConfig.get().mode == RunMode.MULTIRUN:
        return run_sweep_job(cfg, run_dir)
    try:
        return run_task(cfg, run_dir)
    except PlugtuneError as exc:
        report_error(exc)
    except Exception as exc:  # a crash: its traceback goes to the run's plugtune.log too
        from core.errors import log_to_files

        log_to_files(f"error: {type(exc).__name__}: {exc}\n{traceback.format_exc()}")
        raise


def run_task(cfg: DictConfig, run_dir: Path) -> float:
    """Run (or inspect) one task into ``run_dir``; return its main metric."""
    resolve_data_paths(cfg)  # the shipped example set, or the user's files without its settings
    check_values(cfg)  # ranges and choices, before any model or data loads
    from core.pipeline import Plugins, main_metric, print_summary, run

    if cfg.mode == "inspect":
        from core.inspect_data import inspect

        print(inspect(cfg, Plugins.resolve(cfg)))
        return 0.0
    results = run(cfg, run_dir)
    if results is None:  # a DDP rank other than 0: rank 0 reports
        return math.nan
    print_summary(results, run_dir)
    return main_metric(results)


def run_sweep_job(cfg: DictConfig, run_dir: Path) -> float:
    """One job of a sweep: a failure is recorded in ``failed.json`` and the sweep goes on.

    Hydra's basic sweeper stops the whole sweep at the first job that raises, so the job
    returns NaN instead (Optuna marks such a trial failed) and the leaderboard lists it.
    """
    from core.leaderboard import FAILED_FILE
    from core.rundir import write_json_atomic

    try:
        return run_task(cfg, run_dir)
    except Exception as exc:  # noqa: BLE001 - any failure of one job must not end the sweep
        line = str(exc) if isinstance(exc, PlugtuneError) else f"{type(exc).__name__}: {exc}"
        line = line.strip().splitlines()[0] if line.strip() else type(exc).__name__
        if not isinstance(exc, PlugtuneError):
            log.error("job failed:\n%s", traceback.format_exc())
        log.error("error: %s", line)
        write_json_atomic(run_dir / FAILED_FILE, {"error": line, "type": type(exc).__name__})
        return math.nan
