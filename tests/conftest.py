import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.plugins import reset_plugin_manager
from core.testing import tiny_intent_data, tiny_model_dir

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    return tiny_model_dir(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture
def tiny_data(tmp_path) -> tuple[Path, Path]:
    return tiny_intent_data(tmp_path / "data")


@pytest.fixture(autouse=True)
def fresh_plugins(monkeypatch):
    """Each test sees a freshly built plugin manager (env changes, inline plugins)."""
    monkeypatch.delenv("PLUGTUNE_DISABLE_PLUGINS", raising=False)
    reset_plugin_manager()
    yield
    reset_plugin_manager()


def run_cli(*args: str, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run ``python -m core ARGS`` from the repository root, capturing output."""
    full_env = {**os.environ, "PLUGTUNE_PROGRESS": "0", **(env or {})}
    full_env.pop("HYDRA_FULL_ERROR", None)
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO, env=full_env, capture_output=True, text=True, timeout=timeout
    )


def tiny_overrides(tiny_model: Path, train: Path, eval_: Path) -> list[str]:
    """Overrides that run the intent task on the tiny model and tiny data, quickly."""
    return [
        "model.source=local",
        f"model.path={tiny_model}",
        f"data.train_path={train}",
        f"data.eval_path={eval_}",
        "train.epochs=2",
        "train.lr=5e-3",
        "train.batch_size=8",
        "train.logging_steps=1",
        # fp32 on every CPU: tests that compare losses exactly must not depend on the machine's AMX.
        "train.speedups.cpu_bf16=false",
    ]
