"""``python -m core``: the Hydra application that runs one task (or a sweep with ``-m``)."""

from __future__ import annotations

from pathlib import Path

import hydra
from omegaconf import DictConfig

import core.config  # noqa: F401  (registers the config schema before Hydra composes)
from core.errors import PlugtuneError, report_error


@hydra.main(version_base="1.3", config_path="pkg://conf", config_name="config")
def main(cfg: DictConfig) -> float:
    from hydra.core.hydra_config import HydraConfig

    from core.pipeline import Plugins, main_metric, print_summary, run

    run_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        if cfg.mode == "inspect":
            from core.inspect_data import inspect

            print(inspect(cfg, Plugins.resolve(cfg)))
            return 0.0
        results = run(cfg, run_dir)
        print_summary(results, run_dir)
        return main_metric(results)
    except PlugtuneError as exc:
        report_error(exc)
