"""Helpers for task heads: dtype choice, tokenizer loading, quantization, the LoRA config and
``LoraHead``, the base of the built-in heads.

Part of the public plugin API (``core.PUBLIC_MODULES``): the built-in heads use exactly these,
and third-party heads may too. (Until issue 24 this module was ``plugins/lora.py``.)
"""

from __future__ import annotations

import contextlib
import logging

from core.distributed import to_local_device
from core.errors import PlugtuneError
from core.kinds import RunContext

# ``peft.target_modules`` may name one of these presets instead of listing module names.
TARGET_PRESETS = {
    "qv": ["q_proj", "v_proj"],
    "attention": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "all-linear": None,  # every linear layer of the decoder blocks, found on the model
}

log = logging.getLogger("plugtune")
_REMOTE_CODE_LOGGED: set[str] = set()  # model folders whose trust_remote_code was logged


def resolve_dtype(name: str, precision="auto"):
    """``auto`` is bf16 on a GPU that supports it, fp16 on an older GPU, else fp32 (CPU bf16 is
    slow without AMX); on a GPU it follows ``train.precision`` when that is not auto (fp32: the
    weights too, so nothing computes in less). The weights that train stay in fp32 either way
    (keep_trainable_weights_fp32)."""
    import torch

    if name == "auto":
        if not torch.cuda.is_available():
            return torch.float32
        chosen = str(getattr(precision, "value", precision))
        if chosen in ("fp32", "bf16", "fp16"):
            return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[chosen]
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    dtype = getattr(torch, name, None)
    if not isinstance(dtype, torch.dtype):
        raise PlugtuneError(f"model.dtype: {name!r} is not a torch dtype; use auto, float32, bfloat16 or float16")
    return dtype


def lora_layers(num_layers: int, top_layers: int | None) -> list[int] | None:
    """Indices of the last ``top_layers`` decoder layers, or None for all layers."""
    if not top_layers or top_layers >= num_layers:
        return None
    return list(range(num_layers - top_layers, num_layers))


def linear_module_names(model) -> list[str]:
    """Short names of the linear layers inside the decoder blocks (not the output/score head).

    Listed explicitly rather than PEFT's ``"all-linear"`` string because PEFT refuses
    ``layers_to_transform`` (``peft.top_layers``) with a string target.
    """
    import torch

    names = set()
    for full_name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) and ".layers." in f".{full_name}":
            names.add(full_name.rsplit(".", 1)[-1])
    return sorted(names)


def lora_targets(names, model) -> list[str]:
    """Expand a one-item preset list (``[attention]``) into module names; pass names through."""
    names = list(names)
    if len(names) == 1 and names[0] in TARGET_PRESETS:
        return TARGET_PRESETS[names[0]] or linear_module_names(model)
    presets = [n for n in names if n in TARGET_PRESETS]
    if presets:
        raise PlugtuneError(
            f"peft.target_modules: preset {presets[0]!r} must be used alone, e.g. peft.target_modules=[{presets[0]}]"
        )
    return names


def build_lora_config(ctx: RunContext, task_type: str, model):
    """The PEFT LoraConfig for this run, from ``peft.*`` and the model's default targets."""
    from peft import LoraConfig

    peft_cfg, model_cfg = ctx.cfg.peft, ctx.cfg.model
    return LoraConfig(
        task_type=task_type,
        r=peft_cfg.r,
        lora_alpha=peft_cfg.alpha,
        lora_dropout=peft_cfg.dropout,
        target_modules=lora_targets(peft_cfg.target_modules or model_cfg.target_modules, model),
        layers_to_transform=lora_layers(model.config.num_hidden_layers, peft_cfg.top_layers),
        bias=peft_cfg.bias,
    )


@contextlib.contextmanager
def peft_quietly():
    """PEFT calls a transformers API deprecated in v5 when it wraps or loads an adapter; the
    warning is not for our users."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
        yield


def wrap_with_lora(ctx: RunContext, model, task_type: str):
    """Wrap ``model`` in a PEFT model with this run's LoRA config."""
    from peft import get_peft_model

    with peft_quietly():
        return get_peft_model(model, build_lora_config(ctx, task_type, model))


def keep_trainable_weights_fp32(model) -> None:
    """Store every trainable weight in fp32 when the base model is loaded in bf16/fp16 (GPUs,
    ``model.dtype=auto``), and cast each such module's inputs to fp32.

    PEFT keeps the LoRA matrices in fp32 itself, but a fully trained copy (the seq-cls ``score``
    head, ``modules_to_save``) keeps the base's dtype: in bf16 AdamW's small updates round away,
    and under fp16 mixed precision the Trainer's gradient scaler refuses fp16 gradients outright.
    Casting the inputs keeps such a module usable outside autocast (evaluation, CPU runs); under
    autocast its matmul still runs in the low precision.
    """
    import torch

    low = (torch.float16, torch.bfloat16)
    for module in model.modules():
        weights = [p for p in module.parameters(recurse=False) if p.requires_grad and p.dtype in low]
        if not weights:
            continue
        for weight in weights:
            weight.data = weight.data.float()
        module.register_forward_pre_hook(inputs_to_fp32)


def inputs_to_fp32(module, args):
    """Forward pre-hook: ``args`` with every floating-point tensor cast to fp32."""
    import torch

    return tuple(a.float() if isinstance(a, torch.Tensor) and a.is_floating_point() else a for a in args)


def quantization_kwargs(model_cfg) -> dict:
    """``from_pretrained`` keyword arguments for ``model.quantization`` (empty for none).

    4bit is QLoRA's recipe: NF4 weights, double quantization, bf16 (else fp16) compute.
    """
    choice = str(model_cfg.quantization)
    if choice == "none":
        return {}
    import torch
    from transformers import BitsAndBytesConfig

    if choice == "8bit":
        return {"quantization_config": BitsAndBytesConfig(load_in_8bit=True)}
    compute = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return {"quantization_config": BitsAndBytesConfig(
        load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=compute,
    )}


def trust_remote_code(ctx: RunContext) -> bool:
    """``model.trust_remote_code`` for every ``from_pretrained`` of the run's model; when on, it
    is logged once per model folder (the model's own Python code runs)."""
    from omegaconf import OmegaConf

    trusted = bool(OmegaConf.select(ctx.cfg, "model.trust_remote_code", default=False))  # older saved configs lack it
    if trusted and str(ctx.model_dir) not in _REMOTE_CODE_LOGGED:
        _REMOTE_CODE_LOGGED.add(str(ctx.model_dir))
        log.warning("model %s: trust_remote_code=true: running the model's own code from %s",
                    OmegaConf.select(ctx.cfg, "model.name", default="?"), ctx.model_dir)
    return trusted


@contextlib.contextmanager
def remote_code_hint(model_dir, model_name=None):
    """Turn transformers' refusal of a folder that ships its own code (``auto_map``) into one
    line naming ``model.trust_remote_code``."""
    try:
        yield
    except ValueError as exc:
        if "trust_remote_code" not in str(exc):
            raise
        raise PlugtuneError(
            f"{f'model {model_name}: ' if model_name else ''}{model_dir} ships its own model code, which runs only with "
            f"model.trust_remote_code=true (set it only for weights you trust)"
        ) from exc


def load_tokenizer(model_dir: str, trust_remote_code: bool = False):
    """Load the tokenizer; models without a pad token pad with their end-of-sequence token.
    ``trust_remote_code``: ``model.trust_remote_code`` (see :func:`trust_remote_code`)."""
    from transformers import AutoTokenizer

    with remote_code_hint(model_dir):
        tokenizer = AutoTokenizer.from_pretrained(model_dir, trust_remote_code=trust_remote_code)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


class LoraHead:
    """What the built-in heads share: ``load`` wraps the head's ``load_base`` in LoRA, and the
    adapter is saved with PEFT's ``save_pretrained``. Subclasses set ``task_type`` and define
    ``load_tokenizer`` and ``load_base``."""

    task_type: str

    def load(self, ctx: RunContext):
        self.load_tokenizer(ctx)
        model = self.load_base(ctx)
        if str(ctx.cfg.model.quantization) != "none":
            # QLoRA: fp32 norms and output layer, input gradients for checkpointing (PEFT's recipe).
            from peft import prepare_model_for_kbit_training

            model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=ctx.cfg.train.gradient_checkpointing)
        model = wrap_with_lora(ctx, model, self.task_type)
        keep_trainable_weights_fp32(model)
        return to_local_device(model, ctx.cfg.model)

    def save_adapter(self, ctx: RunContext, model, path) -> None:
        model.save_pretrained(str(path))
