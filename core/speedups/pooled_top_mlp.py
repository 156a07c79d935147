"""Speed-up ``pooled_top_mlp``: sequence classifiers run the top block's MLP on the pooled token only.

A classifier with a score layer on a decoder (transformers' ``…ForSequenceClassification``)
returns the logits of one token per row, the last one that is not padding. The top block's output
at every other position feeds nothing: no block above reads it, and its logits are dropped. The
MLP is about three quarters of a block's matrix work (SmolLM2-135M: 2.65 of 3.54 M multiply-adds
a token), so computing it for the pooled token alone saves most of one block per training step
and per evaluation batch; attention still runs everywhere, its keys and values are needed.

Positions other than the pooled one then hold the block's input plus its attention output; only
their logits change, and those are never returned. The pooled rows are computed by the MLP's own
forward (LoRA layers inside it included), so their outputs and gradients are the full model's.

A model-level speed-up: ``core.speedups.prepare_model`` installs it on the classifiers a head
loads, for training and evaluation. Settings: true or false; off under the ``compile`` speed-up
(the trained blocks share one compiled graph, and a top block with its own MLP forward would need
graphs of its own: measured, the recompiles cost more than the pooled MLP saves). Reports ``active``.
"""

from __future__ import annotations

import types


def pooled_positions(input_ids, pad_token_id):
    """Each row's pooled position: the rightmost token that is not ``pad_token_id`` (the rule of
    transformers' sequence classifiers), or the last position when there is no pad token."""
    import torch

    if pad_token_id is None:
        return torch.full((input_ids.shape[0],), input_ids.shape[1] - 1, dtype=torch.long, device=input_ids.device)
    not_pad = (input_ids != pad_token_id).long()
    index = torch.arange(input_ids.shape[1], device=input_ids.device)
    return (index * not_pad).argmax(-1)


class _PooledRows:
    """The pooled positions of the batch the classifier is running, set by a forward pre-hook."""

    def __init__(self, pad_token_id):
        self.pad_token_id = pad_token_id
        self.positions = None
        self.shape = None  # (rows, tokens) of the batch's input_ids

    def read_batch(self, module, args, kwargs):
        input_ids = kwargs.get("input_ids", args[0] if args else None)
        self.positions = None if input_ids is None else pooled_positions(input_ids, self.pad_token_id)
        self.shape = None if input_ids is None else tuple(input_ids.shape)

    def forget_batch(self, module, args, kwargs, output):
        self.positions = self.shape = None


def _pooled_forward(rows: _PooledRows, full_forward):
    """An MLP forward that runs ``full_forward`` on each row's pooled token and returns zeros
    elsewhere; without known positions (``inputs_embeds`` only) it runs on every token."""

    tensor_output = [True]  # False once the MLP returned something else: then always in full

    def forward(self, hidden_states, *args, **kwargs):
        import torch

        positions = rows.positions
        # Only when the block sees the batch's own tokens (not e.g. prepended virtual tokens).
        if (positions is None or not tensor_output[0] or hidden_states.dim() != 3
                or tuple(hidden_states.shape[:2]) != rows.shape):
            return full_forward(hidden_states, *args, **kwargs)
        positions = positions.to(hidden_states.device)
        batch = torch.arange(hidden_states.shape[0], device=hidden_states.device)
        pooled = full_forward(hidden_states[batch, positions].unsqueeze(1), *args, **kwargs)
        if not isinstance(pooled, torch.Tensor):  # e.g. an MoE block returning router logits too
            tensor_output[0] = False  # so later steps do not compute it twice
            return full_forward(hidden_states, *args, **kwargs)
        out = pooled.new_zeros(hidden_states.shape[:2] + pooled.shape[2:])
        return out.index_put((batch, positions), pooled.squeeze(1))

    return forward


def install(model) -> bool:
    """Make ``model`` (a sequence classifier, with or without PEFT) run its top block's MLP on
    the pooled tokens only. Returns False, changing nothing, for a model without that shape."""
    from core.speedups.blocks import NoPrefix, decoder_stack

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    try:
        stack = decoder_stack(model)
    except NoPrefix:
        return False
    mlp = getattr(stack.layers[-1], "mlp", None)
    if mlp is None or not hasattr(base, "score") or getattr(mlp, "_pooled_rows", None) is not None:
        return False
    rows = _PooledRows(base.config.get_text_config().pad_token_id)
    base.register_forward_pre_hook(rows.read_batch, with_kwargs=True)
    base.register_forward_hook(rows.forget_batch, with_kwargs=True, always_call=True)  # also when it raises
    # An instance attribute, not a wrapper module: parameter names (and so the saved adapter) stay.
    mlp.forward = types.MethodType(_pooled_forward(rows, mlp.forward), mlp)
    mlp._pooled_rows = rows
    return True


def installed(model) -> bool:
    """Whether ``install`` changed ``model``'s top block."""
    from core.speedups.blocks import NoPrefix, decoder_stack

    try:
        stack = decoder_stack(model)
    except NoPrefix:
        return False
    return getattr(getattr(stack.layers[-1], "mlp", None), "_pooled_rows", None) is not None
