"""Intent classification: plugtune's `task=intent` default against the intent tutorial's recipe, literally.

The intent tutorial's recipe (WORKFLOWS.md): AutoModelForSequenceClassification, LoRA r=8 alpha=16 on q_proj+v_proj,
HF Trainer, batch 1, every row padded to max_length 64, fp32, 1 epoch, lr 2e-5. Both train on
the shipped intent data with the embedded model and are scored on the shipped test split. The tutorial recipe's
per-epoch eval/save is left out of its timed training (it would only slow it further).
The tutorial recipe trains one epoch and plugtune's default four; `plugtune-1-epoch` is the default cut to the tutorial recipe's
one epoch, the like-for-like rate (the tutorial recipe's rate does not depend on the number of epochs);
`plugtune-no-freeze` is the default training the LoRA of all 12 blocks in every epoch (no
`train.speedups.freeze_schedule` schedule), and `plugtune-compile` the default with
`train.speedups.compile=true`, to show what compiling adds; it
compiles into an empty cache directory, so its training time includes a first run's compile
(later runs on the same machine reuse torch's on-disk cache). `plugtune-fp32` is the default
with `train.speedups.cpu_bf16=false`: on a CPU with AMX tiles the default trains under bf16 autocast.

The machine's speed drifts over a run of the suite (up to ~25 % between invocations), so the tutorial recipe's
rate is measured twice: the full `intent-tutorial` run first, and `intent-tutorial-again` (the same recipe on its first
400 rows, training only; batch 1 padded to 64 tokens makes every tutorial-recipe step cost the same, so any
rows give its rate) after the plugtune variants. The default's ratio is also printed against
the mean of the two, a tutorial-recipe rate taken around it rather than ten minutes before it.

    python bench/intent.py                    # full data (~35 min on 2 CPU cores)
    python bench/intent.py --train-rows 200   # a quick look at speed only
    python bench/intent.py --variants intent-tutorial-again plugtune --set model.path=DIR   # another model (bench/gpu.py)
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import add_override_argument, emit, memory_figures, on_gpu, override_args, print_table, run_variant

LABELS = ["fraud_risk", "refund", "balance", "card_lost", "other"]


def plugtune_variant(train_rows: int | None, overrides: list[str], extra_overrides: tuple[str, ...] = ()) -> dict:
    import os

    from core.pipeline import run
    from core.testing import compose_config

    # train.min_steps=0: the epochs asked for, so a row subset is timed as asked
    overrides = (["task=intent", "train.min_steps=0", *overrides, *extra_overrides]
                 + ([f"data.max_train_rows={train_rows}"] if train_rows else []))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(Path(tmp) / "compile-cache")  # train.speedups.compile: a first run
        results = run(compose_config(overrides), Path(tmp) / "run")
    train = results["train"]
    return {
        "train_examples": train["examples"], "train_seconds": train["seconds"],
        "examples_per_second": train["examples"] / train["seconds"],
        "wall_seconds": time.perf_counter() - started, **memory_figures(),
        "macro_f1": results["metrics"]["finetuned"]["macro_f1"],
    }


TUTORIAL_AGAIN_ROWS = 400  # enough steps (~2 min) for a steady rate


def tutorial_variant(train_rows: int | None, overrides: list[str], evaluate: bool = True) -> dict:
    import json

    import torch
    from datasets import Dataset
    from peft import LoraConfig, get_peft_model
    from sklearn.metrics import f1_score
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, Trainer, TrainingArguments

    from core.models import resolve_model_dir
    from core.testing import compose_config

    started = time.perf_counter()
    model_dir = resolve_model_dir(compose_config(list(overrides)).model)
    data = Path(__file__).resolve().parent.parent / "data" / "intent"
    read = lambda name: [json.loads(line) for line in (data / name).read_text(encoding="utf-8").splitlines()]  # noqa: E731
    train_rows_list = [r for r in read("train.jsonl") if r["label"] in LABELS][: train_rows or None]
    test_rows = [r for r in read("test.jsonl") if r["label"] in LABELS]

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token
    label2id = {label: i for i, label in enumerate(LABELS)}
    model = AutoModelForSequenceClassification.from_pretrained(
        model_dir, num_labels=len(LABELS), id2label=dict(enumerate(LABELS)), label2id=label2id, dtype=torch.float32)
    model.config.pad_token_id = tokenizer.pad_token_id
    torch.nn.init.normal_(model.score.weight, mean=0.0, std=0.02)
    model = get_peft_model(model, LoraConfig(task_type="SEQ_CLS", r=8, lora_alpha=16, lora_dropout=0.05,
                                             target_modules=["q_proj", "v_proj"], bias="none"))

    def encode(rows):
        encoded = tokenizer([r["text"] for r in rows], truncation=True, padding="max_length", max_length=64)
        return Dataset.from_dict({**encoded, "labels": [label2id[r["label"]] for r in rows]})

    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(output_dir=tmp, per_device_train_batch_size=1, num_train_epochs=1, learning_rate=2e-5,
                                 weight_decay=0.01, eval_strategy="no", save_strategy="no", report_to=[], use_cpu=not on_gpu(),
                                 disable_tqdm=True, seed=42)
        trainer = Trainer(model=model, args=args, train_dataset=encode(train_rows_list))
        train_started = time.perf_counter()
        trainer.train()
        train_seconds = time.perf_counter() - train_started
        logits = trainer.predict(encode(test_rows)).predictions if evaluate else None
    figures = {
        "train_examples": len(train_rows_list), "train_seconds": train_seconds,
        "examples_per_second": len(train_rows_list) / train_seconds,
        "wall_seconds": time.perf_counter() - started, **memory_figures(),
    }
    if logits is not None:
        predicted, truth = logits.argmax(-1).tolist(), [label2id[r["label"]] for r in test_rows]
        figures["macro_f1"] = f1_score(truth, predicted, average="macro", labels=list(range(len(LABELS))), zero_division=0)
    return figures


def tutorial_again_variant(train_rows: int | None, overrides: list[str]) -> dict:
    """The tutorial recipe's rate once more, after the plugtune variants: its first TUTORIAL_AGAIN_ROWS rows, no scoring."""
    return tutorial_variant(min(train_rows or TUTORIAL_AGAIN_ROWS, TUTORIAL_AGAIN_ROWS), overrides, evaluate=False)


def plugtune_one_epoch_variant(train_rows: int | None, overrides: list[str]) -> dict:
    """The default with the tutorial recipe's single epoch: the per-epoch rate, without the frozen-block cache that
    makes the default's later epochs cheaper."""
    return plugtune_variant(train_rows, overrides, ("train.epochs=1",))


def plugtune_no_freeze_variant(train_rows: int | None, overrides: list[str]) -> dict:
    """The default without its freeze schedule: the LoRA weights of all 12 blocks train in every
    epoch, so every step runs backward through 12 blocks."""
    return plugtune_variant(train_rows, overrides, ("train.speedups.freeze_schedule=null",))


def plugtune_compile_variant(train_rows: int | None, overrides: list[str]) -> dict:
    """The default with ``train.speedups.compile=true``: the training steps run the LoRA blocks compiled."""
    return plugtune_variant(train_rows, overrides, ("train.speedups.compile=true",))


def plugtune_fp32_variant(train_rows: int | None, overrides: list[str]) -> dict:
    """The default in fp32 throughout: on a CPU with AMX tiles the default trains under bf16
    autocast (``train.speedups.cpu_bf16=auto``); elsewhere this is the default itself."""
    return plugtune_variant(train_rows, overrides, ("train.speedups.cpu_bf16=false",))


VARIANTS = {"intent-tutorial": tutorial_variant, "plugtune-1-epoch": plugtune_one_epoch_variant, "plugtune": plugtune_variant,
            "plugtune-fp32": plugtune_fp32_variant, "plugtune-no-freeze": plugtune_no_freeze_variant,
            "plugtune-compile": plugtune_compile_variant, "intent-tutorial-again": tutorial_again_variant}


TABLE_COLUMNS = [
    ("train_examples", "train examples", "d"), ("examples_per_second", "train examples/s", ".2f"),
    ("train_seconds", "train s", ".1f"), ("wall_seconds", "whole run s", ".1f"),
    ("peak_rss_mib", "peak RSS MiB", ".0f"), ("peak_gpu_mib", "peak GPU MiB", ".0f"), ("macro_f1", "macro-F1", ".4f"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=VARIANTS)
    parser.add_argument("--variants", choices=VARIANTS, nargs="+", default=list(VARIANTS),
                        help="which variants to run, in this order (default: all)")
    parser.add_argument("--train-rows", type=int, default=None)
    add_override_argument(parser)
    args = parser.parse_args()
    if args.variant:
        emit(VARIANTS[args.variant](args.train_rows, args.overrides))
        return
    extra = (["--train-rows", str(args.train_rows)] if args.train_rows else []) + override_args(args.overrides)
    rows = [{"variant": name, **run_variant(__file__, name, extra)} for name in args.variants]
    for row in rows:
        if row["variant"] == "intent-tutorial-again" and "intent-tutorial" in args.variants:
            # It trains on fewer rows: only its rate and memory compare with the tutorial recipe's full run.
            row["ratio_keys"] = {"examples_per_second", "peak_rss_mib", "peak_gpu_mib"}
    reference = next(name for name in ("intent-tutorial", "intent-tutorial-again", *args.variants) if name in args.variants)
    print_table(rows, TABLE_COLUMNS, reference=reference)
    by_name = {row["variant"]: row for row in rows}
    if not {"intent-tutorial", "intent-tutorial-again", "plugtune"} <= by_name.keys():
        return
    tutorial_rates = [by_name[name]["examples_per_second"] for name in ("intent-tutorial", "intent-tutorial-again")]
    tutorial_mean = sum(tutorial_rates) / 2
    print(f"\nTutorial recipe examples/s before / after the plugtune variants: {tutorial_rates[0]:.2f} / {tutorial_rates[1]:.2f} "
          f"({tutorial_rates[1] / tutorial_rates[0] - 1:+.1%}); plugtune default against their mean {tutorial_mean:.2f}: "
          f"{by_name['plugtune']['examples_per_second'] / tutorial_mean:.2f}×")


if __name__ == "__main__":
    main()
