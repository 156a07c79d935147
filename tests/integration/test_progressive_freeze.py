"""train.speedups.freeze_schedule: lower LoRA blocks freeze in later epochs, with and without the cache."""

import pytest

from core.errors import PlugtuneError
from core.pipeline import run
from core.testing import (assert_sft_cache_trains_the_same_model, compose_config, finetuned_probabilities, losses,
                          tiny_model_dir, tiny_overrides)

STEPS_PER_EPOCH = 5  # tiny data: 40 training rows in batches of 8


@pytest.fixture(scope="module")
def three_block_model(tmp_path_factory):
    return tiny_model_dir(tmp_path_factory.mktemp("tiny-3-blocks"), layers=3)


def test_cached_and_uncached_runs_of_a_schedule_train_the_same_model(three_block_model, tiny_data, tmp_path):
    # 3 blocks, LoRA on the top 2: the cache starts at depth 1 and deepens to 2 for epochs 2-3.
    base = tiny_overrides(three_block_model, *tiny_data) + ["peft.top_layers=2", "train.epochs=3"]
    scheduled = base + ["train.speedups.freeze_schedule=[2,1]"]
    cached = run(compose_config(scheduled + ["train.speedups.frozen_block_cache=true"]), tmp_path / "cached")
    plain = run(compose_config(scheduled + ["train.speedups.frozen_block_cache=false"]), tmp_path / "plain")
    run(compose_config(base + ["train.speedups.frozen_block_cache=false"]), tmp_path / "all")
    assert cached["train"]["speedups"]["frozen_block_cache"]["cached_blocks"] == 2 and plain["train"]["speedups"]["frozen_block_cache"]["cached_blocks"] == 0
    assert len(losses(tmp_path / "plain")) == 3 * STEPS_PER_EPOCH  # logging_steps=1
    assert losses(tmp_path / "cached") == pytest.approx(losses(tmp_path / "plain"), rel=1e-4)
    assert finetuned_probabilities(tmp_path / "cached") == pytest.approx(finetuned_probabilities(tmp_path / "plain"), abs=1e-4)
    # The schedule changes nothing in epoch 1 and everything after it.
    first_epoch = slice(0, STEPS_PER_EPOCH)
    assert losses(tmp_path / "plain")[first_epoch] == pytest.approx(losses(tmp_path / "all")[first_epoch], rel=1e-6)
    assert losses(tmp_path / "plain")[STEPS_PER_EPOCH + 1:] != pytest.approx(losses(tmp_path / "all")[STEPS_PER_EPOCH + 1:], rel=1e-3)


def test_the_sft_trainer_deepens_its_cache_the_same_way(three_block_model, tmp_path):
    assert_sft_cache_trains_the_same_model(
        three_block_model, tmp_path, ["peft.top_layers=2", "train.epochs=3", "train.speedups.freeze_schedule=[2,1]"],
        cached_blocks=2, min_steps=6)


def test_a_rising_schedule_is_one_clear_error(tiny_model, tiny_data, tmp_path):
    cfg = compose_config(tiny_overrides(tiny_model, *tiny_data) + ["train.speedups.freeze_schedule=[1,2]"])
    with pytest.raises(PlugtuneError, match=r"train.speedups.freeze_schedule: \[1, 2\] rises"):
        run(cfg, tmp_path / "bad")


def test_a_schedule_starting_below_the_lora_blocks_is_warned_about(tiny_model, tiny_data, tmp_path, caplog):
    # The tiny model's 2 blocks both have LoRA; a schedule of 1 leaves block 1 untrained throughout.
    cfg = compose_config(tiny_overrides(tiny_model, *tiny_data) + ["train.speedups.freeze_schedule=[1]"])
    with caplog.at_level("WARNING", logger="core.speedups.freeze_schedule"):
        run(cfg, tmp_path / "low")
    assert "train.speedups.freeze_schedule starts at 1 but 2 blocks have trainable weights" in caplog.text
