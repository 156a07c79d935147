"""train.speedups.freeze_schedule: parsing the schedule, freezing blocks, the callback (no model load)."""

import pytest

from core.errors import PlugtuneError
from core.speedups.freeze_schedule import blocks_from_lowest_trained, first_trained_block, freeze_blocks_below, parse_schedule


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
