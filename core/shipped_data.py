"""Which files a run reads, and the settings that belong to the task's shipped example data.

Every task ships a small example set (``data.shipped`` in its config): the files, and the settings
that describe only those files — a tools list, a system prompt, class names. A run that names no
training file uses the shipped set with all of them. A run on the user's own files gets none of
them unless the user sets them (``data.tools_file``, ``task.system_prompt``, ``task.labels``), and
when it names no eval file it is scored on its (first) training file, said in one log line.
"""

from __future__ import annotations

import logging

from core.errors import PlugtuneError

log = logging.getLogger("plugtune")


def training_paths(train_path) -> list[str]:
    """The training files of ``data.train_path``: one path, or a list of paths / {path, ...} entries."""
    from omegaconf import OmegaConf

    if train_path is None:
        return []
    if OmegaConf.is_config(train_path):
        train_path = OmegaConf.to_container(train_path, resolve=True)
    entries = train_path if isinstance(train_path, list) else [train_path]
    # Lenient: core.data.training_files checks the entries (a missing path is its one-line error).
    return [str(entry.get("path")) if isinstance(entry, dict) else str(entry) for entry in entries]


def uses_shipped_data(cfg) -> bool:
    """True when the run trains on the task's shipped example file (named or by default)."""
    shipped = cfg.data.get("shipped") or {}
    paths = training_paths(cfg.data.train_path)
    return bool(shipped.get("train_path")) and paths == [str(shipped.get("train_path"))]


def resolve_data_paths(cfg, quiet: bool = False) -> None:
    """Fill ``data.train_path``/``eval_path`` and the shipped-data settings into ``cfg`` in place
    (``quiet``: without the log lines, for checks that resolve a copy).

    Idempotent: a config already resolved is left as it is."""
    data, task = cfg.data, cfg.task
    shipped = data.get("shipped") or {}
    if data.train_path is None:
        if not shipped.get("train_path"):
            raise PlugtuneError(
                f"data.train_path is not set and task {task.name!r} ships no example data; "
                "pass data.train_path=FILE (and data.eval_path=FILE)"
            )
        data.train_path = shipped.train_path
    if uses_shipped_data(cfg):
        filled = []
        if data.eval_path is None and shipped.get("eval_path"):
            data.eval_path = shipped.eval_path
            filled.append("eval_path")
        if data.get("tools_file") is None and shipped.get("tools_file"):
            data.tools_file = shipped.tools_file
            filled.append("tools_file")
        if task.get("system_prompt") is None and shipped.get("system_prompt"):
            task.system_prompt = shipped.system_prompt
            filled.append("system_prompt")
        if not task.get("labels") and shipped.get("labels"):
            task.labels = list(shipped.labels)
            filled.append("labels")
        if filled and not quiet:
            log.info("data: the %s task's shipped example set (%s, scored on %s)", task.name, data.train_path, data.eval_path)
    if data.eval_path is None:
        data.eval_path = training_paths(data.train_path)[0]
        if not quiet:
            log.warning(
                "data.eval_path is not set: scoring on the training file %s (this measures recall, not "
                "generalisation); set data.eval_path=FILE to score on held-out rows", data.eval_path,
            )
