"""Helpers for trainer plugins built on transformers' ``Trainer`` (public API).

``training_kwargs`` maps ``train.*`` onto ``TrainingArguments`` keywords (TRL's ``SFTConfig``
takes the same), ``run_training`` runs a Trainer and reports a ``core.kinds.TrainResult``. The
speed-ups come from ``core.speedups``; the built-in ``hf`` and ``sft`` trainers use all three.

``train.precision`` decides the autocast of the training steps (evaluation always runs outside
autocast, see ``core.speedups.cpu_bf16``):

- ``auto``: bf16 on a GPU that has it, else fp16; on a CPU, ``train.speedups.cpu_bf16`` decides
  (bf16 where the CPU has AMX tiles with ``auto``, forced with ``true``, fp32 with ``false``);
- ``fp32``: no autocast anywhere, and ``model.dtype=auto`` loads the weights in fp32 on a GPU too
  (the intent tutorial's fp32 run, repeatable on a GPU); ``train.speedups.cpu_bf16`` is not used;
- ``bf16``: a GPU with bf16, or a CPU that runs bf16 natively (AMX tiles or AVX512-BF16), where
  it trains as the ``cpu_bf16`` speed-up does (trained weights in fp32, eager attention), whatever
  ``train.speedups.cpu_bf16`` says; refused elsewhere;
- ``fp16``: CUDA GPUs only (loss scaling); refused elsewhere.

So a precision other than ``auto`` wins over ``train.speedups.cpu_bf16``. A precision the machine
cannot run is one ``PlugtuneError`` line before anything loads (``core.validate.check_values``).

Checkpoints: ``train.save_strategy`` (steps: every ``train.save_steps``; epoch; no), the newest
``train.save_total_limit`` kept (null: all). Eval loss: ``train.eval_strategy`` (steps: every
``train.eval_steps``, else every ``train.logging_steps``; epoch; no); ``train.eval_steps`` alone
means steps. The eval loss is computed on the eval split's rows that have a reference (a label,
or answer tokens); without any, it is not logged and the log says so.
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

from core import speedups, tracking
from core.checkpoints import kept_checkpoints
from core.doctor import cpu_has_amx
from core.errors import PlugtuneError
from core.kinds import RunContext, TrainResult
from core.speedups import cpu_bf16

log = logging.getLogger("plugtune")

CPUINFO = Path("/proc/cpuinfo")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def choice(value) -> str:
    """An enum setting's value as a plain string (a saved config holds the string itself)."""
    return str(getattr(value, "value", value))


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 natively: AMX tiles, or the AVX512-BF16 instructions."""
    if cpu_has_amx():
        return True
    try:
        return re.search(r"\bavx512_bf16\b", CPUINFO.read_text()) is not None
    except OSError:
        return False


def precision(cfg) -> str:
    """What the training steps compute in on this machine (fp32, bf16 or fp16 autocast), from
    ``train.precision`` (module docstring); a precision this machine cannot run is a one-line
    ``PlugtuneError`` naming the way out."""
    import torch

    wanted = choice(cfg.train.get("precision", "auto"))
    on_gpu = torch.cuda.is_available()
    if wanted == "auto":
        if on_gpu:
            return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        return "bf16" if cpu_bf16.wanted(speedups.settings(cfg).cpu_bf16) else "fp32"
    if wanted == "fp16" and not on_gpu:
        raise PlugtuneError("train.precision=fp16: needs a CUDA GPU; this machine has none (use train.precision=fp32 or auto)")
    if wanted == "bf16" and on_gpu and not torch.cuda.is_bf16_supported():
        raise PlugtuneError("train.precision=bf16: this GPU has no bf16 support (use train.precision=fp16, fp32 or auto)")
    if wanted == "bf16" and not on_gpu and not cpu_has_native_bf16():
        raise PlugtuneError(
            "train.precision=bf16: this CPU has no native bf16 (AMX or AVX512-BF16), where bf16 runs slower than fp32 "
            "(use train.precision=fp32 or auto)"
        )
    if wanted not in PRECISIONS:
        raise PlugtuneError(f"train.precision={wanted}: must be one of {', '.join(PRECISIONS)}")
    return wanted


def check_precision(cfg) -> None:
    """Refuse, before anything loads, a ``train.precision`` this machine cannot run (auto and
    fp32 always run, and are not checked: that would import torch for nothing)."""
    if choice(cfg.train.get("precision", "auto")) not in ("auto", "fp32"):
        precision(cfg)


def eval_strategy(train, validating: bool = False) -> str:
    """When the Trainer evaluates: ``train.eval_strategy``; unset (null), ``epoch`` when there is a
    validation split (``validating``) and otherwise ``no``, except that ``train.eval_steps`` set
    alone means every N steps."""
    if train.get("eval_strategy") is None:
        return "steps" if train.eval_steps else "epoch" if validating else "no"
    strategy = choice(train.eval_strategy)
    return "steps" if strategy == "no" and train.eval_steps else strategy


def scored_eval_rows(ctx: RunContext, rows, scored) -> list:
    """The eval rows the eval loss is computed on (those ``scored(row)`` accepts: a label, answer
    tokens), or [] when ``train.eval_strategy`` is off; a request with no such row is logged."""
    strategy = eval_strategy(ctx.cfg.train, validating=ctx.validation is not None)
    if strategy == "no":
        return []
    kept = [row for row in rows or [] if scored(row)]
    if not kept:
        log.warning("train.eval_strategy=%s: the eval split has no row with a reference to compute a loss on; "
                    "no eval loss is logged", strategy)
    return kept


def training_kwargs(ctx: RunContext, output_dir: str, with_eval: bool = False) -> dict:
    """``train.*`` as keyword arguments of transformers' TrainingArguments (and TRL's SFTConfig);
    ``with_eval``: the trainer has an eval split to compute ``train.eval_strategy``'s loss on."""
    import torch

    train = ctx.cfg.train
    on_gpu = torch.cuda.is_available()
    ran = precision(ctx.cfg)
    if choice(train.precision) != "auto" and not on_gpu and cpu_bf16.check(speedups.settings(ctx.cfg).cpu_bf16) != "false":
        log.info("train.precision=%s decides the precision; train.speedups.cpu_bf16 is not used", choice(train.precision))
    save = choice(train.save_strategy)
    kwargs = dict(
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
        # save_steps=null never saved before save_strategy existed, and still does not.
        save_strategy="no" if save == "steps" and not train.save_steps else save,
        save_steps=train.save_steps or 500,
        save_total_limit=train.save_total_limit,  # the newest N; None: every checkpoint
        **tracking.trainer_kwargs(ctx.cfg, ctx.run_dir),  # report_to and the trackers' settings
        seed=ctx.cfg.seed,
        data_seed=ctx.cfg.seed,
        dataloader_num_workers=0,
        remove_unused_columns=False,
        use_cpu=not on_gpu,
        # Autocast as train.precision says (module docstring): bf16 on a CPU trains as the
        # cpu_bf16 speed-up does (its Trainer mixin reads bf16 + use_cpu).
        bf16=ran == "bf16",
        fp16=ran == "fp16",  # fp16 with loss scaling: CUDA only
        **{checkpointing_argument(): train.gradient_checkpointing},
        disable_tqdm=False,
        **engine_kwargs(train),
    )
    strategy = eval_strategy(train, validating=ctx.validation is not None)
    if with_eval and strategy != "no":
        kwargs.update(eval_strategy=strategy, prediction_loss_only=True, per_device_eval_batch_size=train.eval_batch_size)
        if strategy == "steps":
            kwargs["eval_steps"] = train.eval_steps or train.logging_steps
    return kwargs


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


def training_arguments(ctx: RunContext, output_dir: str, with_eval: bool = False):
    """Map ``train.*`` onto transformers' TrainingArguments (``with_eval``: see ``training_kwargs``)."""
    from transformers import TrainingArguments

    return TrainingArguments(**training_kwargs(ctx, output_dir, with_eval))


def trainer_callbacks(ctx: RunContext) -> list:
    """The TrainerCallbacks every built-in trainer adds: the validation split's best-checkpoint
    keeper (``core.validation``) and the trackers' (``train.report_to``)."""
    keeper = [ctx.validation.callback] if ctx.validation is not None and ctx.validation.callback else []
    return keeper + tracking.callbacks(ctx.cfg)


def trainer_class(base: type, ctx: RunContext) -> type:
    """``base`` (transformers' Trainer or TRL's SFTTrainer) with the speed-ups of ``core.speedups``
    and, with a validation split, the task's metrics on it at every evaluation (``core.validation``)."""
    from core.validation import trainer_mixin

    sped_up = speedups.trainer_class(base)
    if ctx.validation is None:
        return sped_up
    return type(f"Validating{sped_up.__name__}", (trainer_mixin(lambda trainer: ctx.validation), sped_up), {})


def run_training(trainer, train_dataset, configured_epochs: float, resume_from: str | None = None,
                 keep_checkpoints: bool = False) -> TrainResult:
    """Run a transformers Trainer (continuing from ``resume_from`` when given); report its time,
    example/token counts, loss log, precision and what each speed-up of ``core.speedups`` did.
    ``keep_checkpoints`` (``train.keep_checkpoints``): log which checkpoints stay after the run."""
    start = time.perf_counter()
    output = trainer.train(resume_from_checkpoint=resume_from)
    seconds = time.perf_counter() - start
    if keep_checkpoints:
        steps = kept_checkpoints(trainer.args.output_dir)
        log.info("train.keep_checkpoints=true: %s kept in %s; merge one with python -m core.export run_dir=RUN "
                 "checkpoint=N", ", ".join(f"checkpoint-{s}" for s in steps) or "no checkpoint", trainer.args.output_dir)
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
