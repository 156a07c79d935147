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

    def stats(self) -> dict:
        return {
            "train_rows": len(self.train),
            "eval_rows": len(self.eval),
            "dropped_unknown_labels": self.dropped,
            "skipped_rows": {
                split: {"count": len(rows), "rows": [f"{r.source}: {r.reason}" for r in rows[:SKIPPED_LISTED]]}
                for split, rows in self.skipped.items()
            },
            "train_label_counts": dict(Counter(ex.label for ex in self.train if ex.label)),
        }


SKIPPED_LISTED = 20  # skipped rows listed by file:line in results.json and the report


def keep_known_labels(examples: list[Example], labels: list[str]) -> tuple[list[Example], dict[str, int]]:
    """Drop rows whose label is not in ``labels`` (W1 behaviour) and count them per label."""
    known = set(labels)
    kept = [ex for ex in examples if ex.label in known]
    dropped = Counter(ex.label for ex in examples if ex.label not in known)
    return kept, dict(dropped)


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
        if cfg.task.labels:
            examples, unknown = keep_known_labels(examples, list(cfg.task.labels))
            if unknown:
                dropped[split] = unknown
                log.warning(
                    "%s: dropped %d rows with labels outside task.labels: %s",
                    path, sum(unknown.values()), ", ".join(f"{k} ({v})" for k, v in sorted(unknown.items())),
                )
            if not examples:
                raise PlugtuneError(f"{path}: no rows left after dropping unknown labels; task.labels is {list(cfg.task.labels)}")
        if limit is not None:
            examples = examples[:limit]
        splits[split] = examples
    return LoadedData(train=splits["train"], eval=splits["eval"], dropped=dropped, skipped=skipped)
