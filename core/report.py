"""``report.md`` and the comparison table printed at the end of a run."""

from __future__ import annotations

from typing import Any

from core.audit import markdown_lines as audit_markdown
from core.confidence import markdown_lines as confidence_markdown
from core.data import describe_dropped
from core.training_length import describe as describe_length
from core.types import EvalResult, Prediction

# Eval rows without a reference answer shown side by side in report.md (all of them are in
# predictions.jsonl): enough for the handful of typed questions a tutorial compares, short enough
# to read for a whole unlabelled test set.
UNSCORED_LISTED = 50
UNSCORED_CELL = 200  # characters per answer cell: these rows are there to read the answers


def comparison_rows(metrics: dict[str, dict[str, float]]) -> list[tuple[str, float | None, float | None]]:
    """(metric, baseline, fine-tuned) for every metric either model reported."""
    names = list(dict.fromkeys([*metrics.get("baseline", {}), *metrics.get("finetuned", {})]))
    return [(n, metrics.get("baseline", {}).get(n), metrics.get("finetuned", {}).get(n)) for n in names]


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _interval(confidence: dict | None, metric: str, model: str) -> str:
    """`` [low, high]`` of ``model``'s ``metric`` when the run's confidence block has it."""
    entry = ((confidence or {}).get("models") or {}).get(model) if (confidence or {}).get("metric") == metric else None
    return f" [{entry['low']:.3f}, {entry['high']:.3f}]" if entry else ""


def comparison_table(metrics: dict[str, dict[str, float]], confidence: dict | None = None,
                     classic: dict[str, float] | None = None, main: str | None = None) -> str:
    """A compact plain-text table: metric, baseline, fine-tuned, change (fine-tuned minus baseline),
    and the classic baseline's metrics (``classic``) when the run trained one; the main metric's
    cells carry their interval (``confidence``). The ``main`` metric's name is starred, and a line
    under the table says what that means; a ``-`` cell is a metric one model did not report, and a
    line says so too."""
    rows = comparison_rows(metrics)
    cells = []
    for name, base, tuned in rows:
        cells.append([f"{name} *" if name == main else name, _fmt(base) + _interval(confidence, name, "baseline"),
                      _fmt(tuned) + _interval(confidence, name, "finetuned"),
                      f"{tuned - base:+.4f}" if base is not None and tuned is not None else "-",
                      *([_fmt(classic.get(name)) + _interval(confidence, name, "classic")] if classic else [])])
    header = ["metric", "baseline", "finetuned", "change", *(["classic"] if classic else [])]
    widths = [max(len(str(row[i])) for row in [header, *cells]) for i in range(len(header))]
    lines = []
    for row in [header, *cells]:
        lines.append("  ".join(str(cell).ljust(widths[0]) if i == 0 else str(cell).rjust(widths[i])
                               for i, cell in enumerate(row)).rstrip())
    if any(name == main for name, _, _ in rows):
        lines.append(f"*: the main metric (task.main_metric): the one to quote, with its interval; sweeps rank by it "
                     "and validation chooses the checkpoint by it")
    missing = [name for name, base, tuned in rows if base is None or tuned is None]
    if missing and metrics.get("baseline") and metrics.get("finetuned"):  # both models scored, one left these out
        lines.append(f"-: not measured for that model, it gave no answer the metric applies to ({', '.join(missing)}; "
                     "e.g. tool_call.schema_valid checks only answers that parsed as calls)")
    return "\n".join(lines)


def _cell(value: Any, limit: int = 80) -> str:
    text = str(value).replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _passes(train: dict) -> str:
    """`` (200 rows × 3 epochs)`` when the training length is known, so the examples count reads."""
    length = train.get("length") or {}
    if not length.get("rows") or not length.get("epochs"):
        return ""
    return f" ({length['rows']} rows × {length['epochs']:g} epochs)"


# Said in each evaluator section's heading: a reader who jumps to "Worst failures" under the
# baseline heading took them for the trained model's.
MODEL_WORDS = {"finetuned": "the trained model", "baseline": "the model before training"}


def render_report(
    results: dict,
    evals: dict[str, dict[str, EvalResult]],
    predictions: dict[str, list[Prediction]],
    plots: list[str],
    samples: int = 12,
) -> str:
    """The human summary of one run."""
    cfg = results["config"]
    train = results["train"]
    data = results["data"]
    lines = [
        f"# {results['task']} on {results['model']}",
        "",
        "## Config",
        f"- task `{cfg['task']['name']}`: head `{cfg['task']['head']}`, trainer "
        f"`{cfg['task']['trainer']}`, data format `{cfg['data']['format']}`, evaluators "
        f"{', '.join(f'`{e}`' for e in cfg['task']['evaluators'])}",
        *_data_files(cfg["data"], results.get("data", {})),
        f"- model `{cfg['model']['name']}` ({cfg['model']['hub_id']}, source {cfg['model']['source']})",
        f"- LoRA: r={cfg['peft']['r']}, alpha={cfg['peft']['alpha']}, dropout={cfg['peft']['dropout']}, "
        f"targets={cfg['peft']['target_modules'] or cfg['model']['target_modules']}, "
        f"top_layers={cfg['peft']['top_layers']}",
        f"- training: epochs={cfg['train']['epochs']}, lr={cfg['train']['lr']}, "
        f"batch_size={cfg['train']['batch_size']}, grad_accum={cfg['train']['grad_accum']}, seed={cfg['seed']}",
        *([f"- {describe_length(train['length'])}"] if train.get("length") else []),
        *_plugins_table(results.get("plugins", [])),
        "",
        "## Data",
        f"- train rows: {data['train_rows']}, eval rows: {data['eval_rows']}",
    ]
    if data.get("argument_variants"):
        varied = data["argument_variants"]
        lines.append(f"- of those, {varied['rows_added']} are copies of the {varied['rows']} rows with new argument values "
                     f"({varied['copies_per_row']} per row, data.vary_arguments_until={varied['until']})")
    if data.get("train_label_counts"):
        counts = ", ".join(f"{k} {v}" for k, v in sorted(data["train_label_counts"].items()))
        lines.append(f"- train labels: {counts}")
    for split, dropped in data.get("dropped_unknown_labels", {}).items():
        listed = describe_dropped(dropped, list(cfg["task"].get("labels") or []))
        lines.append(f"- dropped from {split} (label not in task.labels): {sum(dropped.values())} rows: {listed}")
    if data.get("eval_labels_not_in_train") and not results.get("audit"):  # the audit section lists them
        unseen = ", ".join(f"{k} ({v} rows)" for k, v in data["eval_labels_not_in_train"].items())
        lines.append(f"- eval labels never seen in training: {unseen}")
    for split, count in data.get("truncated_rows", {}).items():
        if count:
            lines.append(f"- {split}: {count} rows cut to task.max_length={cfg['task']['max_length']}")
    for split, skipped in data.get("skipped_rows", {}).items():
        lines.append(f"- skipped from {split}: {skipped['count']} rows")
        lines += [f"  - {row}" for row in skipped["rows"]]
    for split, untrained in data.get("untrained_rows", {}).items():
        lines.append(
            f"- left out of training ({split}): {untrained['count']} rows whose answer "
            f"task.max_length={cfg['task']['max_length']} cuts away entirely"
        )
        lines += [f"  - {row}" for row in untrained["rows"]]
    for split, missing in data.get("rows_without_answer", {}).items():
        if split == "eval":
            lines.append(f"- eval rows without a reference answer: {missing['count']} (answered by both models, "
                         "not scored; side by side under 'Answers without a reference')")
        else:
            lines.append(f"- left out of training ({split}): {missing['count']} rows without an answer")
        lines += [f"  - {row}" for row in missing["rows"]]
    if results.get("audit"):
        lines += ["", *audit_markdown(results["audit"])]
    lines += ["", "## Metrics"]
    scoring = results.get("scoring", {})
    if scoring.get("scored") == 0:
        lines += ["", f"Nothing was scored: none of the {scoring['eval_rows']} eval rows has a reference answer. "
                  "The answers are side by side under 'Answers without a reference'."]
    else:
        if scoring.get("unscored"):
            lines += ["", f"Scored on {scoring['scored']} of {scoring['eval_rows']} eval rows; {scoring['unscored']} "
                      "have no reference answer (under 'Answers without a reference').", ""]
        classic = (results.get("classic_baseline") or {}).get("metrics")
        conf = results.get("confidence")
        lines += ["| metric | baseline | fine-tuned | change |" + (" classic baseline |" if classic else ""),
                  "|---|---|---|---|" + ("---|" if classic else "")]
        for name, base, tuned in comparison_rows(results["metrics"]):
            delta = f"{tuned - base:+.4f}" if base is not None and tuned is not None else "-"
            row = (f"| {name} | {_fmt(base)}{_interval(conf, name, 'baseline')} | {_fmt(tuned)}"
                   f"{_interval(conf, name, 'finetuned')} | {delta} |")
            if classic:
                row += f" {_fmt(classic.get(name))}{_interval(conf, name, 'classic')} |"
            lines.append(row)
        if classic:
            lines += ["", f"Classic baseline: {results['classic_baseline']['description']}, trained on the same "
                      f"training rows and scored on the same eval rows in {results['classic_baseline']['seconds']:.1f} s."]
    lines += [
        "",
        f"Training: {train['seconds']:.1f} s, {train['examples']} examples trained{_passes(train)} "
        f"({train['examples_per_second']:.1f}/s), {train['tokens_per_second']:.0f} tokens/s.",
    ]
    if results.get("confidence"):
        lines += ["", *confidence_markdown(results["confidence"])]
        if (results.get("audit") or {}).get("recall"):  # another eval set "drawn like this one" is the train set again
            lines += ["", "The eval rows are the train rows: these intervals are about recalling them, not about "
                          "answering questions the model was not trained on."]
    lines += _validation_section(results.get("validation"))
    for model in ("finetuned", "baseline"):
        for evaluator, result in evals.get(model, {}).items():
            if result.report_md:
                lines += ["", f"## {evaluator}: {model} ({MODEL_WORDS[model]})", "", result.report_md]
    if plots:
        lines += ["", "## Plots", ""] + [f"![{p}]({p})" for p in plots]
    lines += _sample_table(predictions, samples)
    lines += _unscored_table(predictions)
    return "\n".join(lines) + "\n"


def _validation_section(validation: dict | None) -> list[str]:
    """Which check of the validation split won, and every check's value."""
    if not validation:
        return []
    source = (f"{validation['rows']} rows set aside from training (data.val_fraction={validation['fraction']})"
              if validation.get("source") == "data.val_fraction" else f"{validation['rows']} rows of `{validation['source']}`")
    lines = ["", "## Validation", "", f"Validation split: {source}."]
    checks, best, last = validation.get("checks") or [], validation.get("best"), validation.get("last")
    if not checks or not best:
        return lines + ["It was not scored: the last step is the fine-tuned model."]
    metric = validation["metric"]
    chosen = ("the best checkpoint" if validation.get("used") == "best" else "the last step")
    lines.append(
        f"Best {metric} {best['value']:.4f} at epoch {best['epoch']:g} (step {best['step']}); the last step scored "
        f"{last['value']:.4f}. The fine-tuned model evaluated below is {chosen}"
        + (" (train.load_best=true)." if validation.get("used") == "best" and best["step"] != last["step"] else ".")
    )
    if validation.get("stopped_early"):
        lines.append(f"Training stopped early after {validation['early_stopping_patience']} validations without a gain.")
    if validation.get("rows_scored") and validation["rows_scored"] < validation["rows"]:
        lines.append(f"Each check scored the first {validation['rows_scored']} rows (train.val_max_rows).")
    lines += ["", f"| epoch | step | {metric} | validation loss |", "|---|---|---|---|"]
    for check in checks:
        loss = "-" if check.get("loss") is None else f"{check['loss']:.4f}"
        mark = " ★" if check["step"] == best["step"] else ""
        lines.append(f"| {check['epoch']:g} | {check['step']} | {check['value']:.4f}{mark} | {loss} |")
    lines.append(f"\nScoring the validation split took {validation.get('seconds', 0):.1f} s in all.")
    return lines


def _data_files(data_cfg: dict, stats: dict) -> list[str]:
    """The data line: one training file inline; several one per line, with the rows read and used
    of each when results.json has them (``data.train_files``)."""
    eval_part = f"eval `{data_cfg.get('eval_path')}`"
    files = stats.get("train_files")
    if not files:
        paths = data_cfg.get("train_path")
        if not isinstance(paths, list):
            return [f"- data: train `{paths}`, {eval_part}"]
        files = [entry if isinstance(entry, dict) else {"path": entry} for entry in paths]
    if len(files) == 1:  # its rows are the train rows of the Data section
        return [f"- data: train `{files[0]['path']}`, {eval_part}"]
    lines = [f"- data: train {len(files)} files, {eval_part}"]
    for entry in files:
        what = [f"format `{entry['format']}`"] if entry.get("format") else []
        what += [f"weight {entry['weight']}"] if entry.get("weight") is not None else []
        line = f"  - `{entry.get('path')}`" + (f" ({', '.join(what)})" if what else "")
        if entry.get("rows_read") is not None:
            line += f": {entry['rows_read']} rows read, {entry.get('rows_used', entry['rows_read'])} used"
            dropped = entry.get("dropped_unknown_labels")
            left_out = [f"{entry[key]} {what}" for key, what in (("skipped_rows", "skipped"),
                                                                 ("without_answer", "without an answer"))
                        if entry.get(key)]
            left_out += [f"{sum(dropped.values())} with unknown labels"] if dropped else []
            line += f" ({', '.join(left_out)})" if left_out else ""
        lines.append(line)
    return lines


def _plugins_table(plugins: list[dict]) -> list[str]:
    """Which plugin and distribution (and version) provided each name the run used."""
    if not plugins:
        return []
    lines = ["", "## Plugins", "", "| kind | name | plugin | distribution | version |", "|---|---|---|---|---|"]
    for p in plugins:
        lines.append(
            f"| {p['kind']} | `{p['name']}` | {p['plugin']} | {p['distribution'] or 'inline'} | {p['version'] or '-'} |"
        )
    return lines


def _paired(predictions: dict[str, list[Prediction]], scored: bool) -> list[tuple[Prediction, Any]]:
    """(fine-tuned prediction, baseline answer) per eval row that has (or lacks) a reference; both
    models answered the same rows in the same order."""
    base = predictions.get("baseline", [])
    return [(pred, base[i].prediction if i < len(base) else "-")
            for i, pred in enumerate(predictions.get("finetuned", [])) if (pred.reference is not None) == scored]


def _sample_table(predictions: dict[str, list[Prediction]], samples: int) -> list[str]:
    """The first scored rows: input, reference and both models' answers."""
    rows = _paired(predictions, scored=True)
    if not rows:
        return []
    lines = ["", "## Sample predictions", "", "| input | reference | baseline | fine-tuned |", "|---|---|---|---|"]
    for pred, base_pred in rows[:samples]:
        lines.append(f"| {_cell(pred.input)} | {_cell(pred.reference)} | {_cell(base_pred)} | {_cell(pred.prediction)} |")
    return lines


def _answer(value: Any) -> str:
    # An empty answer is itself a finding (the model stopped at once); say so instead of a blank cell.
    return "*(empty)*" if value is None or not str(value).strip() else _cell(value, UNSCORED_CELL)


def _unscored_table(predictions: dict[str, list[Prediction]]) -> list[str]:
    """Rows without a reference answer: the base and the fine-tuned answer side by side (up to
    :data:`UNSCORED_LISTED`; predictions.jsonl has them all, ``"scored": false``)."""
    rows = _paired(predictions, scored=False)
    if not rows:
        return []
    lines = ["", "## Answers without a reference", "",
             f"{len(rows)} eval rows have no reference answer: generated, not scored.", "",
             "| input | baseline | fine-tuned |", "|---|---|---|"]
    for pred, base_pred in rows[:UNSCORED_LISTED]:
        lines.append(f"| {_cell(pred.input, UNSCORED_CELL)} | {_answer(base_pred)} | {_answer(pred.prediction)} |")
    if len(rows) > UNSCORED_LISTED:
        lines += ["", f"{len(rows) - UNSCORED_LISTED} more in predictions.jsonl (`\"scored\": false`)."]
    return lines
