"""Reading a task's train and eval files through its data-format plugin."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from core.errors import PlugtuneError
from core.types import Example, ReadResult, SkippedRow

log = logging.getLogger("plugtune")


@dataclass
class LoadedData:
    """Examples after label filtering, with what was dropped (reported, never silent)."""

    train: list[Example]
    eval: list[Example]
    dropped: dict[str, dict[str, int]] = field(default_factory=dict)  # split -> label -> rows
    skipped: dict[str, list[SkippedRow]] = field(default_factory=dict)  # split -> rows the format skipped
    # split -> file:line of rows whose answer task.max_length cut away entirely (they train nothing)
    untrained: dict[str, list[str]] = field(default_factory=dict)

    def eval_labels_not_in_train(self) -> dict[str, int]:
        """Eval labels (and their row counts) that no training row has: the model cannot learn them."""
        seen = {ex.label for ex in self.train}
        return dict(sorted(Counter(ex.label for ex in self.eval if ex.label and ex.label not in seen).items()))

    def note_untrained(self, split: str, rows: list[dict], max_length: int) -> None:
        """Record (and log) the encoded rows of ``split`` that train nothing because ``task.max_length``
        cut their answer away entirely (``answer_cut``, set by the causal_lm head)."""
        sources = [row.get("source") or "?" for row in rows if row.get("answer_cut")]
        if not sources:
            return
        self.untrained[split] = sources
        log.warning(
            "%s: %d of %d rows left out of training: task.max_length=%d cuts their answer away entirely "
            "(raise task.max_length or shorten them): %s", split, len(sources), len(rows), max_length,
            ", ".join(sources[:SKIPPED_LISTED]) + (" ..." if len(sources) > SKIPPED_LISTED else ""),
        )

    def stats(self) -> dict:
        return {
            "train_rows": len(self.train),
            "eval_rows": len(self.eval),
            "dropped_unknown_labels": self.dropped,
            "skipped_rows": {
                split: {"count": len(rows), "rows": [f"{r.source}: {r.reason}" for r in rows[:SKIPPED_LISTED]]}
                for split, rows in self.skipped.items()
            },
            "untrained_rows": {
                split: {"count": len(rows), "rows": rows[:SKIPPED_LISTED]} for split, rows in self.untrained.items()
            },
            "train_label_counts": dict(Counter(ex.label for ex in self.train if ex.label)),
            "eval_labels_not_in_train": self.eval_labels_not_in_train(),
        }


SKIPPED_LISTED = 20  # skipped (or untrained) rows listed by file:line in results.json and the report


def did_you_mean(label: str, labels: list[str]) -> str | None:
    """The known label that ``label`` is a case (or whitespace) variant of, if any."""
    wanted = label.strip().casefold()
    return next((known for known in labels if known.casefold() == wanted), None)


def describe_dropped(dropped: dict[str, int], labels: list[str]) -> str:
    """``loan (2), Card_lost (1, did you mean 'card_lost'?)``: the dropped labels with their counts."""
    parts = []
    for label, count in sorted(dropped.items()):
        hint = did_you_mean(label, labels)
        parts.append(f"{label} ({count}, did you mean {hint!r}?)" if hint else f"{label} ({count})")
    return ", ".join(parts)


def keep_known_labels(examples: list[Example], labels: list[str]) -> tuple[list[Example], dict[str, int]]:
    """Drop rows whose label is not in ``labels`` (W1 behaviour) and count them per label."""
    known = set(labels)
    kept = [ex for ex in examples if ex.label in known]
    dropped = Counter(ex.label for ex in examples if ex.label not in known)
    return kept, dict(dropped)


def labels_from_training_file(cfg, examples: list[Example], path) -> None:
    """Classification data with no ``task.labels``: the class names are the training file's labels
    (sorted), set into ``cfg.task.labels`` and logged with their counts."""
    if cfg.task.labels:
        return
    counts = Counter(ex.label for ex in examples if ex.label)
    if not counts:
        return
    cfg.task.labels = sorted(counts)
    log.info("task.labels not set: %d labels from %s: %s (set task.labels=[...] to choose them)", len(counts), path,
             ", ".join(f"{label} ({counts[label]})" for label in cfg.task.labels))


def load_data(cfg, data_format) -> LoadedData:
    """Read both splits; for classification tasks drop rows with labels outside the list."""
    splits = {}
    dropped = {}
    skipped = {}
    for split, path, limit in (
        ("train", cfg.data.train_path, cfg.data.max_train_rows),
        ("eval", cfg.data.eval_path, cfg.data.max_eval_rows),
    ):
        result = ReadResult.of(data_format.read(path, cfg.data))
        if result.skipped:
            skipped[split] = result.skipped
            log.warning(
                "%s: skipped %d rows, first: %s", path, len(result.skipped),
                "; ".join(f"{r.source}: {r.reason}" for r in result.skipped[:3]),
            )
        examples = result.examples
        if not examples:
            raise PlugtuneError(f"{path}: no usable rows (every row was skipped; see the warnings above)")
        if split == "train":
            labels_from_training_file(cfg, examples, path)
        if cfg.task.labels:
            examples, unknown = keep_known_labels(examples, list(cfg.task.labels))
            if unknown:
                dropped[split] = unknown
                log.warning(
                    "%s: dropped %d rows with labels outside task.labels: %s",
                    path, sum(unknown.values()), describe_dropped(unknown, list(cfg.task.labels)),
                )
            if not examples:
                raise PlugtuneError(f"{path}: no rows left after dropping unknown labels; task.labels is {list(cfg.task.labels)}")
        if limit is not None:
            examples = examples[:limit]
        splits[split] = examples
    data = LoadedData(train=splits["train"], eval=splits["eval"], dropped=dropped, skipped=skipped)
    unseen = data.eval_labels_not_in_train()
    if unseen:
        log.warning(
            "%s: eval labels that never occur in the training data: %s", cfg.data.eval_path,
            ", ".join(f"{label} ({count} rows)" for label, count in unseen.items()),
        )
    return data
