"""Helpers for trainer plugins built on transformers' ``Trainer`` (public API).

``training_kwargs`` maps ``train.*`` onto ``TrainingArguments`` keywords (TRL's ``SFTConfig``
takes the same), ``run_training`` runs a Trainer and reports a ``core.kinds.TrainResult``. The
speed-ups come from ``core.speedups``; the built-in ``hf`` and ``sft`` trainers use all three.
"""

from __future__ import annotations

import time

from core import speedups
from core.errors import PlugtuneError
from core.kinds import RunContext, TrainResult
from core.speedups import cpu_bf16


def training_kwargs(ctx: RunContext, output_dir: str) -> dict:
    """``train.*`` as keyword arguments of transformers' TrainingArguments (and TRL's SFTConfig)."""
    import torch

    train = ctx.cfg.train
    on_gpu = torch.cuda.is_available()
    return dict(
        output_dir=output_dir,
        num_train_epochs=float(train.epochs),
        max_steps=train.max_steps,
        per_device_train_batch_size=train.batch_size,
        gradient_accumulation_steps=train.grad_accum,
        learning_rate=train.lr,
        weight_decay=train.weight_decay,
        warmup_steps=train.warmup,  # transformers 5: a float < 1 is a fraction of total steps
        lr_scheduler_type=train.scheduler,
        logging_steps=train.logging_steps,
        logging_first_step=True,  # short runs still get a point on the loss curve
        train_sampling_strategy="group_by_length" if train.group_by_length else "random",
        eval_strategy="no",
        # Checkpoints let a killed run continue (core/checkpoints.py); LoRA ones are small.
        save_strategy="steps" if train.save_steps else "no",
        save_steps=train.save_steps or 500,
        save_total_limit=2,
        report_to=[],
        seed=ctx.cfg.seed,
        data_seed=ctx.cfg.seed,
        dataloader_num_workers=0,
        remove_unused_columns=False,
        use_cpu=not on_gpu,
        # bf16 autocast only where the hardware has it: a bf16 GPU, or a CPU with AMX tiles
        # (the cpu_bf16 speed-up); on a CPU without AMX it is slower than fp32.
        bf16=(on_gpu and torch.cuda.is_bf16_supported()) or cpu_bf16.wanted(speedups.settings(ctx.cfg).cpu_bf16),
        fp16=on_gpu and not torch.cuda.is_bf16_supported(),  # older GPUs: fp16 with loss scaling
        **{checkpointing_argument(): train.gradient_checkpointing},
        disable_tqdm=False,
        **engine_kwargs(train),
    )


def checkpointing_argument() -> str:
    """TrainingArguments' name for activation checkpointing: transformers 5.24 renamed
    ``gradient_checkpointing`` to ``activation_checkpointing`` and warns on the old name."""
    import dataclasses

    from transformers import TrainingArguments

    names = {f.name for f in dataclasses.fields(TrainingArguments)}
    return "activation_checkpointing" if "activation_checkpointing" in names else "gradient_checkpointing"


def engine_kwargs(train) -> dict:
    """``train.deepspeed`` / ``train.fsdp`` for the Trainer; both need CUDA, so fail here in one
    line rather than inside accelerate."""
    import importlib.util
    from pathlib import Path

    import torch

    kwargs = {}
    if train.deepspeed:
        if not Path(train.deepspeed).is_file():
            raise PlugtuneError(f"train.deepspeed: {train.deepspeed} is not a file; pass a DeepSpeed JSON config")
        if importlib.util.find_spec("deepspeed") is None:
            raise PlugtuneError("train.deepspeed needs the deepspeed package: pip install deepspeed")
        kwargs["deepspeed"] = str(train.deepspeed)
    if train.fsdp:
        kwargs["fsdp"] = str(train.fsdp)
    if kwargs and not torch.cuda.is_available():
        raise PlugtuneError(f"train.{next(iter(kwargs))} needs CUDA GPUs and this machine has none; remove it to train on CPU")
    return kwargs


def training_arguments(ctx: RunContext, output_dir: str):
    """Map ``train.*`` onto transformers' TrainingArguments."""
    from transformers import TrainingArguments

    return TrainingArguments(**training_kwargs(ctx, output_dir))


def run_training(trainer, train_dataset, configured_epochs: float, resume_from: str | None = None) -> TrainResult:
    """Run a transformers Trainer (continuing from ``resume_from`` when given); report its time,
    example/token counts, loss log, precision and what each speed-up of ``core.speedups`` did."""
    start = time.perf_counter()
    output = trainer.train(resume_from_checkpoint=resume_from)
    seconds = time.perf_counter() - start
    epochs = output.metrics.get("epoch", configured_epochs)
    tokens_per_epoch = sum(len(row["input_ids"]) for row in train_dataset)
    return TrainResult(
        seconds=seconds,
        examples=round(len(train_dataset) * epochs),
        tokens=round(tokens_per_epoch * epochs),
        log_history=list(trainer.state.log_history),
        precision="bf16" if trainer.args.bf16 else "fp16" if trainer.args.fp16 else "fp32",
        speedups=speedups.report(trainer),
    )
