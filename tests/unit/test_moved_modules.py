"""Moved modules fail at load with one line naming the old and the new module; the core names
documented for plugins keep their old import paths."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import textwrap
from pathlib import Path

import pytest

from core import moved
from core.plugins import get_plugin_manager, load_failures, reset_plugin_manager

REPO = Path(__file__).resolve().parents[2]


def test_importing_a_moved_module_names_its_new_home():
    get_plugin_manager()  # loading plugins installs the finder
    sys.modules.pop("plugins.lora", None)
    with pytest.raises(ImportError) as info:
        import plugins.lora  # noqa: F401
    assert str(info.value) == "plugins.lora moved to core.heads; import it from there"
    with pytest.raises(ImportError, match=r"^plugins\.lora moved to core\.heads; import it from there$"):
        from plugins.lora import LoraHead  # noqa: F401


def test_every_moved_module_is_gone_and_its_new_home_exists():
    get_plugin_manager()
    for old, new in moved.MOVED_MODULES.items():
        assert not REPO.joinpath(*old.split(".")).with_suffix(".py").exists(), f"{old} is in MOVED_MODULES but still exists"
        assert importlib.util.find_spec(new) is not None, f"MOVED_MODULES sends {old} to {new}, which does not exist"
        with pytest.raises(ImportError, match=f"^{old} moved to {new}; import it from there$"):
            importlib.import_module(old)
    assert moved.MOVED_MODULES["plugins.lora"] == "core.heads"


def test_a_module_that_still_exists_imports_as_usual(tmp_path, monkeypatch):
    (tmp_path / "still_here_plugtune_mod.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(moved.MOVED_MODULES, "still_here_plugtune_mod", "core.heads")
    monkeypatch.setitem(moved.MOVED_MODULES, "gone_plugtune_mod", "core.heads")
    moved.install()
    moved.install()  # once only
    assert sum(isinstance(f, moved.MovedModuleFinder) for f in sys.meta_path) == 1
    assert importlib.import_module("still_here_plugtune_mod").VALUE == 1
    with pytest.raises(ImportError, match="^gone_plugtune_mod moved to core.heads"):
        importlib.import_module("gone_plugtune_mod")


def fake_distribution(root: Path, module: str, body: str) -> None:
    """A module plus a .dist-info folder declaring it in entry-point group plugtune."""
    (root / f"{module}.py").write_text(textwrap.dedent(body))
    info = root / f"{module}-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(f"[plugtune]\n{module} = {module}\n")


def test_plugin_importing_a_moved_module_fails_in_one_line(tmp_path, monkeypatch, capsys):
    fake_distribution(tmp_path, "old_layout_plugtune_plugin", """
        from core import hookimpl
        from plugins.lora import LoraHead

        class MyHead(LoraHead):
            task_type = "SEQ_CLS"

        @hookimpl
        def register_task_heads(register):
            register("my_head", MyHead())
    """)
    monkeypatch.syspath_prepend(str(tmp_path))
    reset_plugin_manager()
    get_plugin_manager()
    error = "ImportError: plugins.lora moved to core.heads; import it from there"
    assert [(f.name, f.error) for f in load_failures()] == [("old_layout_plugtune_plugin", error)]
    warnings = [line for line in capsys.readouterr().err.splitlines() if "old_layout_plugtune_plugin" in line]
    assert len(warnings) == 1 and error in warnings[0], warnings
    assert warnings[0].startswith("warning: plugin 'old_layout_plugtune_plugin' from old_layout_plugtune_plugin failed to import")


def test_core_names_documented_for_plugins_keep_their_import_paths():
    from core import DataError, EvalResult, Example, Prediction, ReadResult, RenderedPrompt, hookimpl  # noqa: F401
    from core.datafiles import iter_records, read_text  # noqa: F401
    from core.kinds import RunContext, TrainResult  # noqa: F401
    from core.models import quantization_kwargs
    from core.registry import get_registry  # noqa: F401
    from core.testing import compose_config, inline_plugin, tiny_intent_data, tiny_model_dir  # noqa: F401
    from plugins.seq_cls import SeqClsHead  # noqa: F401  (CONTRIBUTING's task-head example subclasses it)

    from core.heads import quantization_kwargs as moved_here

    assert quantization_kwargs is moved_here
