"""train.min_steps: small data trains whole epochs up to the floor; larger data, max_steps, packing
and min_steps=0 keep the length as set (no model)."""

import pytest

from core.testing import compose_config
from core.training_length import choose, describe, steps_per_epoch


@pytest.mark.parametrize("rows, batch, accum, processes, expected", [
    (12, 8, 1, 1, 2),      # the last batch is short
    (1600, 16, 1, 1, 100),
    (110, 8, 1, 1, 14),
    (12, 8, 4, 1, 1),      # fewer batches than accumulation: still one step
    (100, 4, 2, 2, 6),     # 13 batches a process, 2 a step
])
def test_steps_per_epoch_counts_as_the_trainer_does(rows, batch, accum, processes, expected):
    assert steps_per_epoch(rows, batch, accum, processes) == expected


def test_a_dozen_rows_train_whole_epochs_up_to_the_floor():
    cfg = compose_config(["task=qa"])  # 4 epochs of batch 8, min_steps 60
    choice = choose(cfg, 12)
    assert choice == {"rows": 12, "rows_per_step": 8, "steps_per_epoch": 2, "epochs_asked": 4.0, "min_steps": 60,
                      "epochs": 30.0, "steps": 60, "decided_by": "train.min_steps"}
    assert cfg.train.epochs == 30.0
    assert describe(choice) == ("training length: 12 rows, 8 a step: 2 steps an epoch; train.epochs=4 gives 8 steps, "
                                "under train.min_steps=60: 30 epochs = 60 steps (train.min_steps=0 keeps train.epochs)")


def test_an_epoch_count_that_does_not_divide_the_floor_rounds_up_to_whole_epochs():
    cfg = compose_config(["task=toolcall"])  # 3 epochs of batch 8
    choice = choose(cfg, 110)  # 14 steps an epoch: 42 < 60
    assert (choice["epochs"], choice["steps"]) == (5.0, 70)


@pytest.mark.parametrize("task, rows", [("intent", 1600), ("qa", 180), ("chat", 300), ("toolcall", 886)])
def test_the_shipped_data_keeps_its_epochs(task, rows):
    cfg = compose_config([f"task={task}"])
    asked = cfg.train.epochs
    choice = choose(cfg, rows)
    assert choice["decided_by"] == "train.epochs" and cfg.train.epochs == asked and choice["steps"] >= 60


@pytest.mark.parametrize("override, decided_by, epochs", [
    ("train.min_steps=0", "train.epochs", 4.0),
    ("train.max_steps=5", "train.max_steps", 4.0),
    ("train.packing=true", "train.epochs (packing)", 4.0),
])
def test_the_floor_stays_out_of_the_way_when_told(override, decided_by, epochs):
    cfg = compose_config(["task=qa", override])
    choice = choose(cfg, 12)
    assert choice["decided_by"] == decided_by and cfg.train.epochs == epochs
    assert "\n" not in describe(choice)


def test_recipes_reproduce_their_tutorials_epochs():
    cfg = compose_config(["recipe=business-qa"])
    choose(cfg, 12)
    assert cfg.train.epochs == 8
