"""train.speedups.frozen_block_cache: the bottom blocks run once, and training ends where it would without."""

import json

import pytest

from conftest import tiny_overrides
from core.errors import PlugtuneError
from core.pipeline import run
from core.testing import compose_config
from test_generation_pipeline import generation_overrides, write_chat_data


def predictions(run_dir):
    return [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text().splitlines()]


def finetuned_probabilities(run_dir):
    return [p["probability"] for p in predictions(run_dir) if p["model"] == "finetuned"]


def losses(run_dir):
    """The training losses a run logged, in order."""
    return [e["loss"] for e in json.loads((run_dir / "train_log.json").read_text()) if "loss" in e]


def test_intent_with_the_cache_trains_the_same_model(tiny_model, tiny_data, tmp_path):
    # Tiny model: 2 blocks, LoRA on the top one, so block 1 is the frozen bottom.
    base = tiny_overrides(tiny_model, *tiny_data) + ["peft.top_layers=1", "train.epochs=3"]
    cached = run(compose_config(base + ["train.speedups.frozen_block_cache=auto"]), tmp_path / "cached")
    plain = run(compose_config(base + ["train.speedups.frozen_block_cache=false"]), tmp_path / "plain")
    assert cached["train"]["speedups"]["frozen_block_cache"]["cached_blocks"] == 1 and plain["train"]["speedups"]["frozen_block_cache"]["cached_blocks"] == 0
    for name, value in plain["metrics"]["finetuned"].items():
        assert cached["metrics"]["finetuned"][name] == pytest.approx(value, abs=1e-6), name
    assert plain["metrics"]["finetuned"] != plain["metrics"]["baseline"]  # it did train
    assert finetuned_probabilities(tmp_path / "cached") == pytest.approx(finetuned_probabilities(tmp_path / "plain"), abs=1e-4)
    assert len(losses(tmp_path / "plain")) >= 3
    assert losses(tmp_path / "cached") == pytest.approx(losses(tmp_path / "plain"), rel=1e-4)


def assert_sft_cache_trains_the_same_model(model_dir, tmp_path, overrides: list[str], cached_blocks: int, min_steps: int):
    """``task=chat`` with and without the cache: same losses and answers, ``cached_blocks`` deep at the end."""
    train, eval_ = write_chat_data(tmp_path)
    base = ["task=chat", *generation_overrides(model_dir, train, eval_), *overrides]
    cached = run(compose_config(base + ["train.speedups.frozen_block_cache=true"]), tmp_path / "cached")
    plain = run(compose_config(base + ["train.speedups.frozen_block_cache=false"]), tmp_path / "plain")
    assert cached["train"]["speedups"]["frozen_block_cache"]["cached_blocks"] == cached_blocks and plain["train"]["speedups"]["frozen_block_cache"]["cached_blocks"] == 0
    assert len(losses(tmp_path / "plain")) >= min_steps
    assert losses(tmp_path / "cached") == pytest.approx(losses(tmp_path / "plain"), rel=1e-4)
    answers = lambda d: [p["prediction"] for p in predictions(d) if p["model"] == "finetuned"]  # noqa: E731
    assert answers(tmp_path / "cached") == answers(tmp_path / "plain")


def test_sft_with_the_cache_trains_the_same_model(tiny_model, tmp_path):
    assert_sft_cache_trains_the_same_model(tiny_model, tmp_path, ["peft.top_layers=1", "train.epochs=3"],
                                           cached_blocks=1, min_steps=3)


def test_auto_leaves_one_epoch_runs_alone_and_all_layer_lora_has_nothing_to_cache(tiny_model, tiny_data, tmp_path):
    base = tiny_overrides(tiny_model, *tiny_data)
    one_epoch = run(compose_config(base + ["peft.top_layers=1", "train.epochs=1"]), tmp_path / "one")
    every_block = run(compose_config(base + ["train.epochs=2", "train.speedups.frozen_block_cache=true"]), tmp_path / "all")
    assert one_epoch["train"]["speedups"]["frozen_block_cache"]["cached_blocks"] == 0
    assert every_block["train"]["speedups"]["frozen_block_cache"]["cached_blocks"] == 0


def test_a_bad_setting_is_one_clear_error(tiny_model, tiny_data, tmp_path):
    cfg = compose_config(tiny_overrides(tiny_model, *tiny_data) + ["train.speedups.frozen_block_cache=sometimes"])
    with pytest.raises(PlugtuneError, match="train.speedups.frozen_block_cache: 'sometimes' is not one of auto, true, false"):
        run(cfg, tmp_path / "bad")
