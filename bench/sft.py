"""Generative fine-tuning speed: plugtune's `task=qa` / `task=toolcall` training against the tool-call tutorial's
recipe literally and against plain TRL `SFTTrainer` with its default settings.

All three train the same tokenised rows of the shipped data (plugtune's chat/alpaca rendering,
loss on the answer tokens only: equal loss masking) on the task's model for one epoch (the
embedded SmolLM2-135M for qa, the embedded Gemma 3 270M for toolcall):

* plugtune: the task's defaults (LoRA r16 on every linear layer of the last 12 blocks, batch 8,
  rows grouped by length, loss computed on answer positions only);
* `toolcall-tutorial`, the tool-call tutorial (WORKFLOWS.md): LoRA r=8 alpha=32 dropout 0.1 on all attention and MLP projections of every
  block, DataCollatorForSeq2Seq, batch 4 x accumulation 4, lr 1e-4, gradient checkpointing, fp32;
* TRL defaults: `SFTTrainer(model, args=SFTConfig(output_dir, num_train_epochs=1, use_cpu=True,
  completion_only_loss=True), peft_config=<plugtune's LoRA config>)`, everything else as TRL
  ships it (bf16 autocast and gradient checkpointing on). `use_cpu` because TRL refuses bf16 on a
  CPU without it; `completion_only_loss` because TRL trains pre-tokenised rows on every token
  otherwise, and the comparison is at equal loss masking;
* TRL matched: the same, with plugtune's trainer settings (fp32, no gradient checkpointing,
  batch 8, grouped by length), so the gap left is plugtune's loss on answer positions only.

Tokens/s counts non-padding tokens of the training rows.

    python bench/sft.py                  # 64 rows of each task (~20 min on 2 CPU cores)
    python bench/sft.py --train-rows 16  # a smoke run
    python bench/sft.py --set model.path=DIR   # another model (bench/gpu.py)

On a GPU every variant trains there, as its recipe's script would: the tutorial recipe and TRL in the model's
dtype (`model.dtype=auto`: bf16), TRL with its bf16 autocast, plugtune with its own settings.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import add_override_argument, emit, memory_figures, on_gpu, override_args, print_table, run_variant

TRL_DEFAULTS_MAX_ROWS = 8
W4_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def prepare(task: str, train_rows: int, tmp: str, overrides: list[str]):
    """Config, context, head and tokenised training rows for ``task`` (no model loaded yet)."""
    from core.data import load_data
    from core.kinds import RunContext
    from core.models import resolve_model_dir
    from core.pipeline import Plugins, configure_threads
    from core.testing import compose_config

    from transformers import set_seed

    cfg = compose_config([f"task={task}", *overrides, f"data.max_train_rows={train_rows}", "train.epochs=1",
                          "train.save_steps=null"])
    configure_threads(cfg)
    set_seed(cfg.seed)  # LoRA A's initial draw, as the pipeline does
    plugins = Plugins.resolve(cfg)
    data = load_data(cfg, plugins.data_format)
    ctx = RunContext(cfg=cfg, run_dir=Path(tmp), model_dir=resolve_model_dir(cfg.model), labels=[])
    plugins.head.load_tokenizer(ctx)
    return cfg, ctx, plugins, plugins.head.encode(ctx, data.train)


def figures(rows: list[dict], seconds: float) -> dict:
    tokens = sum(len(r["input_ids"]) for r in rows)
    answer_tokens = sum(sum(r["completion_mask"]) for r in rows)
    return {"rows": len(rows), "tokens": tokens, "answer_tokens": answer_tokens, "train_seconds": seconds,
            "tokens_per_second": tokens / seconds, **memory_figures()}


def plugtune_variant(task: str, train_rows: int, overrides: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cfg, ctx, plugins, rows = prepare(task, train_rows, tmp, overrides)
        model = plugins.head.load(ctx)
        result = plugins.trainer.train(ctx, model, plugins.head, rows, None)
        final_loss = [r["train_loss"] for r in result.log_history if "train_loss" in r][-1]
    return {**figures(rows, result.seconds), "final_train_loss": final_loss}


def labelled(rows: list[dict]):
    """Rows as the tool-call tutorial's script builds them: input_ids, attention_mask, labels -100 outside the answer."""
    from datasets import Dataset

    return Dataset.from_list([
        {"input_ids": r["input_ids"], "attention_mask": [1] * len(r["input_ids"]),
         "labels": [t if m else -100 for t, m in zip(r["input_ids"], r["completion_mask"])]}
        for r in rows
    ])


def toolcall_tutorial_variant(task: str, train_rows: int, overrides: list[str]) -> dict:
    from peft import LoraConfig, get_peft_model
    from transformers import DataCollatorForSeq2Seq, Trainer, TrainingArguments

    from core.training import checkpointing_argument

    with tempfile.TemporaryDirectory() as tmp:
        cfg, ctx, plugins, rows = prepare(task, train_rows, tmp, overrides)
        model = plugins.head.load_base(ctx)
        model.enable_input_require_grads()  # what the tutorial's scripts do for gradient checkpointing with LoRA
        model = get_peft_model(model, LoraConfig(task_type="CAUSAL_LM", r=8, lora_alpha=32, lora_dropout=0.1,
                                                 target_modules=W4_TARGETS, bias="none"))
        args = TrainingArguments(output_dir=tmp, per_device_train_batch_size=4, gradient_accumulation_steps=4,
                                 num_train_epochs=1, learning_rate=1e-4, logging_steps=1, **{checkpointing_argument(): True},
                                 save_strategy="no", report_to=[], use_cpu=not on_gpu(), disable_tqdm=True, seed=42)
        trainer = Trainer(model=model, args=args, train_dataset=labelled(rows),
                          data_collator=DataCollatorForSeq2Seq(ctx.tokenizer, padding=True, label_pad_token_id=-100))
        started = time.perf_counter()
        output = trainer.train()
        seconds = time.perf_counter() - started
    return {**figures(rows, seconds), "final_train_loss": output.training_loss}


def trl_variant(task: str, train_rows: int, overrides: list[str], **settings) -> dict:
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    from core.training import checkpointing_argument
    from core.heads import build_lora_config

    if "gradient_checkpointing" in settings:  # the name the installed transformers expects
        settings[checkpointing_argument()] = settings.pop("gradient_checkpointing")

    with tempfile.TemporaryDirectory() as tmp:
        cfg, ctx, plugins, rows = prepare(task, train_rows, tmp, overrides)
        model = plugins.head.load_base(ctx)
        dataset = Dataset.from_list([{"input_ids": r["input_ids"], "completion_mask": r["completion_mask"]} for r in rows])
        # use_cpu where there is no GPU: TRL refuses its default bf16 on a CPU without it.
        args = SFTConfig(output_dir=tmp, num_train_epochs=1, report_to=[], disable_tqdm=True, use_cpu=not on_gpu(),
                         completion_only_loss=True, **settings)
        trainer = SFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=ctx.tokenizer,
                             peft_config=build_lora_config(ctx, "CAUSAL_LM", model))
        started = time.perf_counter()
        output = trainer.train()
        seconds = time.perf_counter() - started
    return {**figures(rows, seconds), "final_train_loss": output.training_loss,
            "note": f"bf16={trainer.args.bf16} gradient_checkpointing={trainer.args.gradient_checkpointing} "
                    f"batch={trainer.args.per_device_train_batch_size}"}


def trl_matched_variant(task: str, train_rows: int, overrides: list[str]) -> dict:
    """TRL with plugtune's trainer settings (fp32 on a CPU, bf16 autocast on a GPU, no checkpointing,
    same batch and grouping): what is left between the two is plugtune's answer-positions-only loss."""
    return trl_variant(task, train_rows, overrides, bf16=on_gpu(), gradient_checkpointing=False, per_device_train_batch_size=8,
                       train_sampling_strategy="group_by_length", learning_rate=1e-3, lr_scheduler_type="cosine",
                       warmup_steps=0.05, weight_decay=0.0, seed=42, data_seed=42)


VARIANTS = {"plugtune": plugtune_variant, "toolcall-tutorial": toolcall_tutorial_variant, "trl-defaults": trl_variant, "trl-matched": trl_matched_variant}


TABLE_COLUMNS = [
    ("tokens", "tokens", "d"), ("tokens_per_second", "train tokens/s", ".1f"), ("train_seconds", "train s", ".1f"),
    ("peak_rss_mib", "peak RSS MiB", ".0f"), ("peak_gpu_mib", "peak GPU MiB", ".0f"),
    ("final_train_loss", "mean train loss", ".3f"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=VARIANTS)
    parser.add_argument("--task", choices=["qa", "toolcall"], nargs="+", default=["qa", "toolcall"])
    parser.add_argument("--train-rows", type=int, default=64)
    add_override_argument(parser)
    args = parser.parse_args()
    if args.variant:
        emit(VARIANTS[args.variant](args.task[0], args.train_rows, args.overrides))
        return
    from core.doctor import cpu_has_amx

    # TRL's defaults train in bf16, ~10x slower than fp32 on a CPU without AMX: fewer rows keep
    # the benchmark short there; its rate is per token, like the others'.
    slow_bf16 = not on_gpu() and not cpu_has_amx()
    for task in args.task:
        rows = []
        for name in ("toolcall-tutorial", "trl-defaults", "trl-matched", "plugtune"):
            limit = min(args.train_rows, TRL_DEFAULTS_MAX_ROWS) if name == "trl-defaults" and slow_bf16 else args.train_rows
            rows.append({"variant": name, **run_variant(__file__, name, ["--task", task, "--train-rows", str(limit),
                                                                          *override_args(args.overrides)])})
        print(f"\ntask={task}, {args.train_rows} rows, 1 epoch")
        print_table(rows, TABLE_COLUMNS, reference="toolcall-tutorial")
        for row in rows:
            if row.get("note"):
                print(f"{row['variant']}: {row['note']}")


if __name__ == "__main__":
    main()
