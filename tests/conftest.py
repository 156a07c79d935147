"""Fixtures shared by every tier (unit, integration, e2e).

Helper functions live in core.testing (public and documented); test modules import them from
there, never from this file or from each other.
"""

from pathlib import Path

import pytest

from core.plugins import reset_plugin_manager
from core.testing import tiny_intent_data, tiny_model_dir


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

