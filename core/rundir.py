"""Writing the run directory so a crash never leaves a file that looks complete.

Every file is written to a temporary name in the same folder and renamed into place; a folder
(the adapter) is saved into a temporary folder and renamed the same way. The temporary names are
made private (0600 / 0700) by ``tempfile``; they get the modes an ordinary write would give
(0666 / 0777 less the umask, e.g. 0644 / 0755) before the rename.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

OVERRIDES_FILE = Path(".hydra") / "overrides.yaml"


def current_umask() -> int:
    """The process's umask (read from /proc where it can be, so no other thread sees it change)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def write_jsonl_atomic(path: Path, rows: list[dict]) -> None:
    write_text_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def save_dir_atomic(path: Path, save: Callable[[Path], None]) -> None:
    """Call ``save(tmp_dir)`` and rename ``tmp_dir`` to ``path`` only if it succeeded."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        os.chmod(tmp, 0o777 & ~current_umask())
        save(tmp)
        # Some writers (safetensors) create their files 0600 whatever the umask: files follow it too.
        for file in tmp.rglob("*"):
            if file.is_file():
                os.chmod(file, 0o666 & ~current_umask())
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def read_overrides(run_dir: Path) -> list[str] | None:
    """The command-line overrides Hydra recorded for a run, or None when it recorded none."""
    from omegaconf import OmegaConf

    path = Path(run_dir) / OVERRIDES_FILE
    return [str(o) for o in OmegaConf.load(path)] if path.is_file() else None
