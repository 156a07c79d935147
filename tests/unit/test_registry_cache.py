"""The registry is built once per process and rebuilt only when the plugins change."""

from __future__ import annotations

from core import hookimpl, lookup
from core.plugins import get_plugin_manager, reset_plugin_manager
from core.registry import get_registry
from core.testing import inline_plugin


class CountingPlugin:
    """Registers one evaluator and counts how often its registration hook runs."""

    def __init__(self, name: str = "counted"):
        self.name = name
        self.calls = 0

    @hookimpl
    def register_evaluators(self, register):
        self.calls += 1
        register(self.name, object())


def test_second_get_registry_does_not_call_the_registration_hooks_again():
    counting = CountingPlugin()
    with inline_plugin(counting, name="counting"):
        first = get_registry()
        assert counting.calls == 1
        assert get_registry() is first
        assert lookup("evaluator", "counted") is first.get("evaluator", "counted")
        assert counting.calls == 1


def test_registering_or_unregistering_a_plugin_rebuilds_it():
    counting = CountingPlugin()
    with inline_plugin(counting, name="counting"):
        before = get_registry()
        assert "counted" in before.names("evaluator")
        with inline_plugin(CountingPlugin("also_counted"), name="second"):
            during = get_registry()
            assert during is not before
            assert during.names("evaluator")["also_counted"] == "second"
        after = get_registry()
        assert "also_counted" not in after.names("evaluator")
        assert "counted" in after.names("evaluator")
    assert "counted" not in get_registry().names("evaluator")
    assert counting.calls == 3  # before, during, after


def test_a_rebuilt_plugin_manager_gets_a_fresh_registry(monkeypatch):
    first = get_registry()
    assert "macro_f1" in first.names("evaluator")
    monkeypatch.setenv("PLUGTUNE_DISABLE_PLUGINS", "macro_f1")
    reset_plugin_manager()
    assert "macro_f1" not in get_registry().names("evaluator")
    monkeypatch.delenv("PLUGTUNE_DISABLE_PLUGINS")
    reset_plugin_manager()
    assert "macro_f1" in get_registry().names("evaluator")


def test_registering_directly_on_the_manager_counts_too():
    registry = get_registry()
    pm = get_plugin_manager()
    pm.register(CountingPlugin("direct"), name="direct")
    try:
        assert get_registry() is not registry
        assert "direct" in get_registry().names("evaluator")
    finally:
        pm.unregister(name="direct")
    assert "direct" not in get_registry().names("evaluator")
