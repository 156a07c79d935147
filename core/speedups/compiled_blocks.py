"""Speed-up ``compile``: run the trained decoder blocks through ``torch.compile``.

In a cached intent step on the CPU about 30 % of the time goes to small element-wise kernels
(RMSNorm, rotary embedding, SiLU, residual adds, their backward), each a separate pass over
memory in eager mode; compiled, they are fused into few loops around the matrix multiplications.
Every decoder block of a model runs the same code, so the blocks share one compiled graph
(shapes are marked dynamic: batches differ in length), compiled on the first step and kept in
torch's on-disk cache for later runs. Off by default: on a 2-core CPU the first run's compile
(~50 s) costs more than the faster steps save in the intent default (docs/speed.md).

Only training steps use the compiled blocks: they are swapped into the decoder for the step and
out again, so checkpoints, the saved adapter and evaluation see the plain model. If compiling
fails (no C++ compiler, an unsupported operation), the first step runs again without it and the
run goes on with a warning.

Settings: true or false. Reports ``compiled_blocks``.
"""

from __future__ import annotations

import contextlib
import logging
import time

from core.speedups.blocks import NoPrefix, decoder_stack, frozen_depth

KEY = "train.speedups.compile"

log = logging.getLogger(__name__)


@contextlib.contextmanager
def swapped_blocks(stack, start: int, compiled: list):
    """Within the block: the decoder's blocks from ``start`` on are ``compiled``."""
    import torch

    layers = stack.layers
    stack.layers = torch.nn.ModuleList(list(layers)[:start] + compiled)
    try:
        yield
    finally:
        stack.layers = layers


class CompiledBlocks:
    """Trainer mixin: training steps run the blocks with trainable weights compiled.
    ``core.speedups.configure`` sets ``compile_blocks`` before ``train()``. It comes before
    ``FrozenPrefixCache`` in ``core.speedups.UNITS``, so the cache's cut to the top blocks keeps
    the compiled ones."""

    compile_blocks: bool = False
    _compiled = None  # (stack, first trained block, compiled blocks) once set up
    _compile_checked = False  # the first compiled step ran (or compiling was given up)

    @property
    def compiled_blocks(self) -> int:
        """How many decoder blocks the training steps run compiled (0 when off)."""
        return len(self._compiled[2]) if self._compiled else 0

    def train(self, *args, **kwargs):
        if self.compile_blocks and self._compiled is None:
            self._set_up_compiled_blocks()
        return super().train(*args, **kwargs)

    def _set_up_compiled_blocks(self) -> None:
        import torch

        try:
            stack = decoder_stack(self.model)
        except NoPrefix as why:
            log.warning(f"{KEY}: off (%s)", why)
            return
        start = frozen_depth(self.model)
        # dynamic=True: one graph for every batch size and length instead of one per shape.
        compiled = [torch.compile(layer, dynamic=True) for layer in list(stack.layers)[start:]]
        self._compiled = (stack, start, compiled)
        log.info(f"{KEY}: decoder blocks %d-%d run compiled in training steps; compiling on the first step",
                 start + 1, len(stack.layers))

    def training_step(self, model, inputs, *args, **kwargs):
        if self._compiled is None:
            return super().training_step(model, inputs, *args, **kwargs)
        stack, start, compiled = self._compiled
        if self._compile_checked:
            with swapped_blocks(stack, start, compiled):
                return super().training_step(model, inputs, *args, **kwargs)
        # The first step compiles; if that fails, this step runs again on the plain blocks. The
        # cached states are popped by the step, so keep the inputs for the retry.
        retry_inputs = dict(inputs)
        started = time.perf_counter()
        try:
            with swapped_blocks(stack, start, compiled):
                loss = super().training_step(model, inputs, *args, **kwargs)
            log.info(f"{KEY}: first step, compiling included, took %.1f s", time.perf_counter() - started)
        except Exception as why:  # noqa: BLE001 - any compiler failure falls back to eager
            first_line = (str(why).strip().splitlines() or [type(why).__name__])[0]
            log.warning(f"{KEY}: off, compiling the decoder blocks failed: %s", first_line[:300])
            self._compiled = None
            model.zero_grad(set_to_none=True)  # drop whatever the failed backward accumulated
            loss = super().training_step(model, retry_inputs, *args, **kwargs)
        self._compile_checked = True
        return loss
