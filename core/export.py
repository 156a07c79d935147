"""``python -m core.export run_dir=RUN [checkpoint=N] [out=DIR]``: merge a run's adapter into its base model.

Writes a plain transformers model folder (weights + config + tokenizer) that
``AutoModelForCausalLM.from_pretrained`` (or ``AutoModelForSequenceClassification`` for a
classification run) loads with no PEFT installed, carrying what inference needs (core.artifact:
the chat template with the run's system prompt, stop tokens and decoding in the generation
config, a classifier's input format in its tokenizer, and ``plugtune_inference.json``). The adapter in ``RUN/adapter`` stays as it is.
``checkpoint=N`` merges the adapter of ``RUN/checkpoints/checkpoint-N`` instead, a checkpoint the
run kept (``train.keep_checkpoints=true``); a step that was not kept is one line listing those
that were. The default ``out`` is ``RUN/merged`` (``RUN/merged-checkpoint-N``); it is written to a
temporary folder and moved into place, so a failed export never leaves half a model.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

from core.artifact import INFERENCE_FILE, bake
from core.checkpoints import CHECKPOINT_DIR, kept_checkpoints
from core.errors import PlugtuneError
from core.runs import exit_on_error, load_run, load_with_adapter, parse_key_values, saved_config
from core.rundir import save_dir_atomic

USAGE = ("python -m core.export run_dir=RUN [format=merged|gguf] [quantization=f16|q8_0|...[,...]] [checkpoint=N] [out=DIR] "
         "[check=true|false] [tolerance=X]")


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


FORMATS = ("merged", "gguf")


def check_request(cfg, fmt: str, quantization: str | None) -> list[str]:
    """The quantizations to write (``quantization``: one, or several joined by commas; none for a
    merged export), or one line for a request that cannot be met: an unknown format or
    quantization, GGUF for a classification run, llama.cpp not installed. Checked before any
    model loads."""
    from core.artifact import is_classification
    from core.gguf_export import check_quantization, llama_cpp_version

    if fmt not in FORMATS:
        raise PlugtuneError(f"format={fmt}: unknown; choose one of {', '.join(FORMATS)}")
    if fmt == "merged":
        if quantization is not None:
            raise PlugtuneError(f"quantization={quantization}: only format=gguf is quantized; format=merged keeps the model's dtype")
        return []
    if is_classification(cfg):
        raise PlugtuneError(
            "format=gguf: GGUF files and Ollama serve generation models, and this run is a classifier; "
            "export it with format=merged (a transformers model for pipeline('text-classification')) "
            "or serve it with python -m core.serve"
        )
    names = [check_quantization(name.strip()) for name in (quantization or "f16").split(",") if name.strip()]
    llama_cpp_version()
    return list(dict.fromkeys(names))


def export(run_dir, out=None, checkpoint=None, fmt: str = "merged", quantization: str | None = None,
           check: bool = False, tolerance: float | None = None) -> Path:
    """Export ``run_dir``'s adapter (or checkpoint ``checkpoint``'s) and return the artifact's folder.

    ``fmt="merged"``: the adapter merged into the base model, saved with the tokenizer and what
    inference needs (core.artifact) to ``out`` (default ``RUN/merged``). ``fmt="gguf"``: that
    merged model, then a GGUF file per ``quantization`` (default f16; several joined by commas),
    the adapter alone as a GGUF LoRA, an Ollama ``Modelfile`` (for the first quantization) and
    ``plugtune_inference.json`` in ``out`` (default ``RUN/gguf``).
    ``check``: re-score the run's eval set through each artifact beside the adapter
    (core.export_check, whose ``default_rule`` says what passes; ``tolerance`` is the main
    metric's allowed drop); a failed check raises its one-line error.
    """
    from core import export_check as checking

    run_dir = Path(run_dir)
    adapter = None
    cfg = saved_config(run_dir)  # not a run at all: say that first
    quantizations = check_request(cfg, fmt, quantization)
    if checkpoint is not None:
        adapter = checkpoint_adapter(run_dir, checkpoint)
    ctx, head = load_run(run_dir, adapter)
    model = load_with_adapter(ctx, head, adapter)
    examples, adapter_answers = [], []
    if check:
        from core.data import read_eval

        examples = read_eval(ctx.cfg)
        print(f"export check: the adapter answers the {len(examples)} eval rows first")
        adapter_answers = checking.adapter_predictions(ctx, head, model, examples)
    merged = model.merge_and_unload()
    suffix = f"-{adapter.name}" if adapter is not None else ""
    merged_dir = Path(out) if out and fmt == "merged" else run_dir / f"merged{suffix}"

    # A copy: the run's own tokenizer stays as the run used it.
    tokenizer = copy.deepcopy(ctx.tokenizer)
    spec = bake(ctx, merged, tokenizer)

    def write(tmp: Path) -> None:
        merged.save_pretrained(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        (tmp / INFERENCE_FILE).write_text(json.dumps(spec, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    save_dir_atomic(merged_dir, write)
    print(f"merged model written to {merged_dir}")
    del merged, model
    checks = []
    if check:
        checks.append(checking.check_merged(ctx, adapter_answers, examples, merged_dir, spec, tolerance))
    artifact_dir = merged_dir
    if fmt == "gguf":
        from core.gguf_export import write_gguf

        artifact_dir = Path(out) if out else run_dir / f"gguf{suffix}"
        for number, name in enumerate(quantizations):
            gguf_file = write_gguf(ctx, merged_dir, artifact_dir, name, adapter or run_dir / "adapter", spec, tokenizer,
                                   with_adapter=number == 0, modelfile_for=number == 0)
            if check:
                checks.append(checking.check_gguf(ctx, adapter_answers, examples, gguf_file, spec, tolerance))
    if checks:
        recorded = checking.write_check(artifact_dir, checks)
        checking.add_to_report(run_dir, recorded)
        checking.verdict(checks)
    return artifact_dir


def main(argv: list[str] | None = None) -> None:
    keys = ("run_dir", "out", "checkpoint", "format", "quantization", "check", "tolerance")
    args = parse_key_values(sys.argv[1:] if argv is None else argv, keys, ("run_dir",), USAGE)
    check = (args["check"] or "true").lower()
    if check not in ("true", "false"):
        raise PlugtuneError(f"check={args['check']}: must be true or false")
    tolerance = None
    if args["tolerance"] is not None:
        try:
            tolerance = float(args["tolerance"])
        except ValueError:
            raise PlugtuneError(f"tolerance={args['tolerance']}: must be a number (the main metric's allowed drop)") from None
    out = export(args["run_dir"], args["out"], args["checkpoint"], args["format"] or "merged", args["quantization"],
                 check == "true", tolerance)
    print(f"exported to {out}")


if __name__ == "__main__":
    exit_on_error(main)
