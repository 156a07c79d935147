"""``mode=inspect``: validate a task's data and show one example exactly as the model sees it.

Loads only the tokenizer (no weights): reads both splits through the data format, renders and
tokenises every row through the task head, then prints counts, length statistics, the
truncation rate, the data audit (``core.audit``: duplicates between and within the splits,
conflicting labels, label shares, eval labels and tools never trained on) and one rendered example
with the trained tokens marked ``⟦…⟧`` (the answers, or the whole text under ``train.loss_on=all``).
"""

from __future__ import annotations

import statistics
from collections import Counter

from core import argument_variants, tracking, training_length
from core.audit import audit, text_lines as audit_lines
from core.data import load_data
from core.kinds import RunContext
from core.models import resolve_model_dir

TRAINED_OPEN, TRAINED_CLOSE = "⟦", "⟧"


def length_summary(lengths: list[int]) -> str:
    if not lengths:
        return "-"
    ordered = sorted(lengths)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"min {ordered[0]}, median {statistics.median(ordered):g}, p95 {p95}, max {ordered[-1]}"


def mark_trained(tokenizer, row: dict) -> str:
    """The row's text with each run of trained tokens wrapped in ⟦ ⟧."""
    mask = row.get("completion_mask")
    ids = row["input_ids"]
    if not mask:
        return tokenizer.decode(ids)
    pieces, run, inside = [], [], False
    for token, trained in zip(ids, mask):
        if bool(trained) != inside and run:
            text = tokenizer.decode(run)
            pieces.append(f"{TRAINED_OPEN}{text}{TRAINED_CLOSE}" if inside else text)
            run = []
        inside = bool(trained)
        run.append(token)
    if run:
        text = tokenizer.decode(run)
        pieces.append(f"{TRAINED_OPEN}{text}{TRAINED_CLOSE}" if inside else text)
    return "".join(pieces)


def split_report(name: str, rows: list[dict], max_length: int, loss_on: str = "answer", made_of: str = "") -> list[str]:
    """Counts, lengths and trained tokens of one split's encoded rows (``loss_on``: train.loss_on;
    ``made_of``: what the count is made of, e.g. `` (30 from the file + 120 copies)``)."""
    truncated = sum(1 for r in rows if r.get("truncated"))
    lines = [
        f"{name}: {len(rows)} rows{made_of}; tokens per row: {length_summary([len(r['input_ids']) for r in rows])}",
        f"  truncated to task.max_length={max_length}: {truncated} rows ({truncated / max(len(rows), 1):.1%})",
    ]
    if rows and "completion_mask" in rows[0]:
        trained = [sum(r["completion_mask"]) for r in rows]
        scope = "the whole text" if loss_on == "all" else "answers"
        lines.append(f"  trained tokens per row (train.loss_on={loss_on}: {scope}): {length_summary(trained)}")
        unanswered = sum(1 for r in rows if r.get("answer") is None)
        cut = sum(1 for r, n in zip(rows, trained) if n == 0 and r.get("answer") is not None)
        if unanswered:
            lines.append(f"  rows without a reference answer (eval: answered, not scored; train: left out): {unanswered}")
        if cut:
            lines.append(f"  rows whose answer task.max_length cuts away (train nothing): {cut}")
    if rows and isinstance(rows[0].get("labels"), int):
        counts = Counter(r["labels"] for r in rows)
        lines.append(f"  label ids: {dict(sorted(counts.items()))}")
    return lines


def inspect(cfg, plugins) -> str:
    """Validate the data and return the inspection report (the CLI prints it)."""
    from core.shipped_data import resolve_data_paths

    resolve_data_paths(cfg)
    tracking.check(cfg)  # a run would refuse an unknown tracker or a missing extra: say so here too
    data = load_data(cfg, plugins.data_format)
    ctx = RunContext(cfg=cfg, run_dir=None, model_dir=resolve_model_dir(cfg.model), labels=list(cfg.task.labels),
                     template=plugins.template)
    plugins.head.load_tokenizer(ctx)
    train = plugins.head.encode(ctx, data.train)
    evaluation = plugins.head.encode(ctx, data.eval)
    stats = data.stats()
    lines = [f"task {cfg.task.name}: data format {cfg.data.format}, head {cfg.task.head}, "
             f"template {cfg.task.prompt_template}, tokenizer of {cfg.model.name}"]
    loss_on = getattr(cfg.train.loss_on, "value", cfg.train.loss_on)  # the enum's name as written in the config
    variants = data.argument_variants
    made_of = (f" ({variants['rows']} from the file + {variants['rows_added']} copies with new argument values)"
               if variants else "")
    lines += split_report(f"train {cfg.data.train_path}", train, cfg.task.max_length, loss_on, made_of)
    lines += split_report(f"eval {cfg.data.eval_path}", evaluation, cfg.task.max_length, loss_on)
    if data.val:
        source = data.validation["source"]
        where = (f"data.val_fraction={data.validation['fraction']} of the training rows (seed {cfg.seed})"
                 if source == "data.val_fraction" else source)
        lines += split_report(f"validation {where}", plugins.head.encode(ctx, data.val), cfg.task.max_length, loss_on)
    lines.append(training_length.describe(training_length.choose(cfg, len(data.train))))
    if stats["train_label_counts"]:
        lines.append(f"train labels: {stats['train_label_counts']}")
    for split, dropped in stats["dropped_unknown_labels"].items():
        lines.append(f"dropped from {split} (label not in task.labels): {dropped}")
    for split, skipped in stats["skipped_rows"].items():
        lines.append(f"skipped from {split}: {skipped['count']} rows, e.g. {skipped['rows'][:3]}")
    lines += ["", *audit_lines(audit(data.train, data.eval, data.val))]
    example = train[0]
    lines += [
        "",
        f"first train row ({data.train[0].source}), exactly as the model sees it"
        + (f"; trained tokens (train.loss_on={loss_on}) in {TRAINED_OPEN} {TRAINED_CLOSE}:"
           if "completion_mask" in example else ":"),
        mark_trained(ctx.tokenizer, example),
    ]
    if isinstance(example.get("labels"), int):
        lines.append(f"label: {ctx.labels[example['labels']]}")
    if data.argument_variants:  # the copies are made in memory only: show one, so they can be checked
        # (what the copies are and why was logged as the data loaded, just above this output)
        first_copy = data.argument_variants["rows"]
        lines += ["", f"first copy, from {data.train[first_copy].source}, exactly as the model sees it:",
                  mark_trained(ctx.tokenizer, train[first_copy]),
                  "", f"the first row, {data.train[0].source}, and its copies, request → call:",
                  *(f"  {line}" for line in argument_variants.copies_of_first_row(data.train))]
    return "\n".join(lines)
