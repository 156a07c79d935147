"""``hf`` trainer: the Hugging Face ``Trainer`` loop, configured from ``train.*``.

Evaluation is not done here: the pipeline evaluates baseline and fine-tuned models itself with
the same data and decoding, so the trainer only trains and reports its loss log and timing.
"""

from __future__ import annotations

import time

from core import PlugtuneError, hookimpl
from core.kinds import RunContext, TrainResult
from plugins import cpu_bf16
from plugins.compiled_blocks import CompiledBlocks
from plugins.frozen_prefix import FrozenPrefixCache, wanted
from plugins.progressive_freeze import ProgressiveFreeze, parse_schedule


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
        # (train.cpu_bf16, plugins/cpu_bf16.py); on a CPU without AMX it is slower than fp32.
        bf16=(on_gpu and torch.cuda.is_bf16_supported()) or cpu_bf16.wanted(train),
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


def epoch_seeded_length_sampler(batch_size: int, lengths: list[int], seed: int):
    """A length-grouped sampler whose order is a function of ``(seed, epoch)`` alone.

    transformers' own length-grouped sampler draws from the global RNG, whose state at the start
    of epoch 2 depends on everything run before it; a run resumed in epoch 2 starts from a
    restored state instead and shuffles differently. Seeding from the epoch (the Trainer calls
    ``set_epoch`` before each pass, resumed or not) gives every epoch the same order either way,
    and the same order on every DDP rank.
    """
    import torch
    from transformers.trainer_pt_utils import LengthGroupedSampler, get_length_grouped_indices

    class EpochSeededLengthGroupedSampler(LengthGroupedSampler):
        def __init__(self):
            super().__init__(batch_size, lengths=lengths)
            self.epoch = 0

        def set_epoch(self, epoch: int) -> None:
            self.epoch = epoch

        def __iter__(self):
            generator = torch.Generator().manual_seed(seed + self.epoch)
            return iter(get_length_grouped_indices(self.lengths, self.batch_size, generator=generator))

    return EpochSeededLengthGroupedSampler()


class ReplayableOrder:
    """Trainer mixin: length-grouped batches in an order a resumed run replays exactly."""

    def _get_train_sampler(self, train_dataset=None):
        dataset = train_dataset if train_dataset is not None else self.train_dataset
        if self.args.train_sampling_strategy != "group_by_length" or not hasattr(dataset, "__len__"):
            return super()._get_train_sampler(train_dataset)
        column = dataset["input_ids"] if hasattr(dataset, "column_names") else (row["input_ids"] for row in dataset)
        lengths = [len(ids) for ids in column]
        batch_size = self.args.train_batch_size * self.args.gradient_accumulation_steps
        return epoch_seeded_length_sampler(batch_size, lengths, self.args.data_seed or self.args.seed)


def trainer_class():
    """transformers' Trainer with the replayable length-grouped order, the frozen-block cache, the
    per-epoch freeze schedule, compiled training blocks and bf16 on AMX CPUs."""
    from transformers import Trainer

    class PlugtuneTrainer(cpu_bf16.CpuBf16, CompiledBlocks, ProgressiveFreeze, FrozenPrefixCache, ReplayableOrder,
                          Trainer):
        pass

    return PlugtuneTrainer


def run_training(trainer, train_dataset, configured_epochs: float, resume_from: str | None = None) -> TrainResult:
    """Run a transformers Trainer (continuing from ``resume_from`` when given); report its time,
    example/token counts and loss log."""
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
        cached_frozen_blocks=getattr(trainer, "cached_blocks", 0),
        compiled_blocks=getattr(trainer, "compiled_blocks", 0),
        precision="bf16" if trainer.args.bf16 else "fp16" if trainer.args.fp16 else "fp32",
    )


class HfTrainer:
    def train(self, ctx: RunContext, model, head, train_dataset, eval_dataset=None) -> TrainResult:
        args = training_arguments(ctx, str(ctx.run_dir / "checkpoints"))
        trainer = trainer_class()(
            model=model,
            args=args,
            train_dataset=train_dataset,
            data_collator=head.collator(ctx),
            processing_class=ctx.tokenizer,
        )
        trainer.cache_frozen_layers = wanted(ctx.cfg.train)
        trainer.top_layers_per_epoch = parse_schedule(ctx.cfg.train.top_layers_per_epoch)
        trainer.compile_blocks = bool(ctx.cfg.train.compile)
        return run_training(trainer, train_dataset, float(ctx.cfg.train.epochs), ctx.resume_from)


@hookimpl
def register_trainers(register):
    register("hf", HfTrainer())
