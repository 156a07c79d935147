"""A third-party trainer plugin reuses the training kit through its public calls, and a unit
switched off by name trains the same model."""

import json

import pytest

from core import hookimpl, speedups
from core.kinds import TrainResult
from core.pipeline import run
from core.testing import (compose_config, generation_overrides, inline_plugin, tiny_overrides, write_chat_data)
from core.training import run_training, training_arguments


class KitTrainer:
    """A trainer written outside plugtune: transformers' Trainer plus the kit, as docs/speed.md shows."""

    def __init__(self):
        self.trainers = []

    def train(self, ctx, model, head, train_dataset, eval_dataset=None) -> TrainResult:
        from transformers import Trainer

        trainer = speedups.trainer_class(Trainer)(
            model=model, args=training_arguments(ctx, str(ctx.run_dir / "checkpoints")),
            train_dataset=train_dataset, data_collator=head.collator(ctx), processing_class=ctx.tokenizer,
        )
        speedups.configure(trainer, ctx.cfg)
        self.trainers.append(trainer)
        return run_training(trainer, train_dataset, float(ctx.cfg.train.epochs), ctx.resume_from)


def losses(run_dir):
    return [e["loss"] for e in json.loads((run_dir / "train_log.json").read_text()) if "loss" in e]


def test_a_third_party_trainer_gets_the_kit_and_its_report(tiny_model, tiny_data, tmp_path):
    kit_trainer = KitTrainer()

    class Plugin:
        @hookimpl
        def register_trainers(self, register):
            register("kit_trainer", kit_trainer)

    base = tiny_overrides(tiny_model, *tiny_data) + ["peft.top_layers=1", "train.epochs=2"]
    with inline_plugin(Plugin()):
        own = run(compose_config(base + ["task.trainer=kit_trainer"]), tmp_path / "own")
    builtin = run(compose_config(base), tmp_path / "builtin")
    assert type(kit_trainer.trainers[0]).__mro__[1].__name__ == "CpuBf16"  # the kit's order, outermost first
    assert own["train"]["speedups"]["frozen_block_cache"] == {"active": True, "cached_blocks": 1, "setting": "auto"}
    assert own["train"]["speedups"]["pooled_top_mlp"]["active"] is True
    assert own["train"]["speedups"] == builtin["train"]["speedups"]
    assert losses(tmp_path / "own") == losses(tmp_path / "builtin")
    assert own["metrics"] == builtin["metrics"]


def test_answer_logits_switched_off_by_name_trains_the_same_model(tiny_model, tmp_path):
    train, eval_ = write_chat_data(tmp_path)
    base = ["task=chat", *generation_overrides(tiny_model, train, eval_), "train.epochs=2"]
    fast = run(compose_config(base), tmp_path / "fast")
    plain = run(compose_config(base + ["train.speedups.answer_logits=false"]), tmp_path / "plain")
    assert fast["train"]["speedups"]["answer_logits"]["active"] is True
    assert plain["train"]["speedups"]["answer_logits"] == {"active": False, "setting": False}
    assert losses(tmp_path / "fast") == pytest.approx(losses(tmp_path / "plain"), rel=1e-4)
    assert len(losses(tmp_path / "fast")) >= 2
