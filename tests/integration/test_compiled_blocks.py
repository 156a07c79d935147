"""train.speedups.compile: training steps run the trained blocks compiled and train the same model."""

import logging

import pytest

from core.pipeline import run
from core.testing import (compose_config, finetuned_probabilities, generation_overrides, losses, tiny_overrides,
                          write_chat_data)


def test_compiled_blocks_train_the_same_model_with_and_without_the_cache(tiny_model, tiny_data, tmp_path):
    base = tiny_overrides(tiny_model, *tiny_data) + ["peft.top_layers=1", "train.epochs=3"]
    plain = run(compose_config(base + ["train.speedups.frozen_block_cache=false"]), tmp_path / "plain")
    compiled = run(compose_config(base + ["train.speedups.frozen_block_cache=false", "train.speedups.compile=true"]), tmp_path / "compiled")
    cached = run(compose_config(base + ["train.speedups.frozen_block_cache=true", "train.speedups.compile=true"]), tmp_path / "cached")
    assert plain["train"]["speedups"]["compile"]["compiled_blocks"] == 0
    assert compiled["train"]["speedups"]["compile"]["compiled_blocks"] == 1 and cached["train"]["speedups"]["compile"]["compiled_blocks"] == 1
    assert cached["train"]["speedups"]["frozen_block_cache"]["cached_blocks"] == 1
    assert len(losses(tmp_path / "plain")) >= 3
    for name in ("compiled", "cached"):
        assert losses(tmp_path / name) == pytest.approx(losses(tmp_path / "plain"), rel=1e-4), name
        assert finetuned_probabilities(tmp_path / name) == pytest.approx(finetuned_probabilities(tmp_path / "plain"), abs=1e-4)
    # The adapter is saved from the plain blocks: no compiled-module prefix in its weight names.
    assert "_orig_mod" not in (tmp_path / "cached" / "adapter" / "adapter_model.safetensors").read_bytes().decode("latin-1")


def test_a_failed_compile_falls_back_to_the_plain_blocks(tiny_model, tiny_data, tmp_path, monkeypatch, caplog):
    import torch

    class FailsToCompile(torch.nn.Module):
        def forward(self, *args, **kwargs):
            raise RuntimeError("InvalidCxxCompiler: No working C++ compiler found")

    monkeypatch.setattr(torch, "compile", lambda module, **kwargs: FailsToCompile())
    base = tiny_overrides(tiny_model, *tiny_data) + ["peft.top_layers=1"]
    plain = run(compose_config(base), tmp_path / "plain")
    with caplog.at_level(logging.WARNING):
        fallback = run(compose_config(base + ["train.speedups.compile=true"]), tmp_path / "fallback")
    assert "train.speedups.compile: off, compiling the decoder blocks failed: InvalidCxxCompiler" in caplog.text
    assert fallback["train"]["speedups"]["compile"]["compiled_blocks"] == 0
    assert losses(tmp_path / "fallback") == pytest.approx(losses(tmp_path / "plain"), rel=1e-6)
    assert fallback["metrics"]["finetuned"] == pytest.approx(plain["metrics"]["finetuned"])


def test_sft_trains_the_same_with_compiled_blocks(tiny_model, tmp_path):
    train, eval_ = write_chat_data(tmp_path)
    base = ["task=chat", *generation_overrides(tiny_model, train, eval_), "peft.top_layers=1", "train.epochs=2"]
    plain = run(compose_config(base + ["train.speedups.compile=false"]), tmp_path / "plain")
    compiled = run(compose_config(base + ["train.speedups.compile=true"]), tmp_path / "compiled")
    assert plain["train"]["speedups"]["compile"]["compiled_blocks"] == 0 and compiled["train"]["speedups"]["compile"]["compiled_blocks"] == 1
    assert len(losses(tmp_path / "plain")) >= 2
    assert losses(tmp_path / "compiled") == pytest.approx(losses(tmp_path / "plain"), rel=1e-4)
