"""train.speedups.cpu_bf16: when it switches on, and fp32 trained modules under autocast (no model load)."""

import logging

import pytest
import torch
from omegaconf import OmegaConf

from core.errors import PlugtuneError
from core.speedups import cpu_bf16


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
