"""train.speedups.frozen_block_cache: the bottom blocks run once, and training ends where it would without."""

import pytest

from core.errors import PlugtuneError
from core.pipeline import run
from core.testing import (assert_sft_cache_trains_the_same_model, compose_config, finetuned_probabilities, losses,
                          tiny_overrides)


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
