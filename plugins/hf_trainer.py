"""``hf`` trainer: the Hugging Face ``Trainer`` loop, configured from ``train.*``.

The task metrics are not computed here: the pipeline evaluates baseline and fine-tuned models
itself with the same data and decoding, so the trainer trains and reports its loss log and
timing. ``train.eval_strategy`` (or ``train.eval_steps``) adds the eval split's loss to that log
(``eval_loss``, in train_log.json), computed on the eval rows that have a reference: a label
for classification, answer tokens for generation. The speed-ups of ``core.speedups`` apply as
``train.speedups`` says.
"""

from __future__ import annotations

from core import hookimpl, speedups
from core.kinds import RunContext, TrainResult
from core.training import run_training, scored_eval_rows, trainer_callbacks, trainer_class, training_arguments


def rows_with_labels(rows) -> list[dict]:
    """The encoded rows that carry a loss: a label (classification; -100 marks a row without
    one) or at least one answer token (generation's ``completion_mask``)."""
    return [row for row in rows if row.get("labels", -100) != -100 or any(row.get("completion_mask") or ())]


class HfTrainer:
    def train(self, ctx: RunContext, model, head, train_dataset, eval_dataset=None) -> TrainResult:
        from transformers import Trainer

        eval_rows = scored_eval_rows(ctx, eval_dataset, lambda row: bool(rows_with_labels([row])))
        args = training_arguments(ctx, str(ctx.run_dir / "checkpoints"), with_eval=bool(eval_rows))
        trainer = trainer_class(Trainer, ctx)(
            model=model,
            args=args,
            train_dataset=train_dataset,
            eval_dataset=eval_rows or None,
            data_collator=head.collator(ctx),
            processing_class=ctx.tokenizer,
            callbacks=trainer_callbacks(ctx),
        )
        speedups.configure(trainer, ctx.cfg)
        return run_training(trainer, train_dataset, float(ctx.cfg.train.epochs), ctx.resume_from,
                            keep_checkpoints=bool(ctx.cfg.train.keep_checkpoints))


@hookimpl
def register_trainers(register):
    register("hf", HfTrainer())
