"""``text_label`` data format: classification rows ``{"text": ..., "label": ...}``.

Reads JSONL (one object per line) or CSV with a header row. Field names come from
``data.text_field`` and ``data.label_field``. A malformed row stops the run with ``file:line``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from core import DataError, Example, hookimpl
from core.datafiles import check_data_file


class TextLabelFormat:
    def read(self, path: Path, data_cfg) -> list[Example]:
        path = check_data_file(path)
        if path.suffix.lower() == ".csv":
            rows = self._csv_rows(path)
        else:
            rows = self._jsonl_rows(path)
        examples = [self._example(path, line, row, data_cfg) for line, row in rows]
        if not examples:
            raise DataError(path, None, "no rows (the file is empty)")
        return examples

    @staticmethod
    def _jsonl_rows(path: Path):
        with path.open(encoding="utf-8") as handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                try:
                    row = json.loads(raw)
                except json.JSONDecodeError as exc:
                    raise DataError(path, number, f"invalid JSON ({exc.msg} at column {exc.colno})")
                if not isinstance(row, dict):
                    raise DataError(path, number, f"expected a JSON object, got {type(row).__name__}")
                yield number, row

    @staticmethod
    def _csv_rows(path: Path):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for number, row in enumerate(csv.DictReader(handle), start=2):  # line 1 is the header
                yield number, row

    @staticmethod
    def _example(path: Path, line: int, row: dict, data_cfg) -> Example:
        text_field, label_field = data_cfg.text_field, data_cfg.label_field
        text = row.get(text_field)
        if not isinstance(text, str) or not text.strip():
            what = "missing" if text is None else f"{type(text).__name__} {text!r}"
            raise DataError(path, line, f"field {text_field!r}: expected a non-empty string, got {what}")
        label = row.get(label_field)
        if isinstance(label, (int, float)) and not isinstance(label, bool):
            label = str(label)
        if not isinstance(label, str) or not label.strip():
            what = "missing" if label is None else f"{type(label).__name__} {label!r}"
            raise DataError(path, line, f"field {label_field!r}: expected a label string, got {what}")
        return Example(
            messages=[{"role": "user", "content": text.strip()}],
            label=label.strip(),
            source=f"{path}:{line}",
        )


@hookimpl
def register_data_formats(register):
    register("text_label", TextLabelFormat())
