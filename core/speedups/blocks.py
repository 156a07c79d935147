"""Where the decoder blocks are and which of them train: what the speed-ups that cut or swap
blocks (frozen_block_cache, freeze_schedule, compiled_blocks, pooled_top_mlp) share."""

from __future__ import annotations


class NoPrefix(Exception):
    """The model has no frozen bottom blocks this module knows how to cut off."""


def decoder_stack(model):
    """The module holding the decoder blocks (``.layers``) and ``.embed_tokens``."""
    import torch

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    candidates = [getattr(base, getattr(base, "base_model_prefix", ""), None)]
    if hasattr(base, "get_decoder"):
        candidates.insert(0, base.get_decoder())
    for module in candidates:
        if isinstance(getattr(module, "layers", None), torch.nn.ModuleList) and hasattr(module, "embed_tokens"):
            return module
    raise NoPrefix(f"{type(base).__name__} has no .layers/.embed_tokens decoder")


def lowest_trained_block(stack) -> int:
    """Index of the lowest decoder block with a trainable parameter (``len(stack.layers)`` if none)."""
    return next((i for i, layer in enumerate(stack.layers) if any(p.requires_grad for p in layer.parameters())),
                len(stack.layers))


def frozen_depth(model) -> int:
    """How many leading decoder blocks have no trainable parameter (0 if the embedding trains)."""
    stack = decoder_stack(model)
    if any(p.requires_grad for p in stack.embed_tokens.parameters()):
        return 0
    depth = lowest_trained_block(stack)
    return depth if depth < len(stack.layers) else 0
