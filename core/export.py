"""``python -m core.export run_dir=RUN [checkpoint=N] [out=DIR]``: merge a run's adapter into its base model.

Writes a plain transformers model folder (weights + config + tokenizer) that
``AutoModelForCausalLM.from_pretrained`` (or ``AutoModelForSequenceClassification`` for a
classification run) loads with no PEFT installed. The adapter in ``RUN/adapter`` stays as it is.
``checkpoint=N`` merges the adapter of ``RUN/checkpoints/checkpoint-N`` instead, a checkpoint the
run kept (``train.keep_checkpoints=true``); a step that was not kept is one line listing those
that were. The default ``out`` is ``RUN/merged`` (``RUN/merged-checkpoint-N``); it is written to a
temporary folder and moved into place, so a failed export never leaves half a model.
"""

from __future__ import annotations

import sys
from pathlib import Path

from core.checkpoints import CHECKPOINT_DIR, kept_checkpoints
from core.errors import PlugtuneError
from core.runs import exit_on_error, load_run, load_with_adapter, parse_key_values, saved_config
from core.rundir import save_dir_atomic

USAGE = "python -m core.export run_dir=RUN [checkpoint=N] [out=DIR]"


def checkpoint_adapter(run_dir, checkpoint) -> Path:
    """``RUN/checkpoints/checkpoint-N``'s folder (it holds that step's adapter); a step the run
    did not keep is one line listing the kept ones, or saying how to keep them."""
    run_dir = Path(run_dir)
    folder = run_dir / CHECKPOINT_DIR
    kept = kept_checkpoints(folder)
    if not kept:
        raise PlugtuneError(
            f"checkpoint={checkpoint}: {run_dir} kept no checkpoints (they are deleted once the adapter is saved); "
            f"train with train.keep_checkpoints=true to keep them"
        )
    shown = ", ".join(map(str, kept))
    if not str(checkpoint).isdigit():
        raise PlugtuneError(f"checkpoint={checkpoint}: must be a step number, one of the kept checkpoints: {shown}")
    if int(checkpoint) not in kept:
        raise PlugtuneError(f"checkpoint={checkpoint}: {folder} has no checkpoint-{checkpoint}; kept: {shown}")
    return folder / f"checkpoint-{int(checkpoint)}"


def export(run_dir, out=None, checkpoint=None) -> Path:
    """Merge ``run_dir``'s adapter (or checkpoint ``checkpoint``'s) into the base model and save it
    with the tokenizer to ``out``."""
    adapter = None
    if checkpoint is not None:
        saved_config(run_dir)  # not a run at all: say that first
        adapter = checkpoint_adapter(run_dir, checkpoint)
    ctx, head = load_run(run_dir, adapter)
    model = load_with_adapter(ctx, head, adapter)
    merged = model.merge_and_unload()
    default = f"merged-{adapter.name}" if adapter is not None else "merged"
    out = Path(out) if out else Path(run_dir) / default

    def write(tmp: Path) -> None:
        merged.save_pretrained(str(tmp))
        ctx.tokenizer.save_pretrained(str(tmp))

    save_dir_atomic(out, write)
    return out


def main(argv: list[str] | None = None) -> None:
    args = parse_key_values(sys.argv[1:] if argv is None else argv, ("run_dir", "out", "checkpoint"), ("run_dir",), USAGE)
    out = export(args["run_dir"], args["out"], args["checkpoint"])
    print(f"merged model written to {out}")


if __name__ == "__main__":
    exit_on_error(main)
