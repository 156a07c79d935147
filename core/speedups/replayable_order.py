"""Training unit ``replayable_order``: length-grouped batches in an order a resumed run replays.

Not a speed-up and not switchable: a run killed and resumed must train on the same batches as an
uninterrupted one, which the frozen-block cache and the freeze schedule rely on too. It is part
of the kit so that every trainer built with ``core.speedups.trainer_class`` gets it.
"""

from __future__ import annotations


def epoch_seeded_length_sampler(batch_size: int, lengths: list[int], seed: int):
    """A length-grouped sampler whose order is a function of ``(seed, epoch)`` alone.

    transformers' own length-grouped sampler draws from the global RNG, whose state at the start
    of epoch 2 depends on everything run before it; a run resumed in epoch 2 starts from a
    restored state instead and shuffles differently. Seeding from the epoch (the Trainer calls
    ``set_epoch`` before each pass, resumed or not) gives every epoch the same order either way,
    and the same order on every DDP rank.
    """
    import torch
    from transformers.trainer_pt_utils import LengthGroupedSampler, get_length_grouped_indices

    class EpochSeededLengthGroupedSampler(LengthGroupedSampler):
        def __init__(self):
            super().__init__(batch_size, lengths=lengths)
            self.epoch = 0

        def set_epoch(self, epoch: int) -> None:
            self.epoch = epoch

        def __iter__(self):
            generator = torch.Generator().manual_seed(seed + self.epoch)
            return iter(get_length_grouped_indices(self.lengths, self.batch_size, generator=generator))

    return EpochSeededLengthGroupedSampler()


class ReplayableOrder:
    """Trainer mixin: length-grouped batches in an order a resumed run replays exactly."""

    def _get_train_sampler(self, train_dataset=None):
        dataset = train_dataset if train_dataset is not None else self.train_dataset
        if self.args.train_sampling_strategy != "group_by_length" or not hasattr(dataset, "__len__"):
            return super()._get_train_sampler(train_dataset)
        column = dataset["input_ids"] if hasattr(dataset, "column_names") else (row["input_ids"] for row in dataset)
        lengths = [len(ids) for ids in column]
        batch_size = self.args.train_batch_size * self.args.gradient_accumulation_steps
        return epoch_seeded_length_sampler(batch_size, lengths, self.args.data_seed or self.args.seed)
