"""How long a run trains: ``train.epochs``, raised to reach ``train.min_steps`` on small data.

A dozen rows at batch 8 make 2 optimizer steps an epoch: the 4 epochs that suit a few hundred
rows are 8 steps, too few for a LoRA adapter to learn anything. With ``train.min_steps`` set, a
run whose epochs would give fewer optimizer steps trains as many whole epochs as reach it
(every row is seen equally often); larger data keeps ``train.epochs``. ``train.max_steps`` or
``train.min_steps=0`` leaves the length as set (the recipes reproduce their tutorials this way).
Where a validation split exists, the best checkpoint and early stopping (``core.validation``)
then decide which of those steps the fine-tuned model keeps.

:func:`choose` decides before the trainer is built, sets ``train.epochs`` and returns what it
chose (results.json ``train.length``); :func:`describe` is its log line.
"""

from __future__ import annotations

import math

from core.distributed import world_size


def steps_per_epoch(rows: int, batch_size: int, grad_accum: int, processes: int = 1) -> int:
    """Optimizer steps in one pass over ``rows``, counted as the Trainer counts them: batches of
    ``batch_size`` on each process (the last one short), ``grad_accum`` batches a step, at least one."""
    batches = math.ceil(rows / (batch_size * processes))
    return max(batches // grad_accum, 1)


def choose(cfg, rows: int) -> dict:
    """Set ``cfg.train.epochs`` for ``rows`` training rows (module docstring); return the choice."""
    train = cfg.train
    per_epoch = steps_per_epoch(rows, train.batch_size, train.grad_accum, world_size())
    asked = float(train.epochs)
    floor = int(train.get("min_steps") or 0)
    choice = {"rows": rows, "rows_per_step": train.batch_size * train.grad_accum * world_size(),
              "steps_per_epoch": per_epoch, "epochs_asked": asked, "min_steps": floor}
    if train.max_steps and train.max_steps > 0:
        return {**choice, "epochs": None, "steps": int(train.max_steps), "decided_by": "train.max_steps"}
    if train.get("packing"):  # packed rows: the step count is known only once the trainer packs them
        return {**choice, "epochs": asked, "steps": None, "decided_by": "train.epochs (packing)"}
    steps = math.ceil(asked * per_epoch)
    if steps >= floor:
        return {**choice, "epochs": asked, "steps": steps, "decided_by": "train.epochs"}
    epochs = math.ceil(floor / per_epoch)
    train.epochs = float(epochs)
    return {**choice, "epochs": float(epochs), "steps": epochs * per_epoch, "decided_by": "train.min_steps"}


def describe(choice: dict) -> str:
    """The log line, e.g. ``training length: 12 rows, 8 a step: 2 steps an epoch; train.epochs=4
    gives 8 steps, under train.min_steps=60: 30 epochs = 60 steps (train.min_steps=0 keeps train.epochs)``."""
    head = (f"training length: {choice['rows']} rows, {choice['rows_per_step']} a step: "
            f"{choice['steps_per_epoch']} steps an epoch; ")
    asked = f"{choice['epochs_asked']:g}"
    by = choice["decided_by"]
    if by == "train.max_steps":
        return head + f"train.max_steps={choice['steps']} decides"
    if by.endswith("(packing)"):
        return head + f"{asked} epochs of packed rows (train.packing: train.min_steps not applied)"
    if by == "train.min_steps":
        return head + (f"train.epochs={asked} gives {math.ceil(choice['epochs_asked'] * choice['steps_per_epoch'])} "
                       f"steps, under train.min_steps={choice['min_steps']}: {choice['epochs']:g} epochs = "
                       f"{choice['steps']} steps (train.min_steps=0 keeps train.epochs)")
    return head + f"{asked} epochs = {choice['steps']} steps"
