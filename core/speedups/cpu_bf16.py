"""Speed-up ``cpu_bf16``: bf16 training on a CPU with AMX tiles.

On a CPU whose cores have AMX tiles (Intel Xeon since Sapphire Rapids), torch runs bf16 matrix
products at 3.5-4x its fp32 rate on the embedded model's shapes; without AMX they ran at
0.5-0.7x (docs/speed.md). So on such a CPU the Trainer runs its forward and backward under bf16
autocast, with two changes that the measurements asked for:

- the weights that train (LoRA matrices, the classification layer) compute in fp32, outside
  autocast: their products are tiny, the adapter's small contribution is not rounded to bf16
  before it is added, and over three intent seeds this scored the higher mean (docs/tuning-log.md);
- attention runs the eager implementation while training: torch's CPU SDPA backward in bf16 took
  about 8x its fp32 time, eager attention's bf16 products take less than fp32.

The frozen-block cache (``frozen_block_cache``) is computed in fp32 still: with it in bf16 too
the intent task scored 0.04 lower on two seeds. Evaluation is untouched: the pipeline scores
baseline and fine-tuned models in fp32 after ``train()`` has restored the model. The weights
themselves stay fp32 throughout.

Settings: ``auto`` (on where the CPU has AMX), ``true``, ``false``; never on a GPU, whose bf16 or
fp16 come with the GPU. Reports ``active``.
"""

from __future__ import annotations

import contextlib
import logging

from core.doctor import cpu_has_amx
from core.errors import PlugtuneError
from core.heads import inputs_to_fp32

log = logging.getLogger(__name__)

KEY = "train.speedups.cpu_bf16"
SETTINGS = ("auto", "true", "false")


def check(setting) -> str:
    """The setting, lower-cased, or a one-line error naming the allowed values."""
    value = str(setting).lower()
    if value not in SETTINGS:
        raise PlugtuneError(f"{KEY}: {value!r} is not one of {', '.join(SETTINGS)}")
    return value


def wanted(setting) -> bool:
    """Whether the setting asks for bf16 training on this machine: never on a GPU (bf16 or fp16
    there come with the GPU's own settings); ``auto``: on CPUs with AMX; ``true``/``false`` force it."""
    import torch

    setting = check(setting)
    if torch.cuda.is_available():
        return False
    if setting == "auto":
        return cpu_has_amx()
    if setting == "true" and not cpu_has_amx():
        log.warning(f"{KEY}=true on a CPU without AMX: bf16 products run slower than fp32 here")
    return setting == "true"


def autocast(enabled: bool = True):
    """CPU bf16 autocast, or nothing when not ``enabled``."""
    import torch

    return torch.autocast("cpu", dtype=torch.bfloat16) if enabled else contextlib.nullcontext()


def _fp32_forward(forward):
    import torch

    def forward_in_fp32(*args, **kwargs):
        with torch.autocast("cpu", enabled=False):
            return forward(*inputs_to_fp32(None, args), **kwargs)

    return forward_in_fp32


@contextlib.contextmanager
def trainable_modules_in_fp32(model):
    """Within the block, every module that owns a trainable weight computes in fp32 under autocast."""
    modules = [m for m in model.modules() if any(p.requires_grad for p in m.parameters(recurse=False))]
    for module in modules:
        module.forward = _fp32_forward(module.forward)
    try:
        yield len(modules)
    finally:
        for module in modules:
            del module.forward  # the instance attribute goes; the class's forward is seen again


@contextlib.contextmanager
def eager_attention(model):
    """Within the block, the model computes attention with the eager implementation."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    before = getattr(base.config, "_attn_implementation", None)
    if before in (None, "eager") or not hasattr(base, "set_attn_implementation"):
        yield
        return
    base.set_attn_implementation("eager")
    try:
        yield
    finally:
        base.set_attn_implementation(before)


def drop_autocast_wrapper(model) -> None:
    """Undo accelerate's mixed-precision wrapper: it replaces the model's ``forward`` with one
    under autocast and leaves it there after training, so the fine-tuned model would be scored
    under autocast where the baseline was not."""
    original = model.__dict__.pop("_original_forward", None)
    if original is not None:
        model.forward = original


class CpuBf16:
    """Trainer mixin: training on a CPU with ``bf16=True`` in its arguments, train with the
    trainable modules in fp32 and eager attention. After any training, mixed-precision on a GPU
    too, ``train()`` hands the model back computing as before, outside autocast, so the baseline
    and the fine-tuned model are scored in the same precision."""

    @property
    def cpu_bf16(self) -> bool:
        """bf16 autocast on a CPU: derived from the arguments (``training_kwargs`` set ``bf16``)."""
        return bool(self.args.bf16 and self.args.use_cpu)

    def train(self, *args, **kwargs):
        try:
            if not self.cpu_bf16:
                return super().train(*args, **kwargs)
            with trainable_modules_in_fp32(self.model), eager_attention(self.model):
                log.info(f"{KEY}: bf16 autocast on this AMX CPU; trained weights compute in fp32")
                return super().train(*args, **kwargs)
        finally:
            drop_autocast_wrapper(self.model)

    def compute_loss(self, model, *args, **kwargs):
        # accelerate's autocast wraps only the model's forward, which a loss that calls the
        # decoder itself (the sft trainer's answer-only loss) never enters. Training steps only:
        # the frozen-block cache's self-check runs in eval mode and must compare fp32 with fp32.
        with autocast(self.cpu_bf16 and model.training):
            return super().compute_loss(model, *args, **kwargs)
