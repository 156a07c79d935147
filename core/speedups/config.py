"""The kit's settings, ``train.speedups.*``, and the older keys they replaced."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional


@dataclass
class SpeedupsConfig:
    """One key per speed-up of ``core.speedups.UNITS``; docs/speed.md says when each pays."""

    # Run the frozen decoder blocks below the LoRA blocks once instead of every epoch:
    # auto (on when training runs more than one epoch), true or false.
    frozen_block_cache: Any = "auto"
    # LoRA blocks that still train in each epoch, e.g. [12, 12, 6, 6]: the lower ones freeze at the
    # epoch's start (and join the frozen-block cache); null: every LoRA block trains throughout.
    freeze_schedule: Optional[List[int]] = None
    # torch.compile the decoder blocks that train, for the training steps; a first run spends
    # about a minute compiling on a CPU.
    compile: bool = False
    # bf16 autocast for training on a CPU with AMX tiles: auto (on where the CPU has AMX), true or
    # false. GPUs use bf16/fp16 regardless.
    cpu_bf16: Any = "false"
    # Classifiers: the top block's MLP runs on the pooled token only (same logits); off under compile.
    pooled_top_mlp: bool = True
    # Causal-LM training: the output layer runs on the answer positions only (same loss).
    answer_logits: bool = True


# Keys from before the kit, still accepted on the command line and in saved run configs
# (core.config.LEGACY_KEYS, the table of every moved key, includes these).
LEGACY_KEYS = {
    "train.cache_frozen_layers": "train.speedups.frozen_block_cache",
    "train.top_layers_per_epoch": "train.speedups.freeze_schedule",
    "train.compile": "train.speedups.compile",
    "train.cpu_bf16": "train.speedups.cpu_bf16",
}


def rename_legacy_overrides(overrides: list[str]) -> list[str]:
    """Command-line overrides with the kit's older keys replaced by their ``train.speedups`` names
    (``train.compile=true`` -> ``train.speedups.compile=true``). The command line renames every
    moved key, the kit's among them, with ``core.config.rename_legacy_overrides``."""
    from core.config import rename_legacy_overrides as rename

    return rename(overrides, LEGACY_KEYS)


def settings(cfg) -> Any:
    """This run's ``train.speedups`` node, defaults filled in; a saved config from before the kit
    (older keys under ``train``) is read through ``LEGACY_KEYS``."""
    from omegaconf import OmegaConf

    train = cfg.train
    merged = OmegaConf.structured(SpeedupsConfig)
    for old, new in LEGACY_KEYS.items():
        name = old.rsplit(".", 1)[1]
        if name in train:
            merged[new.rsplit(".", 1)[1]] = train[name]
    if train.get("speedups") is not None:
        merged = OmegaConf.merge(merged, train.speedups)
    return merged
