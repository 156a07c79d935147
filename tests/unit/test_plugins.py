"""The plugin system: built-ins, duplicates, misspelt hooks, disabling, broken entry points."""


import pluggy
import pytest

from core import EvalResult, PlugtuneError, hookimpl
from core.pipeline import run
from core.plugins import get_plugin_manager, load_failures, reset_plugin_manager
from core.registry import get_registry
from core.testing import compose_config, fake_plugin_distribution, inline_plugin

BUILTIN = {"data_format": "text_label", "prompt_template": "text", "task_head": "seq_cls",
           "trainer": "hf", "evaluator": "macro_f1"}


def test_builtins_registered_with_their_plugin():
    registry = get_registry()
    for kind, name in BUILTIN.items():
        assert name in registry.names(kind), kind
    assert registry.names("evaluator")["macro_f1"] == "macro_f1"


class DistinctPredictions:
    """An evaluator counting how many different labels the model predicts."""

    @staticmethod
    def evaluate(predictions, ctx):
        return EvalResult(metrics={"distinct_predicted": float(len({p.prediction for p in predictions}))})


def test_unknown_name_fails_before_model_loads(tmp_path):
    cfg = compose_config(["task.evaluators=[macro_f1,no_such_metric]", "model.path=/does/not/exist"])
    with pytest.raises(PlugtuneError) as info:
        run(cfg, tmp_path)
    message = str(info.value)
    assert "no_such_metric" in message and "macro_f1 (macro_f1)" in message
    assert not (tmp_path / "adapter").exists()


def test_duplicate_name_names_both_plugins():
    class Clash:
        @hookimpl
        def register_evaluators(self, register):
            register("macro_f1", DistinctPredictions())

    with inline_plugin(Clash(), name="clashing-plugin"):
        with pytest.raises(PlugtuneError, match="macro_f1.*'macro_f1' and 'clashing-plugin'"):
            get_registry()


def test_misspelt_hook_is_rejected():
    class Typo:
        @hookimpl
        def register_evaluatorz(self, register):
            pass

    pm = get_plugin_manager()
    pm.register(Typo(), name="typo")
    try:
        with pytest.raises(pluggy.PluginValidationError, match="register_evaluatorz"):
            pm.check_pending()
    finally:
        pm.unregister(name="typo")


def test_misspelt_hook_in_entry_point_is_one_clear_error(tmp_path, monkeypatch):
    fake_plugin_distribution(tmp_path, "typo_plugtune_plugin", "from core import hookimpl\n\n"
                           "@hookimpl\ndef register_evaluatorz(register):\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    reset_plugin_manager()
    with pytest.raises(PlugtuneError, match="plugin 'typo_plugtune_plugin'.*register_evaluatorz"):
        get_plugin_manager()


def test_disabled_plugin_is_not_loaded(monkeypatch):
    monkeypatch.setenv("PLUGTUNE_DISABLE_PLUGINS", "macro_f1, other")
    reset_plugin_manager()
    assert not get_plugin_manager().has_plugin("macro_f1")
    with pytest.raises(PlugtuneError, match="unknown evaluator 'macro_f1'; available: ") as info:
        get_registry().get("evaluator", "macro_f1")
    assert "(macro_f1)" not in str(info.value)


def test_broken_entry_point_is_one_line_and_skipped(tmp_path, monkeypatch, capsys):
    fake_plugin_distribution(tmp_path, "broken_plugtune_plugin", "import not_a_module_anywhere\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    reset_plugin_manager()
    registry = get_registry()
    assert "macro_f1" in registry.names("evaluator")
    err = capsys.readouterr().err
    assert "plugin 'broken_plugtune_plugin' from broken_plugtune_plugin failed to import" in err
    assert "PLUGTUNE_DISABLE_PLUGINS=broken_plugtune_plugin" in err
    assert [f.name for f in load_failures()] == ["broken_plugtune_plugin"]
    # A run that needs a name the broken plugin would have provided says which plugin failed.
    with pytest.raises(PlugtuneError, match=r"unknown evaluator 'its_metric'.*'broken_plugtune_plugin' from broken_plugtune_plugin \(ModuleNotFoundError"):
        registry.get("evaluator", "its_metric")
