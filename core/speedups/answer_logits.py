"""Speed-up ``answer_logits``: a causal-LM loss that runs the output layer on answer positions only.

The loss is the next-token cross-entropy over the labelled tokens (labels -100 elsewhere), as the
model's own loss computes it, but the output layer only sees the labelled positions: with answers
a quarter of a row and a 49k-token vocabulary, the full logits cost as much as the rest of the
model on a CPU (2x faster steps on the embedded model, docs/speed.md).

Preconditions, checked on every batch (otherwise the trainer's own loss runs): per-token labels
(a causal LM, not a classifier's one label a row), and a model whose logits are just the output
layer applied to the last hidden state (no logit soft-capping, no MoE auxiliary loss, no logit
scale). Settings: true or false. Reports ``active`` (whether any training step used it).
"""

from __future__ import annotations

KEY = "train.speedups.answer_logits"


def answer_only_loss(model, inputs: dict, num_items_in_batch=None):
    """Mean next-token cross-entropy over positions whose label is not -100.

    Equal to the model's own causal-LM loss on the same batch, but the output layer only sees
    the labelled positions. ``num_items_in_batch`` (labelled tokens over all accumulated micro
    batches) replaces the per-batch count, as transformers does for gradient accumulation.
    """
    import torch.nn.functional as F

    causal_lm = model.get_base_model() if hasattr(model, "get_base_model") else model
    body_inputs = {k: inputs[k] for k in ("input_ids", "attention_mask", "position_ids") if k in inputs}
    hidden = causal_lm.get_decoder()(**body_inputs, use_cache=False).last_hidden_state
    targets = inputs["labels"][:, 1:]
    keep = targets != -100
    logits = causal_lm.get_output_embeddings()(hidden[:, :-1][keep]).float()
    total = F.cross_entropy(logits, targets[keep], reduction="sum")
    count = num_items_in_batch if num_items_in_batch is not None else keep.sum().clamp(min=1)
    return total / count


def plain_output_layer(model) -> bool:
    """Whether the model's logits are just its output layer applied to the last hidden state."""
    config = model.config
    return not (getattr(config, "final_logit_softcapping", None) or getattr(config, "output_router_logits", False)
                or getattr(config, "logit_scale", None))


def applies(model, inputs: dict) -> bool:
    """Whether this batch is a causal-LM batch the answer-only loss computes exactly."""
    labels = inputs.get("labels")
    causal_lm = model.get_base_model() if hasattr(model, "get_base_model") else model
    return (labels is not None and labels.dim() == 2 and hasattr(causal_lm, "get_decoder")
            and causal_lm.get_output_embeddings() is not None and plain_output_layer(model))


class AnswerLogits:
    """Trainer mixin: the answer-only loss where it applies (see the module docstring).
    ``core.speedups.configure`` sets ``answer_logits``; ``answer_logits_used`` says whether a step
    took this path."""

    answer_logits: bool = False
    answer_logits_used: bool = False

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if not (self.answer_logits and applies(model, inputs)):
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        self.answer_logits_used = True
        loss = answer_only_loss(model, inputs, num_items_in_batch)
        return (loss, {"loss": loss}) if return_outputs else loss
