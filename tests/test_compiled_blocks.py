"""train.compile: training steps run the trained blocks compiled and train the same model."""

import json
import logging

import pytest

from conftest import tiny_overrides
from core.pipeline import run
from core.testing import compose_config


def losses(run_dir):
    return [e["loss"] for e in json.loads((run_dir / "train_log.json").read_text()) if "loss" in e]


def finetuned_probabilities(run_dir):
    rows = [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text().splitlines()]
    return [r["probability"] for r in rows if r["model"] == "finetuned"]


def test_compiled_blocks_train_the_same_model_with_and_without_the_cache(tiny_model, tiny_data, tmp_path):
    base = tiny_overrides(tiny_model, *tiny_data) + ["peft.top_layers=1", "train.epochs=3"]
    plain = run(compose_config(base + ["train.cache_frozen_layers=false"]), tmp_path / "plain")
    compiled = run(compose_config(base + ["train.cache_frozen_layers=false", "train.compile=true"]), tmp_path / "compiled")
    cached = run(compose_config(base + ["train.cache_frozen_layers=true", "train.compile=true"]), tmp_path / "cached")
    assert plain["train"]["compiled_blocks"] == 0
    assert compiled["train"]["compiled_blocks"] == 1 and cached["train"]["compiled_blocks"] == 1
    assert cached["train"]["cached_frozen_blocks"] == 1
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
        fallback = run(compose_config(base + ["train.compile=true"]), tmp_path / "fallback")
    assert "train.compile: off, compiling the decoder blocks failed: InvalidCxxCompiler" in caplog.text
    assert fallback["train"]["compiled_blocks"] == 0
    assert losses(tmp_path / "fallback") == pytest.approx(losses(tmp_path / "plain"), rel=1e-6)
    assert fallback["metrics"]["finetuned"] == pytest.approx(plain["metrics"]["finetuned"])


def test_sft_trains_the_same_with_compiled_blocks(tiny_model, tmp_path):
    from test_generation_pipeline import CHAT_EVAL, CHAT_TRAIN, chat_row, generation_overrides, write_jsonl

    train = write_jsonl(tmp_path / "train.jsonl", [chat_row(*r) for r in CHAT_TRAIN])
    eval_ = write_jsonl(tmp_path / "eval.jsonl", [chat_row(*r) for r in CHAT_EVAL])
    base = ["task=chat", *generation_overrides(tiny_model, train, eval_), "peft.top_layers=1", "train.epochs=2"]
    plain = run(compose_config(base + ["train.compile=false"]), tmp_path / "plain")
    compiled = run(compose_config(base + ["train.compile=true"]), tmp_path / "compiled")
    assert plain["train"]["compiled_blocks"] == 0 and compiled["train"]["compiled_blocks"] == 1
    assert len(losses(tmp_path / "plain")) >= 2
    assert losses(tmp_path / "compiled") == pytest.approx(losses(tmp_path / "plain"), rel=1e-4)
