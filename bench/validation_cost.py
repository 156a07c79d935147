"""What validation costs: a task's default with a validation split scored at every epoch, against
the same run with the split set aside but never scored (``train.eval_strategy=no``), so both
train on exactly the same rows. Each variant runs in its own process; the table prints training
time, the time spent scoring the validation split, and the ratio of the training times; the
last line also gives the scoring time as a share of the validating run's own training steps,
which the machine's speed drifting between the two runs does not move.

    python bench/validation_cost.py                      # intent and qa, data.val_fraction=0.1
    python bench/validation_cost.py --task qa --train-rows 60   # a quick look
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import add_override_argument, emit, memory_figures, override_args, print_table, run_variant

VARIANTS = ("no-validation", "validation")


def variant(task: str, name: str, fraction: float, train_rows: int | None, overrides: list[str]) -> dict:
    from core.pipeline import run
    from core.testing import compose_config

    extra = [f"task={task}", f"data.val_fraction={fraction}", *overrides]
    extra += [f"data.max_train_rows={train_rows}"] if train_rows else []
    extra += ["train.eval_strategy=no"] if name == "no-validation" else []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        results = run(compose_config(extra), Path(tmp) / "run")
    validation = results.get("validation") or {}
    best = validation.get("best") or {}
    return {
        "train_seconds": results["train"]["seconds"],
        "validation_seconds": validation.get("seconds", 0.0),
        "checks": len(validation.get("checks") or []),
        "best_epoch": best.get("epoch"),
        "main_metric": results["metrics"]["finetuned"][results["main_metric"]],
        "wall_seconds": time.perf_counter() - started,
        **memory_figures(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", nargs="+", default=["intent", "qa"])
    parser.add_argument("--fraction", type=float, default=0.1, help="data.val_fraction of both variants")
    parser.add_argument("--train-rows", type=int, default=None, help="data.max_train_rows (a quick look)")
    parser.add_argument("--variant", help=argparse.SUPPRESS)  # NAME:TASK, run by the driver in a fresh process
    add_override_argument(parser)
    args = parser.parse_args()
    if args.variant:
        name, task = args.variant.split(":")
        emit(variant(task, name, args.fraction, args.train_rows, args.overrides))
        return
    extra = ["--fraction", str(args.fraction), *override_args(args.overrides)]
    extra += ["--train-rows", str(args.train_rows)] if args.train_rows else []
    for task in args.task:
        rows = [{"variant": name, **run_variant(__file__, f"{name}:{task}", extra)} for name in VARIANTS]
        print(f"\n### task={task}, data.val_fraction={args.fraction}\n")
        print_table(rows, [("train_seconds", "training s", ".1f"), ("validation_seconds", "validation s", ".1f"),
                           ("checks", "checks", "d"), ("best_epoch", "best epoch", "g"),
                           ("main_metric", "fine-tuned main metric", ".4f"), ("peak_rss_mib", "peak RSS MiB", ".0f")],
                    reference="no-validation")
        added = rows[1]["train_seconds"] / rows[0]["train_seconds"] - 1
        scored = rows[1]["validation_seconds"]
        share = scored / (rows[1]["train_seconds"] - scored)
        print(f"\nvalidation adds {added:+.1%} to task={task}'s training time side by side; within the validating "
              f"run, {scored:.1f} s of scoring ({rows[1]['checks']} checks) is {share:+.1%} of its training steps")


if __name__ == "__main__":
    main()
