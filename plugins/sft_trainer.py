"""``sft`` trainer: TRL's SFTTrainer on the head's tokenised rows, loss on the answers only.

The head has already rendered and tokenised every example and marked the answer tokens
(``completion_mask``); TRL turns that mask into labels (-100 elsewhere), so what is trained is
exactly what the template marked, for single-turn and multi-turn data alike.

``train.packing=true`` packs short rows into ``task.max_length`` blocks (TRL's best-fit
decreasing). That is only safe where the attention kernel keeps packed rows apart (flash
attention); elsewhere rows would attend to each other, so it is refused with a clear message.
``train.eval_strategy`` (steps or epoch; ``train.eval_steps=N`` alone: every N steps) logs the
eval split's loss on its rows with answer tokens (``eval_loss`` in train_log.json).

The loss is TRL's next-token cross-entropy over the labelled tokens; the speed-ups of
``core.speedups`` apply as ``train.speedups`` says (``answer_logits`` computes that loss with the
output layer on the answer positions only).
"""

from __future__ import annotations

from core import PlugtuneError, hookimpl, speedups
from core.kinds import RunContext, TrainResult
from core.training import run_training, scored_eval_rows, trainer_callbacks, trainer_class, training_kwargs

PACKING_SAFE_ATTENTION = ("flash_attention_2", "flash_attention_3")


def to_dataset(rows: list[dict]):
    """A datasets.Dataset of ``input_ids`` + ``completion_mask``, without rows that train nothing
    (rows whose answer ``task.max_length`` cut away: the head marks them ``answer_cut`` and the
    pipeline names them in the log, ``results.json`` and ``report.md``, so this is never silent)."""
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
    kwargs = training_kwargs(ctx, output_dir, with_eval)
    return SFTConfig(
        **kwargs,
        max_length=ctx.cfg.task.max_length,  # rows are already cut to this; packing block size
        packing=train.packing,
        completion_only_loss=True,  # loss only where the head's completion_mask is 1
        dataset_num_proc=None,
    )


class SftTrainer:
    def build(self, ctx: RunContext, model, head, train_dataset, eval_dataset=None):
        """The configured SFTTrainer (tests use it to inspect the labels it trains on)."""
        from trl import SFTTrainer

        check_packing(ctx, model)
        eval_rows = scored_eval_rows(ctx, eval_dataset, lambda row: any(row["completion_mask"]))
        trainer = trainer_class(SFTTrainer, ctx)(
            model=model,
            args=sft_config(ctx, str(ctx.run_dir / "checkpoints"), bool(eval_rows)),
            train_dataset=to_dataset(train_dataset),
            eval_dataset=to_dataset(eval_rows) if eval_rows else None,
            processing_class=ctx.tokenizer,
            callbacks=trainer_callbacks(ctx),
        )
        speedups.configure(trainer, ctx.cfg)
        return trainer

    def train(self, ctx: RunContext, model, head, train_dataset, eval_dataset=None) -> TrainResult:
        trainer = self.build(ctx, model, head, train_dataset, eval_dataset)
        return run_training(trainer, trainer.train_dataset, float(ctx.cfg.train.epochs), ctx.resume_from,
                            keep_checkpoints=bool(ctx.cfg.train.keep_checkpoints))


@hookimpl
def register_trainers(register):
    register("sft", SftTrainer())
