"""``sft`` trainer: TRL's SFTTrainer on the head's tokenised rows, loss on the answers only.

The head has already rendered and tokenised every example and marked the answer tokens
(``completion_mask``); TRL turns that mask into labels (-100 elsewhere), so what is trained is
exactly what the template marked, for single-turn and multi-turn data alike.

``train.packing=true`` packs short rows into ``task.max_length`` blocks (TRL's best-fit
decreasing). That is only safe where the attention kernel keeps packed rows apart (flash
attention); elsewhere rows would attend to each other, so it is refused with a clear message.
``train.eval_steps=N`` logs the eval split's loss every N steps (shown on the loss curve).

The loss is TRL's next-token cross-entropy over the labelled tokens, computed by running the
output layer on the answer positions only: with answers a quarter of a row and a 49k-token
vocabulary, the full logits cost as much as the rest of the model on a CPU (2x faster here).
Models whose output is more than ``lm_head(hidden)`` (logit soft-capping, MoE auxiliary loss)
keep TRL's own loss.
"""

from __future__ import annotations

from core import PlugtuneError, hookimpl
from core.kinds import RunContext, TrainResult
from plugins.compiled_blocks import CompiledBlocks
from plugins.cpu_bf16 import CpuBf16
from plugins.frozen_prefix import FrozenPrefixCache, wanted
from plugins.progressive_freeze import ProgressiveFreeze, parse_schedule
from plugins.hf_trainer import ReplayableOrder, run_training, training_kwargs

PACKING_SAFE_ATTENTION = ("flash_attention_2", "flash_attention_3")


def to_dataset(rows: list[dict]):
    """A datasets.Dataset of ``input_ids`` + ``completion_mask``, without rows that train nothing."""
    from datasets import Dataset

    kept = [{"input_ids": r["input_ids"], "completion_mask": r["completion_mask"]} for r in rows if any(r["completion_mask"])]
    if not kept:
        raise PlugtuneError(
            "no training row has answer tokens left within task.max_length; raise task.max_length"
        )
    return Dataset.from_list(kept)


def check_packing(ctx: RunContext, model) -> None:
    attention = getattr(model.config, "_attn_implementation", None) or "default"
    if ctx.cfg.train.packing and attention not in PACKING_SAFE_ATTENTION:
        raise PlugtuneError(
            f"train.packing=true needs flash attention to keep packed rows apart; this model uses "
            f"{attention!r}, so packed rows would attend to each other. Set train.packing=false"
        )


def sft_config(ctx: RunContext, output_dir: str, with_eval: bool):
    from trl import SFTConfig

    train = ctx.cfg.train
    kwargs = training_kwargs(ctx, output_dir)
    if with_eval:
        kwargs.update(eval_strategy="steps", eval_steps=train.eval_steps, prediction_loss_only=True,
                      per_device_eval_batch_size=train.eval_batch_size)
    return SFTConfig(
        **kwargs,
        max_length=ctx.cfg.task.max_length,  # rows are already cut to this; packing block size
        packing=train.packing,
        completion_only_loss=True,  # loss only where the head's completion_mask is 1
        dataset_num_proc=None,
    )


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


def trainer_class():
    """TRL's SFTTrainer with the answer-positions-only loss, the replayable batch order, the
    frozen-block cache, the per-epoch freeze schedule, compiled training blocks and bf16 on AMX
    CPUs."""
    from trl import SFTTrainer

    class AnswerOnlyLoss:
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            if not plain_output_layer(model):
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            loss = answer_only_loss(model, inputs, num_items_in_batch)
            return (loss, {"loss": loss}) if return_outputs else loss

    # CpuBf16 before AnswerOnlyLoss: its autocast must cover the answer-only loss too.
    class AnswerLossSFTTrainer(CpuBf16, AnswerOnlyLoss, CompiledBlocks, ProgressiveFreeze, FrozenPrefixCache,
                               ReplayableOrder, SFTTrainer):
        pass

    return AnswerLossSFTTrainer


class SftTrainer:
    def build(self, ctx: RunContext, model, head, train_dataset, eval_dataset=None):
        """The configured SFTTrainer (tests use it to inspect the labels it trains on)."""
        check_packing(ctx, model)
        with_eval = bool(ctx.cfg.train.eval_steps) and eval_dataset is not None
        trainer = trainer_class()(
            model=model,
            args=sft_config(ctx, str(ctx.run_dir / "checkpoints"), with_eval),
            train_dataset=to_dataset(train_dataset),
            eval_dataset=to_dataset(eval_dataset) if with_eval else None,
            processing_class=ctx.tokenizer,
        )
        trainer.cache_frozen_layers = wanted(ctx.cfg.train)
        trainer.top_layers_per_epoch = parse_schedule(ctx.cfg.train.top_layers_per_epoch)
        trainer.compile_blocks = bool(ctx.cfg.train.compile)
        return trainer

    def train(self, ctx: RunContext, model, head, train_dataset, eval_dataset=None) -> TrainResult:
        trainer = self.build(ctx, model, head, train_dataset, eval_dataset)
        return run_training(trainer, trainer.train_dataset, float(ctx.cfg.train.epochs), ctx.resume_from)


@hookimpl
def register_trainers(register):
    register("sft", SftTrainer())
