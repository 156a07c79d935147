"""The speed suite on a GPU: intent and SFT against the recipes, and MFU, for model shapes whose
weights need not be downloaded.

For each shape (default: the embedded model's, SmolLM2-135M, and Qwen2.5-1.5B's) it writes a
randomly initialised bf16 model (bench/random_model.py) and runs, each variant in its own process:

* intent (bench/intent.py): the intent tutorial's recipe (`intent-tutorial-again`: 400 rows, fp32, batch 1, training only) and
  plugtune's `task=intent` default on the full training split;
* SFT (bench/sft.py): the tool-call tutorial's recipe, TRL's defaults, TRL with plugtune's settings and plugtune, on
  ``--sft-rows`` rows of `task=qa` and `task=toolcall`;
* MFU (bench/mfu.py's figures) of the SFT qa run against the GPU's measured bf16 matmul peak.

Random weights train as fast as real ones of the same shape, so examples/s, tokens/s and peak GPU
memory are the shape's; the macro-F1 and losses are not a model's and are not reported. A variant
that fails is reported and the suite goes on, so one run on a lent machine gives every figure it
can. ``--json FILE`` keeps every figure.

    python bench/gpu.py                                   # both shapes, qa and toolcall
                                                          # (135M with --tasks qa alone: 5 min on the lent H200)
    python bench/gpu.py --shapes tiny --sft-rows 16       # a smoke run, on a CPU too
    python bench/gpu.py --tokenizer DIR                   # where the embedded model is not installed
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import intent
import sft
from common import override_args, print_table, run_variant
from mfu import matmul_peak, mfu_figures, parameter_counts, print_mfu
from random_model import SHAPES, write_random_model

BENCH = Path(__file__).resolve().parent
INTENT_VARIANTS = ("intent-tutorial-again", "plugtune")
SFT_VARIANTS = ("toolcall-tutorial", "trl-defaults", "trl-matched", "plugtune")
# plugtune's model config for a shape, where it has one (target modules, notes); the weights come
# from model.path either way.
MODEL_CONFIGS = {"qwen2.5-1.5b": "qwen2.5-1.5b"}


def run_or_report(script: str, variant: str, extra: list[str], failures: list[str]) -> dict | None:
    """One variant's figures, or None (and a line in ``failures``) when its process failed."""
    started = time.perf_counter()
    try:
        row = {"variant": variant, **run_variant(str(BENCH / script), variant, extra)}
    except SystemExit as exc:  # run_variant's report of a failed variant: keep going
        failures.append(f"{script} {variant} {' '.join(extra)}: {str(exc)[-1500:]}")
        print(f"  {variant}: FAILED after {time.perf_counter() - started:.0f} s", flush=True)
        return None
    print(f"  {variant}: done in {time.perf_counter() - started:.0f} s", flush=True)
    return row


def shape_suite(shape: str, model_dir: Path, args, peak: tuple[float, str], failures: list[str], figures: dict,
                save) -> None:
    """Every benchmark of one shape: prints its tables, puts the figures in ``figures`` and calls
    ``save()`` after each variant."""
    overrides = ([f"model={MODEL_CONFIGS[shape]}"] if shape in MODEL_CONFIGS else []) + [f"model.path={model_dir}"]

    print(f"\n## {shape} (random weights): intent, tutorial recipe vs plugtune default", flush=True)
    extra = (["--train-rows", str(args.intent_rows)] if args.intent_rows else []) + override_args(overrides)
    rows = figures["intent"] = []
    for variant in INTENT_VARIANTS:
        if row := run_or_report("intent.py", variant, extra, failures):
            rows.append(row)
            save()
    columns = [c for c in intent.TABLE_COLUMNS if c[0] != "macro_f1"]  # random weights: not a model's F1
    if rows:
        print_table(rows, columns, reference=rows[0]["variant"])

    for task in args.tasks:
        print(f"\n## {shape} (random weights): SFT task={task}, {args.sft_rows} rows, 1 epoch", flush=True)
        extra = ["--task", task, "--train-rows", str(args.sft_rows), *override_args(overrides)]
        rows = figures[f"sft_{task}"] = []
        for variant in SFT_VARIANTS:
            if row := run_or_report("sft.py", variant, extra, failures):
                rows.append(row)
                save()
        if rows:
            print_table(rows, [c for c in sft.TABLE_COLUMNS if c[0] != "final_train_loss"], reference=rows[0]["variant"])
            for row in rows:
                if row.get("note"):
                    print(f"{row['variant']}: {row['note']}")
        plugtune_qa = next((r for r in rows if r["variant"] == "plugtune"), None) if task == "qa" else None
        if plugtune_qa:
            from core.testing import compose_config

            cfg = compose_config(["task=qa", *overrides])
            figures["mfu"] = mfu_figures(plugtune_qa, parameter_counts(cfg.model, cfg.peft.top_layers), *peak)
            print(f"\n## {shape}: MFU of the SFT qa run")
            print_mfu(figures["mfu"])
        save()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", nargs="+", choices=SHAPES, default=["smollm2-135m", "qwen2.5-1.5b"])
    parser.add_argument("--tasks", nargs="+", choices=["qa", "toolcall"], default=["qa", "toolcall"])
    parser.add_argument("--sft-rows", type=int, default=256)
    parser.add_argument("--intent-rows", type=int, default=None, help="intent training rows (default: all)")
    parser.add_argument("--tokenizer", type=Path, default=None, help="tokenizer folder (default: the embedded model's)")
    parser.add_argument("--json", type=Path, default=None, help="also write every figure to this file")
    args = parser.parse_args()

    import torch

    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU (no CUDA GPU)"
    print(f"device: {device}; torch {torch.__version__}", flush=True)
    peak = matmul_peak()
    print(f"{peak[1]}: {peak[0] / 1e12:.1f} TFLOP/s", flush=True)
    results, failures = {"device": device, "torch": torch.__version__, "peak_flops": peak[0], "shapes": []}, []

    def save() -> None:  # after each variant: a suite cut short still leaves what it measured
        if args.json:
            args.json.write_text(json.dumps({**results, "failures": failures}, indent=2))

    with tempfile.TemporaryDirectory() as tmp:
        for shape in args.shapes:
            started = time.perf_counter()
            model_dir = write_random_model(shape, Path(tmp) / shape, args.tokenizer)
            print(f"\nwrote a random {shape} model in {time.perf_counter() - started:.0f} s", flush=True)
            results["shapes"].append({"shape": shape})
            shape_suite(shape, model_dir, args, peak, failures, results["shapes"][-1], save)
    if failures:
        print(f"\n{len(failures)} variant(s) failed:")
        for failure in failures:
            print(f"- {failure}")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
