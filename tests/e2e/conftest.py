"""Runs shared by the end-to-end tests: each trains once per session, and every test that checks
something about it reads the same run folder."""

from types import SimpleNamespace

import pytest

from core.testing import run_cli

TOOLCALL_EVAL_ROWS = 24


@pytest.fixture(scope="session")
def shipped_toolcall_run(tmp_path_factory) -> SimpleNamespace:
    """task=toolcall with its defaults on the first 300 of the shipped 886 train rows and the first
    24 test rows, into a fresh model cache (so the embedded Gemma 3 270M is converted from its
    packages for real). Its ``run_dir``, ``cache`` (for ``PLUGTUNE_CACHE``) and ``eval_rows``.

    ``data.vary_arguments_until=0``: the full shipped file gets no copies with new argument
    values, and this shortened run keeps the full file's training."""
    root = tmp_path_factory.mktemp("shipped-toolcall")
    run_dir, cache = root / "run", root / "cache"
    result = run_cli("core", "task=toolcall", "data.max_train_rows=300", f"data.max_eval_rows={TOOLCALL_EVAL_ROWS}",
                     "data.vary_arguments_until=0", f"hydra.run.dir={run_dir}", env={"PLUGTUNE_CACHE": str(cache)},
                     timeout=1500)
    assert result.returncode == 0, result.stderr[-3000:]
    return SimpleNamespace(run_dir=run_dir, cache=cache, eval_rows=TOOLCALL_EVAL_ROWS)
