"""train.speedups.freeze_schedule: lower LoRA blocks freeze in later epochs, with and without the cache."""

import pytest

from conftest import tiny_overrides
from core.errors import PlugtuneError
from core.pipeline import run
from core.testing import compose_config, tiny_model_dir
from core.speedups.freeze_schedule import blocks_from_lowest_trained, first_trained_block, freeze_blocks_below, parse_schedule
from test_frozen_prefix import assert_sft_cache_trains_the_same_model, finetuned_probabilities, losses

STEPS_PER_EPOCH = 5  # tiny data: 40 training rows in batches of 8


@pytest.fixture(scope="module")
def three_block_model(tmp_path_factory):
    return tiny_model_dir(tmp_path_factory.mktemp("tiny-3-blocks"), layers=3)


def test_a_schedule_is_positive_and_never_rises():
    assert parse_schedule(None) is None
    assert parse_schedule([12, 12, 6, 6]) == [12, 12, 6, 6]
    for bad, says in [([12, 6, 8], "rises"), ([6, 0], "positive whole numbers"), ([], "non-empty"),
                      ("12,6", "not a list"), (6, "not a list")]:
        with pytest.raises(PlugtuneError, match=f"train.speedups.freeze_schedule: .*{says}"):
            parse_schedule(bad)


def test_each_epoch_trains_from_its_scheduled_block_and_later_epochs_keep_the_last_count():
    schedule = [12, 12, 6, 6]
    assert [first_trained_block(30, schedule, epoch) for epoch in range(6)] == [18, 18, 24, 24, 24, 24]
    assert first_trained_block(4, [12, 2], 0) == 0  # more blocks than the model has: all train


def test_freezing_stops_gradients_below_the_first_trained_block():
    import torch

    stack = torch.nn.Module()
    stack.layers = torch.nn.ModuleList(torch.nn.Linear(2, 2) for _ in range(3))
    assert freeze_blocks_below(stack, 2) == 4  # weight and bias of blocks 0 and 1
    assert [p.requires_grad for p in stack.parameters()] == [False, False, False, False, True, True]
    assert freeze_blocks_below(stack, 2) == 0  # already frozen


def test_the_schedule_warning_counts_blocks_from_the_lowest_trained_one():
    import torch

    stack = torch.nn.Module()
    stack.embed_tokens = torch.nn.Embedding(4, 2)
    stack.layers = torch.nn.ModuleList(torch.nn.Linear(2, 2) for _ in range(3))
    assert blocks_from_lowest_trained(stack) == 3
    freeze_blocks_below(stack, 1)
    assert blocks_from_lowest_trained(stack) == 2
    freeze_blocks_below(stack, 3)  # no block trains (the embedding still does): nothing to warn about
    assert blocks_from_lowest_trained(stack) == 0


def test_each_train_call_leaves_no_freeze_callback_behind():
    import torch

    from core.speedups.freeze_schedule import ProgressiveFreeze

    class RecordingTrainer:
        """Stands in for the HF Trainer: keeps callbacks and records how many a train() saw."""

        def __init__(self, model):
            self.model, self.callbacks, self.seen = model, [], []

        def add_callback(self, callback):
            self.callbacks.append(callback)

        def remove_callback(self, callback):
            self.callbacks.remove(callback)

        def train(self):
            self.seen.append(len(self.callbacks))

    class Trainer(ProgressiveFreeze, RecordingTrainer):
        top_layers_per_epoch = [2, 1]

    model = torch.nn.Module()
    model.base_model_prefix = "inner"
    model.inner = torch.nn.Module()
    model.inner.embed_tokens = torch.nn.Embedding(4, 2)
    model.inner.layers = torch.nn.ModuleList(torch.nn.Linear(2, 2) for _ in range(2))
    trainer = Trainer(model)
    trainer.train()
    trainer.train()
    assert trainer.seen == [1, 1] and trainer.callbacks == []


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
