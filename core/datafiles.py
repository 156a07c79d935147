"""Helpers data-format plugins share: path checks with messages that name the fix."""

from __future__ import annotations

from pathlib import Path

from core.errors import DataError


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
