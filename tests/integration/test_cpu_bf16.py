"""train.speedups.cpu_bf16: bf16 autocast on CPUs with AMX tiles, trained weights in fp32, nothing left behind."""

import json

import pytest

import plugins.hf_trainer as hf_trainer
from core.pipeline import run
from core.testing import assert_adapter_reproduces, compose_config, generation_overrides, tiny_overrides, write_chat_data


def losses(run_dir):
    return [e["loss"] for e in json.loads((run_dir / "train_log.json").read_text()) if "loss" in e]


def test_intent_trains_in_bf16_and_hands_back_the_model_as_it_was(tiny_model, tiny_data, tmp_path, monkeypatch):
    seen = {}
    plain_run_training = hf_trainer.run_training

    def inspect_after_training(trainer, *args, **kwargs):
        base = trainer.model.get_base_model()
        attention = base.config._attn_implementation
        result = plain_run_training(trainer, *args, **kwargs)
        seen["bf16"] = trainer.args.bf16 and trainer.cpu_bf16
        seen["forward restored"] = trainer.model.forward.__func__ is type(trainer.model).forward
        seen["attention restored"] = base.config._attn_implementation == attention
        seen["trained modules restored"] = not any(
            "forward" in m.__dict__ for m in trainer.model.modules() if any(p.requires_grad for p in m.parameters(False))
        )
        return result

    monkeypatch.setattr(hf_trainer, "run_training", inspect_after_training)
    base = tiny_overrides(tiny_model, *tiny_data) + ["peft.top_layers=1", "train.epochs=3"]
    bf16 = run(compose_config(base + ["train.speedups.cpu_bf16=true"]), tmp_path / "bf16")
    assert seen == {"bf16": True, "forward restored": True, "attention restored": True, "trained modules restored": True}
    fp32 = run(compose_config(base + ["train.speedups.cpu_bf16=false"]), tmp_path / "fp32")

    assert bf16["train"]["speedups"]["frozen_block_cache"]["cached_blocks"] == 1  # the fp32 cache passed its self-check
    assert (bf16["train"]["precision"], fp32["train"]["precision"]) == ("bf16", "fp32")
    assert (bf16["train"]["speedups"]["cpu_bf16"]["active"], fp32["train"]["speedups"]["cpu_bf16"]["active"]) == (True, False)
    bf16_losses, fp32_losses = losses(tmp_path / "bf16"), losses(tmp_path / "fp32")
    assert len(bf16_losses) >= 3
    assert bf16_losses != fp32_losses  # bf16 products round differently: it did run in bf16
    assert bf16_losses == pytest.approx(fp32_losses, rel=0.05, abs=0.02)
    assert bf16["metrics"]["finetuned"] != bf16["metrics"]["baseline"]
    # The reported predictions are the saved adapter's in fp32, as a user reloading it gets them.
    assert_adapter_reproduces(tiny_model, tmp_path / "bf16")


def test_sft_trains_in_bf16_too_when_asked(tiny_model, tmp_path):
    train, eval_ = write_chat_data(tmp_path)
    overrides = ["task=chat", *generation_overrides(tiny_model, train, eval_), "train.epochs=2"]
    bf16 = run(compose_config(overrides + ["train.speedups.cpu_bf16=true"]), tmp_path / "bf16")
    fp32 = run(compose_config(overrides + ["train.cpu_bf16=false"]), tmp_path / "fp32")
    bf16_losses, fp32_losses = losses(tmp_path / "bf16"), losses(tmp_path / "fp32")
    assert len(bf16_losses) >= 2 and bf16_losses != fp32_losses
    assert bf16_losses == pytest.approx(fp32_losses, rel=0.05, abs=0.02)
    assert bf16["train"]["examples"] == fp32["train"]["examples"] > 0
    assert (bf16["train"]["precision"], fp32["train"]["precision"]) == ("bf16", "fp32")
