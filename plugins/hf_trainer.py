"""``hf`` trainer: the Hugging Face ``Trainer`` loop, configured from ``train.*``.

Evaluation is not done here: the pipeline evaluates baseline and fine-tuned models itself with
the same data and decoding, so the trainer only trains and reports its loss log and timing. The
speed-ups of ``core.speedups`` apply as ``train.speedups`` says.
"""

from __future__ import annotations

from core import hookimpl, speedups
from core.kinds import RunContext, TrainResult
from core.training import run_training, training_arguments


class HfTrainer:
    def train(self, ctx: RunContext, model, head, train_dataset, eval_dataset=None) -> TrainResult:
        from transformers import Trainer

        args = training_arguments(ctx, str(ctx.run_dir / "checkpoints"))
        trainer = speedups.trainer_class(Trainer)(
            model=model,
            args=args,
            train_dataset=train_dataset,
            data_collator=head.collator(ctx),
            processing_class=ctx.tokenizer,
        )
        speedups.configure(trainer, ctx.cfg)
        return run_training(trainer, train_dataset, float(ctx.cfg.train.epochs), ctx.resume_from)


@hookimpl
def register_trainers(register):
    register("hf", HfTrainer())
