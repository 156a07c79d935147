"""Speed-up ``freeze_schedule``: freeze the lower LoRA blocks in later epochs.

A step's cost on the CPU is set by how many blocks it runs backward through: everything from the
lowest block that still trains up to the top. Late in training the lower adapted blocks change
little, so ``train.speedups.freeze_schedule: [12, 12, 6, 6]`` trains the LoRA weights of the top 12
blocks in epochs 1-2 and only those of the top 6 in epochs 3-4 (the idea of FreezeOut, Brock et
al. 2017). The blocks frozen at an epoch's start keep the weights they reached; with the
frozen-block cache on (the ``frozen_block_cache`` speed-up) they run once over the stored
states and every later step starts above them, so the last epochs cost about half as much.

Settings: null (off) or a non-increasing list of block counts. Reports ``schedule``.
"""

from __future__ import annotations

import logging

from core.errors import PlugtuneError
from core.speedups.blocks import NoPrefix, decoder_stack, lowest_trained_block

log = logging.getLogger(__name__)

SETTING = "train.speedups.freeze_schedule"


def parse_schedule(value) -> list[int] | None:
    """``train.speedups.freeze_schedule`` as a list of positive, non-increasing block counts (None: off)."""
    if value is None:
        return None
    if isinstance(value, (int, str)) or not hasattr(value, "__iter__"):
        raise PlugtuneError(f"{SETTING}: {value!r} is not a list of block counts, e.g. [12, 12, 6, 6]")
    counts = list(value)
    if not counts or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in counts):
        raise PlugtuneError(f"{SETTING}: {counts} must be a non-empty list of positive whole numbers, e.g. [12, 12, 6, 6]")
    if any(later > earlier for earlier, later in zip(counts, counts[1:])):
        raise PlugtuneError(
            f"{SETTING}: {counts} rises; a frozen block cannot train again, so each epoch's count must be "
            "at most the previous one's"
        )
    return counts


def first_trained_block(num_blocks: int, schedule: list[int], epoch: int) -> int:
    """Index of the lowest block whose LoRA weights train in ``epoch`` (0-based); epochs past the
    end of the schedule keep its last count."""
    count = schedule[min(epoch, len(schedule) - 1)]
    return max(0, num_blocks - count)


def freeze_blocks_below(stack, first: int) -> int:
    """Stop gradients for every weight of the decoder blocks below ``first``; returns how many
    trainable tensors that froze."""
    frozen = 0
    for layer in list(stack.layers)[:first]:
        for parameter in layer.parameters():
            if parameter.requires_grad:
                parameter.requires_grad_(False)
                frozen += 1
    return frozen


def blocks_from_lowest_trained(stack) -> int:
    """How many blocks there are from the lowest one with a trainable weight to the top (0 when no
    block has one, e.g. LoRA on the output head alone). Not ``frozen_depth``, which also says 0
    when the embedding trains: the warning below is about blocks only."""
    return len(stack.layers) - lowest_trained_block(stack)


class ProgressiveFreeze:
    """Trainer mixin: at the start of each epoch, freeze the LoRA blocks below the count that
    ``top_layers_per_epoch`` gives for it, and deepen the frozen-block cache to match.
    ``core.speedups.configure`` sets ``top_layers_per_epoch`` (a list from :func:`parse_schedule`)
    before ``train()``. The weights it froze train again after ``train()``
    returns, so the model leaves as it came (its values are the trained ones)."""

    top_layers_per_epoch: list[int] | None = None

    def train(self, *args, **kwargs):
        if not self.top_layers_per_epoch:
            return super().train(*args, **kwargs)
        try:
            stack = decoder_stack(self.model)
        except NoPrefix as why:
            raise PlugtuneError(f"{SETTING}: this model has no decoder blocks to freeze ({why})") from None
        trained_blocks = blocks_from_lowest_trained(stack)
        if self.top_layers_per_epoch[0] < trained_blocks:
            log.warning("%s starts at %d but %d blocks have trainable weights: the lower %d train in no epoch; "
                        "start the schedule at %d (or set it to null)", SETTING, self.top_layers_per_epoch[0],
                        trained_blocks, trained_blocks - self.top_layers_per_epoch[0], trained_blocks)
        trainable = [p for p in self.model.parameters() if p.requires_grad]
        callback = freeze_at_epoch_start(self, stack)
        self.add_callback(callback)
        try:
            return super().train(*args, **kwargs)
        finally:
            # A second train() adds its own callback: one freeze per epoch start, not one per call.
            self.remove_callback(callback)
            for parameter in trainable:
                parameter.requires_grad_(True)


def freeze_at_epoch_start(trainer, stack):
    """A Trainer callback that applies ``trainer.top_layers_per_epoch`` as each epoch starts (a
    resumed epoch included) and deepens the trainer's frozen-block cache to match."""
    from transformers import TrainerCallback

    class FreezeAtEpochStart(TrainerCallback):
        def on_epoch_begin(self, args, state, control, **kwargs):
            # The Trainer's epoch counter is fractional within an epoch (and restored on resume).
            epoch = int((state.epoch or 0) + 1e-6)
            first = first_trained_block(len(stack.layers), trainer.top_layers_per_epoch, epoch)
            if freeze_blocks_below(stack, first):
                log.info("%s: from epoch %d on, LoRA trains in blocks %d-%d only", SETTING, epoch + 1, first + 1,
                         len(stack.layers))
            if hasattr(trainer, "deepen_cache"):
                trainer.deepen_cache(first)

    return FreezeAtEpochStart()
