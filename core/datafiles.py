"""Helpers data-format plugins share: path checks and row readers whose errors say ``file:line``.

``iter_records`` reads the three layouts users export (a JSON array, JSON Lines, CSV with a
header) and yields ``(line, row)`` pairs, so every later validation error can point at the row.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, Iterator

from core.errors import DataError
from core.types import SkippedRow


def check_data_file(path) -> Path:
    """Return ``path`` as a Path if it is a readable, non-empty file, else raise DataError."""
    path = Path(path)
    if not path.exists():
        raise DataError(path, None, "file not found (set data.train_path / data.eval_path)")
    if not path.is_file():
        raise DataError(path, None, "not a file")
    if path.stat().st_size == 0:
        raise DataError(path, None, "no rows (the file is empty)")
    return path


def read_text(path: Path | str) -> str:
    """The file as text; bytes that are not UTF-8 are an error naming their line."""
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DataError(
            path, line, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {column}); save the file as UTF-8"
        ) from None
    return text.removeprefix("\ufeff")  # Excel writes a byte-order mark


def iter_records(path, skipped: list[SkippedRow] | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line, row)`` for each row of a ``.json`` array, ``.jsonl`` or ``.csv`` file.

    The layout follows the suffix; a ``.json`` file that does not start with ``[`` is read as
    JSON Lines (many exports name JSONL files ``.json``). Rows must be JSON objects. When
    ``skipped`` is a list, an unreadable JSON Lines line is recorded there and reading goes on
    (each line stands alone; a broken array or CSV cannot be resynchronised, so it still raises).
    """
    path = check_data_file(path)
    text = read_text(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        yield from _csv_records(path, text)
    elif suffix == ".json" and text.lstrip().startswith("["):
        yield from _json_array_records(path, text)
    else:
        yield from _jsonl_records(path, text, skipped)


def _object(path: Path, line: int, row: Any) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise DataError(path, line, f"expected a JSON object, got {type(row).__name__}")
    return row


def _jsonl_records(path: Path, text: str, skipped: list[SkippedRow] | None):
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            try:
                row = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise DataError(path, number, f"invalid JSON ({exc.msg} at column {exc.colno})") from None
            row = _object(path, number, row)
        except DataError as problem:
            if skipped is None:
                raise
            skipped.append(SkippedRow(f"{path}:{number}", problem.reason))
            continue
        yield number, row


def _json_array_records(path: Path, text: str):
    """Decode the array one element at a time so each row keeps its line number."""
    decoder = json.JSONDecoder()
    position = text.index("[") + 1
    while True:
        position = _skip_space(text, position)
        if position >= len(text):
            raise DataError(path, text.count("\n") + 1, "invalid JSON (the array is not closed with ])")
        if text[position] == "]":
            return
        line = text.count("\n", 0, position) + 1
        try:
            row, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            raise DataError(path, exc.lineno, f"invalid JSON ({exc.msg} at column {exc.colno})") from None
        yield line, _object(path, line, row)
        position = _skip_space(text, position)
        if position < len(text) and text[position] == ",":
            position += 1
        elif position < len(text) and text[position] != "]":
            line = text.count("\n", 0, position) + 1
            raise DataError(path, line, "invalid JSON (expected , or ] between array items)")


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _csv_records(path: Path, text: str):
    reader = csv.DictReader(io.StringIO(text, newline=""))
    start = 2  # line 1 is the header
    for row in reader:
        if None in row:  # more cells than header columns
            raise DataError(path, start, f"{len(row) - 1 + len(row[None])} cells, but the header has {len(reader.fieldnames)} columns")
        yield start, row
        start = reader.line_num + 1
