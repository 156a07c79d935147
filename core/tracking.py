"""Experiment tracking (``train.report_to``): skeleton, filled in by the tracking work."""

from __future__ import annotations


def trainer_kwargs(cfg, run_dir) -> dict:
    """TrainingArguments keywords for the trackers named in ``train.report_to``."""
    return {"report_to": []}


def callbacks(cfg) -> list:
    """TrainerCallbacks the trackers need beside the Trainer's own integrations."""
    return []


def log_results(cfg, run_dir, results: dict) -> None:
    """Log plugtune's own results (metrics, intervals, validation, config) to the trackers' runs."""
