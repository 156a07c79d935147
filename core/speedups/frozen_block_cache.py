"""Speed-up ``frozen_block_cache``: run the frozen bottom of the model once, not once per epoch.

With LoRA on the last N decoder blocks (``peft.top_layers``), the blocks below them have no
trainable weights and no dropout, so what they output for a training row is the same in every
epoch. ``train.speedups.frozen_block_cache`` computes it once, in inference mode, and each training step
then runs only the top blocks on the stored hidden states: on the embedded model (LoRA on the
last 12 of 30 blocks) every epoch after the first costs about two thirds of the first.

The stored states stand in for the embedding layer while the decoder's block list is cut to the
top blocks, so the model's own forward (pooling, loss, TRL's collator and metrics) runs as it
would without the cache. Before training, one batch is run both ways; if the losses differ (an
architecture whose forward does more between the embedding and the first block), the cache is
switched off with a warning rather than training something else than configured. When a freeze
schedule (the ``freeze_schedule`` speed-up) stops more blocks from training, the cache is
deepened: those blocks run once over the stored states.

Settings: ``auto`` (on when training runs more than one epoch), ``true``, ``false``. Never with
``train.packing`` (packed rows are not the cached rows). Reports ``cached_blocks``.
"""

from __future__ import annotations

import contextlib
import logging

from core.errors import PlugtuneError
from core.speedups.blocks import NoPrefix, decoder_stack, frozen_depth

log = logging.getLogger(__name__)

KEY = "train.speedups.frozen_block_cache"
SETTINGS = ("auto", "true", "false")
ROW_KEY = "prefix_row"  # the row's index into the cache, added to each training row
BATCH_KEY = "prefix_hidden"  # the padded cached states of a batch, added by the collator
DEPTH_KEY = "prefix_depth"  # how many blocks those states have been through, added by the collator
MAX_CACHE_BYTES = 2 * 1024**3  # kept in CPU memory; above this the bottom blocks run every epoch
SELF_CHECK_TOLERANCE = 1e-4  # relative loss difference allowed between the two paths


class _StoredStates:
    """Stands in for the embedding layer: returns the hidden states set for the current batch."""

    def __init__(self, states):
        self.states = states

    def __call__(self, input_ids):
        if tuple(self.states.shape[:2]) != tuple(input_ids.shape):
            raise PlugtuneError(
                f"cached states {tuple(self.states.shape[:2])} do not match the batch {tuple(input_ids.shape)}; "
                f"set {KEY}=false"
            )
        return self.states


@contextlib.contextmanager
def top_blocks_only(stack, depth: int, states):
    """Within the block: the decoder starts at block ``depth`` and reads ``states`` as its input."""
    import torch

    layers = stack.layers
    config = stack.config
    layer_types = getattr(config, "layer_types", None)
    stack.layers = torch.nn.ModuleList(list(layers)[depth:])
    # Not a module: setting it bypasses nn.Module registration, so the real embedding stays the
    # registered child (state dicts, devices) and this only changes what forward calls.
    object.__setattr__(stack, "embed_tokens", _StoredStates(states))
    if isinstance(layer_types, list) and len(layer_types) == len(layers):
        config.layer_types = layer_types[depth:]  # Qwen2/3 index mask kinds by block position
    try:
        yield
    finally:
        stack.layers = layers
        if "embed_tokens" in stack.__dict__:
            object.__delattr__(stack, "embed_tokens")  # the registered embedding is seen again
        if layer_types is not None:
            config.layer_types = layer_types


class _Stop(Exception):
    pass


def bottom_states(model, stack, depth: int, input_ids: list[list[int]], batch_size: int, progress_bar=None,
                  start: int = 0, start_states: list | None = None) -> list:
    """Each row's hidden states after block ``depth - 1``, unpadded, on the CPU.

    From the embedding by default; given ``start_states`` (each row's states after block
    ``start - 1``, as this returns them), only blocks ``start`` to ``depth - 1`` run.
    """
    import torch

    captured = {}

    def stop_after(module, args, output):
        captured["states"] = output[0] if isinstance(output, tuple) else output
        raise _Stop

    hook = stack.layers[depth - 1].register_forward_hook(stop_after)
    device = next(model.parameters()).device
    order = sorted(range(len(input_ids)), key=lambda i: len(input_ids[i]))
    states: list = [None] * len(input_ids)
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for first in range(0, len(order), batch_size):
                idx = order[first : first + batch_size]
                width = max(len(input_ids[i]) for i in idx)
                ids = torch.zeros(len(idx), width, dtype=torch.long)
                mask = torch.zeros(len(idx), width, dtype=torch.long)
                for row, i in enumerate(idx):
                    ids[row, : len(input_ids[i])] = torch.tensor(input_ids[i])
                    mask[row, : len(input_ids[i])] = 1
                if start_states is None:
                    entry = contextlib.nullcontext()
                else:
                    entry = top_blocks_only(stack, start, pad_states([start_states[i] for i in idx], width).to(device))
                try:
                    with entry:
                        stack(input_ids=ids.to(device), attention_mask=mask.to(device), use_cache=False)
                except _Stop:
                    pass
                for row, i in enumerate(idx):
                    states[i] = captured["states"][row, : len(input_ids[i])].to("cpu").clone()
                if progress_bar is not None:
                    progress_bar.update(len(idx))
    finally:
        hook.remove()
        model.train(was_training)
    return states


def pad_states(rows: list, width: int):
    """Right-pad each row's ``[length, hidden]`` states with zeros to ``width`` (pads are masked)."""
    out = rows[0].new_zeros(len(rows), width, rows[0].shape[-1])
    for i, states in enumerate(rows):
        out[i, : states.shape[0]] = states
    return out


def with_row_index(dataset):
    """The training rows with their index under ``ROW_KEY`` (a datasets.Dataset or a list)."""
    if hasattr(dataset, "add_column"):
        return dataset.add_column(ROW_KEY, list(range(len(dataset))))
    return [{**row, ROW_KEY: i} for i, row in enumerate(dataset)]


class StateCache:
    """Each training row's stored states and the block they were taken after (``depth``)."""

    def __init__(self, rows: list, depth: int):
        self.rows = rows
        self.depth = depth


def caching_collator(collate, cache: StateCache):
    """Wrap ``collate``: rows carrying ``ROW_KEY`` get their cached states padded under
    ``BATCH_KEY`` and the cache's depth under ``DEPTH_KEY`` (a batch collated ahead of a deeper
    cut still says how far its own states went)."""

    def collate_with_states(rows):
        if not rows or ROW_KEY not in rows[0]:
            return collate(rows)  # evaluation rows
        index = [row[ROW_KEY] for row in rows]
        batch = collate([{k: v for k, v in row.items() if k != ROW_KEY} for row in rows])
        batch[BATCH_KEY] = pad_states([cache.rows[i] for i in index], batch["input_ids"].shape[1])
        batch[DEPTH_KEY] = cache.depth
        return batch

    return collate_with_states


def check(setting) -> str:
    """The setting, lower-cased, or a one-line error naming the allowed values."""
    value = str(setting).lower()
    if value not in SETTINGS:
        raise PlugtuneError(f"{KEY}: {value!r} is not one of {', '.join(SETTINGS)}")
    return value


def wanted(setting, train) -> bool:
    """Whether the cache is on: ``auto`` when training runs more than one epoch, ``true``/``false``
    force it; never with packing (packed rows are not the cached rows)."""
    setting = check(setting)
    if getattr(train, "packing", False):
        return False
    if setting == "auto":
        return float(train.epochs) > 1 and int(train.max_steps) <= 0
    return setting == "true"


class FrozenPrefixCache:
    """Trainer mixin: compute the frozen blocks once and train the top blocks on the stored
    states. ``core.speedups.configure`` sets ``cache_frozen_layers`` before ``train()``."""

    cache_frozen_layers: bool = False
    _prefix = None  # (stack, StateCache) while the cache is in use

    @property
    def cached_blocks(self) -> int:
        """How many bottom blocks the cache replaces (0 when it is off)."""
        return self._prefix[1].depth if self._prefix else 0

    def train(self, *args, **kwargs):
        if self.cache_frozen_layers and self._prefix is None:
            self._start_cache()
        return super().train(*args, **kwargs)

    def _start_cache(self) -> None:
        from core.progress import progress

        model = self.model
        try:
            stack = decoder_stack(model)
        except NoPrefix as why:
            log.info(f"{KEY}: off (%s)", why)
            return
        depth = frozen_depth(model)
        if depth == 0:
            log.info(f"{KEY}: off (no frozen decoder block below the LoRA blocks)")
            return
        ids = [row["input_ids"] for row in self.train_dataset]
        size = sum(len(r) for r in ids) * stack.config.hidden_size * stack.embed_tokens.weight.element_size()
        if size > MAX_CACHE_BYTES:
            log.info(f"{KEY}: off (%.1f GiB of states > %.0f GiB)", size / 1024**3, MAX_CACHE_BYTES / 1024**3)
            return
        with progress(total=len(ids), desc=f"cache blocks 1-{depth}") as bar:
            cache = StateCache(bottom_states(model, stack, depth, ids, self.args.per_device_eval_batch_size, bar), depth)
        plain_rows, plain_collate = self.train_dataset, self.data_collator
        self.train_dataset = with_row_index(plain_rows)
        self.data_collator = caching_collator(plain_collate, cache)
        if not self._cached_loss_matches(stack, depth):
            log.warning(f"{KEY}: off; this model's forward does not match the cached path")
            self.train_dataset, self.data_collator = plain_rows, plain_collate
            return
        self._prefix = (stack, cache)
        log.info(f"{KEY}: blocks 1-%d run once (%.0f MiB of states)", depth, size / 1024**2)

    def deepen_cache(self, depth: int) -> None:
        """Extend the stored states to block ``depth - 1``: run the blocks between the cache's
        depth and ``depth`` once over them. Only for blocks that no longer train (their LoRA
        weights frozen by the caller); nothing happens when the cache is off or already deeper."""
        from core.progress import progress

        if self._prefix is None or depth <= self._prefix[1].depth:
            return
        stack, cache = self._prefix
        ids = [row["input_ids"] for row in self.train_dataset]
        with progress(total=len(ids), desc=f"cache blocks {cache.depth + 1}-{depth}") as bar:
            rows = bottom_states(self.model, stack, depth, ids, self.args.per_device_eval_batch_size, bar,
                                 start=cache.depth, start_states=cache.rows)
        cache.rows, cache.depth = rows, depth
        log.info(f"{KEY}: blocks 1-%d now run once", depth)

    def _cached_loss_matches(self, stack, depth: int) -> bool:
        """Loss of the first few rows, full forward vs cached path, in eval mode (no dropout)."""
        import torch

        rows = [self.train_dataset[i] for i in range(min(4, len(self.train_dataset)))]
        batch = self._prepare_inputs(self.data_collator(rows))
        states = batch.pop(BATCH_KEY)
        batch.pop(DEPTH_KEY)
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                full = self.compute_loss(self.model, dict(batch))
                with top_blocks_only(stack, depth, states):
                    cached = self.compute_loss(self.model, dict(batch))
        finally:
            self.model.train(was_training)
        return abs(float(full) - float(cached)) <= SELF_CHECK_TOLERANCE * max(1.0, abs(float(full)))

    def training_step(self, model, inputs, *args, **kwargs):
        states = inputs.pop(BATCH_KEY, None)
        depth = inputs.pop(DEPTH_KEY, None)
        if states is None or self._prefix is None:
            return super().training_step(model, inputs, *args, **kwargs)
        stack = self._prefix[0]
        with top_blocks_only(stack, depth, states.to(self.args.device)):
            return super().training_step(model, inputs, *args, **kwargs)
