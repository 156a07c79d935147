"""``python -m core.export run_dir=RUN [out=DIR]``: merge a run's adapter into its base model.

Writes a plain transformers model folder (weights + config + tokenizer) that
``AutoModelForCausalLM.from_pretrained`` (or ``AutoModelForSequenceClassification`` for a
classification run) loads with no PEFT installed. The adapter in ``RUN/adapter`` stays as it is.
The default ``out`` is ``RUN/merged``; it is written to a temporary folder and moved into place,
so a failed export never leaves half a model.
"""

from __future__ import annotations

import sys
from pathlib import Path

from core.runs import exit_on_error, load_run, load_with_adapter, parse_key_values
from core.rundir import save_dir_atomic

USAGE = "python -m core.export run_dir=RUN [out=DIR]"


def export(run_dir, out=None) -> Path:
    """Merge ``run_dir``'s adapter into the base model and save it with the tokenizer to ``out``."""
    ctx, head = load_run(run_dir)
    model = load_with_adapter(ctx, head)
    merged = model.merge_and_unload()
    out = Path(out) if out else Path(run_dir) / "merged"

    def write(tmp: Path) -> None:
        merged.save_pretrained(str(tmp))
        ctx.tokenizer.save_pretrained(str(tmp))

    save_dir_atomic(out, write)
    return out


def main(argv: list[str] | None = None) -> None:
    args = parse_key_values(sys.argv[1:] if argv is None else argv, ("run_dir", "out"), ("run_dir",), USAGE)
    out = export(args["run_dir"], args["out"])
    print(f"merged model written to {out}")


if __name__ == "__main__":
    exit_on_error(main)
