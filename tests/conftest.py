"""Fixtures shared by every tier (unit, integration, e2e).

Helper functions live in core.testing (public and documented); test modules import them from
there, never from this file or from each other.
"""

import os
import re
import types
from pathlib import Path

import pytest

from core.cpu_threads import usable_cores
from core.plugins import reset_plugin_manager
from core.testing import REPO, tiny_intent_data, tiny_model_dir

# Under pytest-xdist the workers share the cores: each worker, and every run it starts (the runs
# read OMP_NUM_THREADS), gets its share. Two runs that each take every core slow each other down
# several times over (their threads wait on one another).
if os.environ.get("PYTEST_XDIST_WORKER_COUNT"):
    _worker_threads = max(1, usable_cores() // int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))
    os.environ["OMP_NUM_THREADS"] = str(_worker_threads)
    import torch

    torch.set_num_threads(_worker_threads)


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


# CONTRIBUTING.md's "## Hook reference": one "### hook(args)" section per hook, one example each.
HOOK_SECTION = re.compile(r"^### (\w+)\(([^)]*)\)\n(.*?)(?=^### |\Z)", re.M | re.S)
PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


@pytest.fixture(scope="session")
def hook_reference() -> list[tuple[str, list[str], str]]:
    """(hook name, argument names, example code) per section of CONTRIBUTING's hook reference."""
    text = (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")
    reference = text.split("## Hook reference", 1)[1]
    sections = []
    for name, args, body in HOOK_SECTION.findall(reference):
        code = PYTHON_BLOCK.findall(body)
        assert len(code) == 1, f"section {name} must have exactly one python example"
        sections.append((name, [a.strip() for a in args.split(",") if a.strip()], code[0]))
    return sections


@pytest.fixture
def examples(hook_reference, tmp_path) -> dict[str, types.ModuleType]:
    """Each hook reference example executed as a module file, as a plugin author's package holds it."""
    modules = {}
    for name, _, code in hook_reference:
        path = tmp_path / f"example_{name}.py"
        path.write_text(code, encoding="utf-8")
        module = types.ModuleType(f"example_{name}")
        module.__file__ = str(path)
        exec(compile(code, str(path), "exec"), module.__dict__)
        modules[name] = module
    return modules
