"""``text_label`` data format: classification rows ``{"text": ..., "label": ...}``.

Reads JSONL (one object per line), a JSON array, or CSV with a header row. Field names come from
``data.text_field`` and ``data.label_field``. A malformed row stops the run with ``file:line``.
Leading/trailing whitespace is stripped from labels (``"refund "`` is ``refund``); how many labels
were stripped is logged, with the first rows' ``file:line``, so it is never silent.

A row without a label (no such field, null, or an empty cell) is a text to classify: in an eval
file it is predicted and written (``predictions.jsonl``) and left unscored (macro_f1 and accuracy
count labelled rows only); in a training file it trains nothing, so it is left out and counted
(one log line, ``results.json``). A label of only spaces, or of another type, is still an error.
``data.instruction`` and ``data.split_turns`` do not apply to these rows.
"""

from __future__ import annotations

import logging
from pathlib import Path

from core import DataError, Example, hookimpl
from core.datafiles import iter_records

log = logging.getLogger("plugtune")

STRIPPED_LISTED = 3  # rows named in the log line about labels with whitespace


class TextLabelFormat:
    reads_instruction = False  # classification rows have no instruction (data.instruction is refused alone)

    def read(self, path: Path, data_cfg) -> list[Example]:
        path = Path(path)
        examples, stripped = [], []
        for line, row in iter_records(path):
            example = self._example(path, line, row, data_cfg)
            raw = row.get(data_cfg.label_field)
            if isinstance(raw, str) and raw != example.label:
                stripped.append(f"{example.source} {raw!r}")
            examples.append(example)
        if not examples:
            raise DataError(path, None, "no rows (the file is empty)")
        if stripped:
            log.warning(
                "%s: stripped leading/trailing whitespace from %d labels, first: %s", path, len(stripped),
                ", ".join(stripped[:STRIPPED_LISTED]),
            )
        return examples

    @staticmethod
    def _example(path: Path, line: int, row: dict, data_cfg) -> Example:
        text_field, label_field = data_cfg.text_field, data_cfg.label_field
        text = row.get(text_field)
        if not isinstance(text, str) or not text.strip():
            what = _got(row, text_field)
            raise DataError(path, line, f"field {text_field!r}: expected a non-empty string, got {what}")
        label = row.get(label_field)
        if label is None or label == "":  # no label: a text to classify, unscored (module docstring)
            return Example(messages=[{"role": "user", "content": text.strip()}], source=f"{path}:{line}")
        if isinstance(label, (int, float)) and not isinstance(label, bool):
            label = str(label)
        if not isinstance(label, str) or not label.strip():
            what = _got(row, label_field)
            raise DataError(path, line, f"field {label_field!r}: expected a label string, got {what}")
        return Example(
            messages=[{"role": "user", "content": text.strip()}],
            label=label.strip(),
            source=f"{path}:{line}",
        )


def _got(row: dict, field: str) -> str:
    """What a row holds for ``field``, for an error: missing (no such key), null, or the value."""
    if field not in row:
        return "missing"
    value = row[field]
    return "null" if value is None else f"{type(value).__name__} {value!r}"


@hookimpl
def register_data_formats(register):
    register("text_label", TextLabelFormat())
