"""The training kit: speed-ups any Trainer-based trainer can use, each switchable by name.

Each unit is a module of this package with a Trainer mixin or a model change, its setting under
``train.speedups.<name>``, its preconditions (checked at run time: a unit whose precondition
fails stays off and says why in the log) and what it reports into ``results.json`` under
``train.speedups.<name>``. ``UNITS`` declares them in the one order they compose in: a mixin
earlier in the list wraps the ones after it (``cpu_bf16``'s autocast covers ``answer_logits``'s
loss; ``compile`` swaps in its blocks before ``frozen_block_cache`` cuts the stack to the top
blocks). What each does and when it pays: docs/speed.md.

A trainer plugin uses the kit in three calls::

    from core import speedups

    trainer = speedups.trainer_class(transformers.Trainer)(model=..., args=..., ...)
    speedups.configure(trainer, ctx.cfg)     # switch the units on as train.speedups says
    trainer.train()
    report = speedups.report(trainer)        # {"frozen_block_cache": {"active": True, ...}, ...}

and a task head calls ``speedups.prepare_model(model, ctx.cfg)`` on the models it loads, for the
model-level units (``pooled_top_mlp``). Losses and metrics are those of the plain Trainer: each
unit is tested to train the same model with and without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from core.speedups.config import LEGACY_KEYS, SpeedupsConfig, rename_legacy_overrides, settings

__all__ = ["UNITS", "Unit", "SpeedupsConfig", "LEGACY_KEYS", "settings", "rename_legacy_overrides",
           "trainer_class", "configure", "prepare_model", "report", "check", "unit"]


@dataclass(frozen=True)
class Unit:
    """One unit of the kit.

    ``name`` is its key under ``train.speedups`` (None: always on, not a speed-up);
    ``requires`` its preconditions in words; ``mixin`` the Trainer mixin (a zero-argument
    function returning the class, so the package imports nothing heavy) or None for a
    model-level unit; ``configure(trainer, cfg)`` switches the mixin on from the settings;
    ``prepare(model, cfg)`` changes a loaded model; ``report(trainer)`` says what it did.
    """

    name: str
    summary: str
    requires: str
    mixin: Callable[[], type] | None = None
    check: Callable[[Any], Any] | None = None
    configure: Callable[[Any, Any], None] | None = None
    prepare: Callable[[Any, Any], bool] | None = None
    report: Callable[[Any], dict] | None = None
    switchable: bool = True


def _cpu_bf16_mixin():
    from core.speedups.cpu_bf16 import CpuBf16

    return CpuBf16


def _answer_logits_mixin():
    from core.speedups.answer_logits import AnswerLogits

    return AnswerLogits


def _compile_mixin():
    from core.speedups.compiled_blocks import CompiledBlocks

    return CompiledBlocks


def _freeze_schedule_mixin():
    from core.speedups.freeze_schedule import ProgressiveFreeze

    return ProgressiveFreeze


def _frozen_block_cache_mixin():
    from core.speedups.frozen_block_cache import FrozenPrefixCache

    return FrozenPrefixCache


def _replayable_order_mixin():
    from core.speedups.replayable_order import ReplayableOrder

    return ReplayableOrder


def _check_frozen_block_cache(value):
    from core.speedups.frozen_block_cache import check

    return check(value)


def _check_freeze_schedule(value):
    from core.speedups.freeze_schedule import parse_schedule

    return parse_schedule(value)


def _check_cpu_bf16(value):
    from core.speedups.cpu_bf16 import check

    return check(value)


def _configure_frozen_block_cache(trainer, cfg) -> None:
    from core.speedups.frozen_block_cache import wanted

    trainer.cache_frozen_layers = wanted(settings(cfg).frozen_block_cache, cfg.train)


def _configure_freeze_schedule(trainer, cfg) -> None:
    trainer.top_layers_per_epoch = _check_freeze_schedule(settings(cfg).freeze_schedule)


def _configure_compile(trainer, cfg) -> None:
    trainer.compile_blocks = bool(settings(cfg).compile)


def _configure_answer_logits(trainer, cfg) -> None:
    trainer.answer_logits = bool(settings(cfg).answer_logits)


def _prepare_pooled_top_mlp(model, cfg) -> bool:
    from core.speedups.pooled_top_mlp import install

    wanted = settings(cfg)
    return bool(wanted.pooled_top_mlp and not wanted.compile) and install(model)


def _report_pooled_top_mlp(trainer) -> dict:
    from core.speedups.pooled_top_mlp import installed

    return {"active": installed(trainer.model)}


# The kit, in the order its mixins compose (earlier wraps later); see the module docstring.
UNITS: tuple[Unit, ...] = (
    Unit("cpu_bf16", "bf16 autocast for training on a CPU with AMX tiles, trained weights in fp32",
         "a CPU with AMX tiles (auto), no GPU", mixin=_cpu_bf16_mixin, check=_check_cpu_bf16,
         report=lambda t: {"active": bool(getattr(t, "cpu_bf16", False))}),
    Unit("answer_logits", "the causal-LM loss runs the output layer on answer positions only",
         "per-token labels and logits that are the output layer of the last hidden state",
         mixin=_answer_logits_mixin, configure=_configure_answer_logits,
         report=lambda t: {"active": bool(getattr(t, "answer_logits_used", False))}),
    Unit("compile", "torch.compile the decoder blocks that train, for the training steps",
         "a decoder with .layers and a working C++ compiler (falls back with a warning)",
         mixin=_compile_mixin, configure=_configure_compile,
         report=lambda t: {"active": bool(getattr(t, "compiled_blocks", 0)),
                           "compiled_blocks": getattr(t, "compiled_blocks", 0)}),
    Unit("freeze_schedule", "lower LoRA blocks stop training in later epochs",
         "a decoder with .layers; a non-increasing list of block counts",
         mixin=_freeze_schedule_mixin, check=_check_freeze_schedule, configure=_configure_freeze_schedule,
         report=lambda t: {"active": bool(getattr(t, "top_layers_per_epoch", None)),
                           "schedule": list(getattr(t, "top_layers_per_epoch", None) or [])}),
    Unit("frozen_block_cache", "the frozen blocks below the LoRA blocks run once, not every epoch",
         "frozen decoder blocks at the bottom, more than one epoch (auto), no packing, states under 2 GiB",
         mixin=_frozen_block_cache_mixin, check=_check_frozen_block_cache, configure=_configure_frozen_block_cache,
         report=lambda t: {"active": bool(getattr(t, "cached_blocks", 0)),
                           "cached_blocks": getattr(t, "cached_blocks", 0)}),
    Unit("pooled_top_mlp", "classifiers run the top block's MLP on the pooled token only",
         "a sequence classifier with a score layer; not under compile",
         prepare=_prepare_pooled_top_mlp, report=_report_pooled_top_mlp),
    Unit("replayable_order", "length-grouped batches in an order a resumed run replays exactly",
         "train.group_by_length", mixin=_replayable_order_mixin, switchable=False),
)


def unit(name: str) -> Unit:
    """The unit called ``name``."""
    for candidate in UNITS:
        if candidate.name == name:
            return candidate
    raise KeyError(name)


def check(cfg) -> None:
    """Validate every ``train.speedups`` value before anything loads (one line per bad value)."""
    values = settings(cfg)
    for candidate in UNITS:
        if candidate.check is not None:
            candidate.check(values[candidate.name])


def trainer_class(base: type) -> type:
    """``base`` (a transformers ``Trainer`` subclass) with every unit's mixin, in ``UNITS`` order.
    The mixins do nothing until ``configure`` switches them on."""
    mixins = tuple(u.mixin() for u in UNITS if u.mixin is not None)
    return type(f"Speedup{base.__name__}", (*mixins, base), {"__module__": __name__})


def configure(trainer, cfg) -> None:
    """Switch the trainer's units on or off as ``train.speedups`` says (before ``train()``)."""
    trainer.speedup_settings = settings(cfg)  # echoed by ``report``
    for candidate in UNITS:
        if candidate.configure is not None:
            candidate.configure(trainer, cfg)


def prepare_model(model, cfg) -> dict[str, bool]:
    """Apply the model-level units to a freshly loaded model; returns which were installed."""
    return {u.name: u.prepare(model, cfg) for u in UNITS if u.prepare is not None}


def report(trainer) -> dict[str, dict]:
    """What each speed-up did in this training, for ``results.json``'s ``train.speedups``:
    ``active`` and the unit's own figures, plus its ``setting`` once ``configure`` has run."""
    from omegaconf import OmegaConf

    configured = getattr(trainer, "speedup_settings", None)
    reported = {}
    for candidate in UNITS:
        if candidate.report is None:
            continue
        entry = candidate.report(trainer)
        if configured is not None:
            value = configured[candidate.name]
            entry["setting"] = OmegaConf.to_container(value) if OmegaConf.is_config(value) else value
        reported[candidate.name] = entry
    return reported
