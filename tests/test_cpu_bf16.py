"""train.speedups.cpu_bf16: bf16 autocast on CPUs with AMX tiles, trained weights in fp32, nothing left behind."""

import json
import logging

import pytest
import torch
from omegaconf import OmegaConf

import plugins.hf_trainer as hf_trainer
from conftest import tiny_overrides
from core.errors import PlugtuneError
from core.pipeline import run
from core.testing import compose_config
from core.speedups import cpu_bf16
from test_pipeline import assert_adapter_reproduces


@pytest.mark.parametrize("value, amx, expected", [
    ("auto", True, True), ("auto", False, False), ("true", False, True), ("false", True, False), (False, True, False),
])
def test_the_setting_follows_the_cpu(monkeypatch, value, amx, expected):
    monkeypatch.setattr(cpu_bf16, "cpu_has_amx", lambda: amx)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert cpu_bf16.wanted(value) is expected


def test_never_on_a_gpu_and_a_warning_without_amx(monkeypatch, caplog):
    monkeypatch.setattr(cpu_bf16, "cpu_has_amx", lambda: False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert cpu_bf16.wanted("true") is False
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with caplog.at_level(logging.WARNING):
        assert cpu_bf16.wanted("true") is True
    assert "without AMX" in caplog.text


def test_a_bad_setting_is_one_clear_error():
    with pytest.raises(PlugtuneError, match="train.speedups.cpu_bf16: 'sometimes' is not one of auto, true, false"):
        cpu_bf16.wanted("sometimes")


def test_trained_modules_compute_in_fp32_under_autocast_until_the_block_ends():
    model = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.Linear(8, 4))
    model[0].requires_grad_(False)
    x = torch.randn(2, 8)
    with cpu_bf16.trainable_modules_in_fp32(model) as count, cpu_bf16.autocast():
        frozen_out = model[0](x)
        trained_out = model[1](frozen_out)
    assert count == 1
    assert frozen_out.dtype == torch.bfloat16 and trained_out.dtype == torch.float32
    assert "forward" not in model[1].__dict__
    with cpu_bf16.autocast():
        assert model[1](x).dtype == torch.bfloat16  # the class's forward again


class MixedPrecisionTraining:
    """Stands in for a Trainer whose mixed-precision train() (on a GPU: bf16=True, use_cpu=False)
    leaves accelerate's autocast wrapper on the model's forward, as ``prepare_model`` does."""

    def __init__(self, model):
        self.model = model
        self.args = OmegaConf.create({"bf16": True, "use_cpu": False})

    def train(self):
        model = self.model
        model._original_forward = model.forward
        plain = model.forward

        def forward_under_autocast(*args, **kwargs):
            with cpu_bf16.autocast():
                return plain(*args, **kwargs)

        model.forward = forward_under_autocast
        return "trained"


class Trainer(cpu_bf16.CpuBf16, MixedPrecisionTraining):
    pass


def test_after_gpu_mixed_precision_the_model_is_handed_back_without_the_autocast_wrapper():
    # (the CPU bf16 path: test_intent_trains_in_bf16_and_hands_back_the_model_as_it_was)
    model = torch.nn.Linear(8, 4)
    trainer = Trainer(model)
    assert not trainer.cpu_bf16
    assert trainer.train() == "trained"
    assert model.forward.__func__ is torch.nn.Linear.forward and "_original_forward" not in model.__dict__
    with torch.no_grad():
        assert model(torch.randn(2, 8)).dtype == torch.float32  # scored like the baseline, outside autocast


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
    assert (bf16["train"]["speedups"]["cpu_bf16"], fp32["train"]["speedups"]["cpu_bf16"]) == ({"active": True}, {"active": False})
    bf16_losses, fp32_losses = losses(tmp_path / "bf16"), losses(tmp_path / "fp32")
    assert len(bf16_losses) >= 3
    assert bf16_losses != fp32_losses  # bf16 products round differently: it did run in bf16
    assert bf16_losses == pytest.approx(fp32_losses, rel=0.05, abs=0.02)
    assert bf16["metrics"]["finetuned"] != bf16["metrics"]["baseline"]
    # The reported predictions are the saved adapter's in fp32, as a user reloading it gets them.
    assert_adapter_reproduces(tiny_model, tmp_path / "bf16")


def test_sft_trains_in_bf16_too_when_asked(tiny_model, tmp_path):
    from test_generation_pipeline import generation_overrides, write_chat_data

    train, eval_ = write_chat_data(tmp_path)
    overrides = ["task=chat", *generation_overrides(tiny_model, train, eval_), "train.epochs=2"]
    bf16 = run(compose_config(overrides + ["train.speedups.cpu_bf16=true"]), tmp_path / "bf16")
    fp32 = run(compose_config(overrides + ["train.cpu_bf16=false"]), tmp_path / "fp32")
    bf16_losses, fp32_losses = losses(tmp_path / "bf16"), losses(tmp_path / "fp32")
    assert len(bf16_losses) >= 2 and bf16_losses != fp32_losses
    assert bf16_losses == pytest.approx(fp32_losses, rel=0.05, abs=0.02)
    assert bf16["train"]["examples"] == fp32["train"]["examples"] > 0
    assert (bf16["train"]["precision"], fp32["train"]["precision"]) == ("bf16", "fp32")
