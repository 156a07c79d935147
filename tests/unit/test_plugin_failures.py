"""A plugin whose registration hook raises is contained like one that fails to import.

One warning line naming the plugin, its distribution and the hook; the run goes on without the
plugin (nothing it registered stays); ``python -m core.plugins`` lists it as failed; a name it
would have provided is reported missing with the failure named.
"""


import pytest

from core import PlugtuneError, hookimpl
from core.plugins import config_dirs, get_plugin_manager, load_failures, main, reset_plugin_manager
from core.registry import get_registry
from core.testing import fake_plugin_distribution, inline_plugin

LAZY_IMPORT_IN_HOOK = """
    from core import hookimpl

    @hookimpl
    def register_data_formats(register):
        register("half_format", object())  # registered before the failing hook: must not stay

    @hookimpl
    def register_evaluators(register):
        import not_installed_scoring_library  # a lazy import that fails
"""


@pytest.fixture
def lazy_plugin(tmp_path, monkeypatch):
    fake_plugin_distribution(tmp_path, "lazy_plugtune_plugin", LAZY_IMPORT_IN_HOOK, "1.2.3")
    monkeypatch.syspath_prepend(str(tmp_path))
    reset_plugin_manager()
    return "lazy_plugtune_plugin"


def test_raising_registration_hook_is_one_warning_and_skipped(lazy_plugin, capsys):
    registry = get_registry()
    assert "macro_f1" in registry.names("evaluator")
    assert "half_format" not in registry.names("data_format")
    assert not get_plugin_manager().has_plugin(lazy_plugin)
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"warning: plugin {lazy_plugin!r} from {lazy_plugin} failed in register_evaluators "
                                  "(ModuleNotFoundError: No module named 'not_installed_scoring_library')")
    assert f"PLUGTUNE_DISABLE_PLUGINS={lazy_plugin}" in warnings[0]
    assert [(f.name, f.distribution) for f in load_failures()] == [(lazy_plugin, lazy_plugin)]
    get_registry()  # built once: no second warning
    assert "warning:" not in capsys.readouterr().err


def test_missing_name_mentions_the_failed_plugin(lazy_plugin):
    with pytest.raises(PlugtuneError, match=rf"unknown evaluator 'its_metric'.*{lazy_plugin!r} from {lazy_plugin} "
                                            r"\(register_evaluators raised ModuleNotFoundError"):
        get_registry().get("evaluator", "its_metric")


def test_plugin_listing_shows_the_failed_plugin(lazy_plugin, capsys):
    main()
    out = capsys.readouterr().out
    assert "macro_f1" in out
    assert f"{lazy_plugin} (failed from {lazy_plugin}: register_evaluators raised ModuleNotFoundError" in out


def test_raising_config_dirs_hook_is_contained(tmp_path, monkeypatch, capsys):
    fake_plugin_distribution(tmp_path, "dirs_plugtune_plugin", """
        from core import hookimpl

        @hookimpl
        def register_config_dirs():
            raise RuntimeError("config folder missing from the wheel")
    """)
    monkeypatch.syspath_prepend(str(tmp_path))
    reset_plugin_manager()
    config_dirs()  # the other plugins' folders still come back
    assert "failed in register_config_dirs (RuntimeError: config folder missing from the wheel)" in capsys.readouterr().err
    assert [f.name for f in load_failures()] == ["dirs_plugtune_plugin"]
    assert "macro_f1" in get_registry().names("evaluator")
    main()
    assert "dirs_plugtune_plugin (failed from dirs_plugtune_plugin: register_config_dirs raised RuntimeError" in capsys.readouterr().out


def test_inline_plugin_whose_hook_raises_is_skipped(capsys):
    class Broken:
        @hookimpl
        def register_evaluators(self, register):
            raise KeyError("boom")

    with inline_plugin(Broken(), name="broken-inline"):
        assert "macro_f1" in get_registry().names("evaluator")
    assert "warning: plugin 'broken-inline' from inline failed in register_evaluators (KeyError: 'boom')" in capsys.readouterr().err
