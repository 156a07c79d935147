"""``python -m core.predict run_dir=RUN input=FILE [output=FILE]``: batch prediction with a finished run.

::

    python -m core.predict run_dir=RUN input=FILE [output=FILE.jsonl] [format=NAME] [merged=DIR]
        [batch_size=N] [SETTING=VALUE ...]

Reads ``input`` with the run's data format (``format=NAME`` for another: ``alpaca``,
``messages``, ``toolcall``, ``text_label``, ...), predicts every row with the fine-tuned model
(the base model with the run's adapter, or ``merged=DIR`` written by ``core.export``) in batches
of ``batch_size`` (default: the run's ``train.eval_batch_size``) with a progress bar, and writes
one JSON object per row to ``output`` (default ``RUN/predictions/INPUT-NAME.jsonl``): ``source``
(file:line), ``input``, ``prediction`` (+ ``probability`` for a classifier, ``cut_at_limit`` for
an answer that reached ``generation.max_new_tokens``) and ``reference`` when the row has one.

Rows with a reference answer are scored with the run's evaluators; the metrics are printed and
written beside the output as ``OUTPUT.metrics.json``. Decoding is the run's ``generation.*``;
any setting can be changed by name as in ``core.chat``: ``max_new_tokens=64 do_sample=true``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from core.chat import GENERATION_KEYS, generation_overrides
from core.errors import PlugtuneError
from core.runs import exit_on_error, parse_key_values

USAGE = ("python -m core.predict run_dir=RUN input=FILE [output=FILE.jsonl] [format=NAME] [merged=DIR] "
         f"[batch_size=N] [SETTING=VALUE ...] (generation settings: {', '.join(GENERATION_KEYS)})")


def load_model(ctx, head, merged: str | None):
    """The run's fine-tuned model: base + adapter, or the merged folder ``merged``."""
    from core.runs import load_exported, load_with_adapter

    return load_exported(ctx.cfg, merged) if merged else load_with_adapter(ctx, head)


def predict(run_dir, input_path, output=None, format_name=None, merged=None, batch_size=None,
            generation: dict[str, str] | None = None) -> tuple[Path, dict]:
    """Predict every row of ``input_path``; returns the output file and the metrics (empty when
    no row has a reference)."""
    from core.data import keep_known_labels
    from core.generation import describe as describe_decoding
    from core.pipeline import Plugins, evaluate
    from core.registry import get_registry
    from core.rundir import write_json_atomic, write_jsonl_atomic
    from core.runs import load_run
    from core.types import ReadResult

    if not Path(input_path).is_file():
        raise PlugtuneError(f"input={input_path}: no such file")
    ctx, head = load_run(run_dir)
    cfg = ctx.cfg
    cfg.generation = generation_overrides(cfg, generation or {})
    if batch_size is not None:
        cfg.train.eval_batch_size = batch_size
    reader = get_registry().get("data_format", format_name or str(cfg.data.format))
    result = ReadResult.of(reader.read(str(input_path), cfg.data))
    for skipped in result.skipped[:3]:
        print(f"skipped {skipped.source}: {skipped.reason}")
    examples = result.examples
    if not examples:
        raise PlugtuneError(f"input={input_path}: no usable rows")
    if cfg.task.labels:
        labelled = [ex for ex in examples if ex.label is not None]
        kept, unknown = keep_known_labels(labelled, list(cfg.task.labels))
        if unknown:
            print(f"note: {sum(unknown.values())} rows carry labels the run does not know ({', '.join(unknown)}); "
                  "they are predicted, not scored")
            for ex in labelled:
                if ex not in kept:
                    ex.label = None
    if head is not None and cfg.task.head != "seq_cls":
        print(f"decoding: {describe_decoding(cfg.generation)}")
    model = load_model(ctx, head, merged)
    encoded = head.encode(ctx, examples)
    predictions = head.predict(ctx, model, encoded, examples, "finetuned")
    rows = []
    for ex, p in zip(examples, predictions):
        row = {"source": ex.source, "input": p.input, "prediction": p.prediction}
        for key in ("probability", "cut_at_limit"):
            if key in p.extra:
                row[key] = p.extra[key]
        if p.reference is not None:
            row["reference"] = p.reference
        rows.append(row)
    out = Path(output) if output else Path(run_dir) / "predictions" / f"{Path(input_path).stem}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    write_jsonl_atomic(out, rows)
    metrics, _ = evaluate(Plugins.resolve(cfg).evaluators, predictions, ctx)
    scored = sum(1 for p in predictions if p.reference is not None)
    if metrics:
        write_json_atomic(out.with_name(out.name + ".metrics.json"),
                          {"input": str(input_path), "rows": len(rows), "scored": scored, "metrics": metrics})
    return out, {"rows": len(rows), "scored": scored, "metrics": metrics, "main_metric": cfg.task.main_metric}


def main(argv: list[str] | None = None) -> None:
    session = ("run_dir", "input", "output", "format", "merged", "batch_size")
    args = parse_key_values(
        sys.argv[1:] if argv is None else argv,
        session + GENERATION_KEYS + tuple(f"generation.{name}" for name in GENERATION_KEYS), ("run_dir", "input"), USAGE,
    )
    generation = {key.removeprefix("generation."): value for key, value in args.items()
                  if key not in session and value is not None}
    batch_size = None
    if args["batch_size"] is not None:
        if not args["batch_size"].isdigit() or int(args["batch_size"]) < 1:
            raise PlugtuneError(f"batch_size={args['batch_size']}: must be an integer >= 1")
        batch_size = int(args["batch_size"])
    out, summary = predict(args["run_dir"], args["input"], args["output"], args["format"], args["merged"],
                           batch_size, generation)
    print(f"{summary['rows']} predictions written to {out}")
    if summary["metrics"]:
        main_name = summary["main_metric"]
        shown = ", ".join(f"{k} {v:.4f}" for k, v in summary["metrics"].items()
                          if isinstance(v, (int, float)) and k != main_name)
        print(f"scored {summary['scored']} rows with references: {main_name} {summary['metrics'].get(main_name, float('nan')):.4f} ({shown})")
    else:
        print("no row has a reference answer: nothing scored")


if __name__ == "__main__":
    exit_on_error(main)
