"""The plugin manager: built-in plugins first, then entry points of group ``plugtune``.

``python -m core.plugins`` prints every loaded plugin with its version and what it registers.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import sys
from dataclasses import dataclass

import pluggy

from core import PROJECT_NAME, hookspecs, moved
from core.errors import PlugtuneError

# Built-in plugins, registered in this order before any third-party package.
BUILTIN_PLUGINS = {
    "text_label": "plugins.text_label",
    "alpaca": "plugins.alpaca",
    "messages": "plugins.messages",
    "toolcall_data": "plugins.toolcall_data",
    "text_template": "plugins.text_template",
    "chat_template": "plugins.chat_template",
    "instruction_templates": "plugins.instruction_templates",
    "seq_cls": "plugins.seq_cls",
    "causal_lm": "plugins.causal_lm",
    "hf_trainer": "plugins.hf_trainer",
    "sft_trainer": "plugins.sft_trainer",
    "macro_f1": "plugins.macro_f1",
    "generation_metrics": "plugins.generation_metrics",
    "tool_call": "plugins.tool_call",
}

DISABLE_ENV = "PLUGTUNE_DISABLE_PLUGINS"


@dataclass
class PluginInfo:
    """Where a registered plugin came from, for listings and error messages."""

    name: str
    version: str
    source: str  # "builtin" or the distribution name


@dataclass
class PluginLoadFailure:
    """A plugin that could not be imported, or whose registration hook raised (``stage`` is
    then the hook's name and ``error`` says ``<hook> raised <exception>``); the run goes on without it."""

    name: str
    distribution: str
    error: str
    stage: str = "import"


class _PluginManager(pluggy.PluginManager):
    """pluggy's manager, counting registrations and unregistrations in ``generation`` so the
    registry built from it (``core.registry.get_registry``) is rebuilt only when plugins change."""

    generation = 0

    def register(self, plugin, name=None):
        try:
            return super().register(plugin, name)
        finally:
            self.generation += 1

    def unregister(self, plugin=None, name=None):
        try:
            return super().unregister(plugin, name)
        finally:
            self.generation += 1


_manager: pluggy.PluginManager | None = None
_infos: dict[str, PluginInfo] = {}
_failures: list[PluginLoadFailure] = []


def disabled_plugins() -> set[str]:
    """Plugin names listed in ``PLUGTUNE_DISABLE_PLUGINS`` (comma separated)."""
    raw = os.environ.get(DISABLE_ENV, "")
    return {name.strip() for name in raw.split(",") if name.strip()}


def _plugtune_version() -> str:
    try:
        return importlib.metadata.version("plugtune")
    except importlib.metadata.PackageNotFoundError:
        return "dev"


def _register(pm: pluggy.PluginManager, plugin, info: PluginInfo) -> None:
    if pm.has_plugin(info.name):
        first = _infos[info.name]
        raise PlugtuneError(
            f"two plugins are named {info.name!r}: one from {first.source}, one from {info.source}; "
            f"uninstall one or disable it with {DISABLE_ENV}={info.name}"
        )
    pm.register(plugin, name=info.name)
    _infos[info.name] = info


def _load_entry_points(pm: pluggy.PluginManager, blocked: set[str]) -> None:
    for ep in importlib.metadata.entry_points(group=PROJECT_NAME):
        if ep.name in blocked:
            continue
        dist = ep.dist.name if ep.dist else "unknown distribution"
        try:
            plugin = ep.load()
        except Exception as exc:  # a broken third-party package must not take the tool down
            _record_failure(PluginLoadFailure(ep.name, dist, f"{type(exc).__name__}: {exc}"))
            continue
        version = ep.dist.version if ep.dist else "?"
        _register(pm, plugin, PluginInfo(ep.name, version, dist))


def _record_failure(failure: PluginLoadFailure) -> None:
    """Remember a failed plugin and say so in one warning line."""
    _failures.append(failure)
    what = "to import" if failure.stage == "import" else f"in {failure.stage}"
    detail = failure.error.removeprefix(f"{failure.stage} raised ")
    print(
        f"warning: plugin {failure.name!r} from {failure.distribution} failed {what} ({detail}); "
        f"continuing without it (silence with {DISABLE_ENV}={failure.name})",
        file=sys.stderr,
    )


def drop_failed_plugin(pm: pluggy.PluginManager, name: str, hook: str, exc: BaseException) -> None:
    """A plugin whose ``hook`` raised ``exc`` (e.g. a lazy import inside ``register_*``) is treated
    like one that failed to import: one warning line, listed in ``load_failures``, unregistered."""
    source = plugin_info(name).source
    distribution = {"builtin": f"{PROJECT_NAME} (built-in)"}.get(source, source)
    _record_failure(PluginLoadFailure(name, distribution, f"{hook} raised {type(exc).__name__}: {exc}", stage=hook))
    pm.unregister(name=name)


def get_plugin_manager() -> pluggy.PluginManager:
    """Return the process-wide plugin manager, building it on first use."""
    global _manager
    if _manager is None:
        _infos.clear()
        _failures.clear()
        moved.install()  # a plugin importing a moved module fails in one line naming the new one
        pm = _PluginManager(PROJECT_NAME)
        pm.add_hookspecs(hookspecs)
        blocked = disabled_plugins()
        for name in blocked:
            pm.set_blocked(name)
        version = _plugtune_version()
        for name, module in BUILTIN_PLUGINS.items():
            if name not in blocked:
                _register(pm, importlib.import_module(module), PluginInfo(name, version, "builtin"))
        _load_entry_points(pm, blocked)
        try:
            pm.check_pending()  # a hook name that is not in hookspecs (a typo) fails here
        except pluggy.PluginValidationError as exc:
            name = pm.get_name(exc.plugin) or repr(exc.plugin)
            raise PlugtuneError(f"plugin {name!r}: {exc}; disable it with {DISABLE_ENV}={name}") from exc
        _manager = pm
    return _manager


def reset_plugin_manager() -> None:
    """Forget the plugin manager so the next call rebuilds it (tests, env changes)."""
    global _manager
    _manager = None
    _infos.clear()
    _failures.clear()


def plugin_info(name: str) -> PluginInfo:
    """Return version and origin of a registered plugin (inline plugins count as 'inline')."""
    return _infos.get(name, PluginInfo(name, "-", "inline"))


def plugin_distribution(name: str) -> tuple[str | None, str | None]:
    """The distribution that provides plugin ``name`` and its version, for results.json.

    Built-ins come from ``plugtune`` (its installed version), entry points from the package that
    declares them; an inline plugin (``core.testing.inline_plugin``) has neither: ``(None, None)``.
    """
    info = _infos.get(name)
    if info is None or info.source == "unknown distribution":
        return None, None
    return (PROJECT_NAME if info.source == "builtin" else info.source), info.version


def load_failures() -> list[PluginLoadFailure]:
    """Plugins that failed to import, or whose registration hook raised, in this process."""
    get_plugin_manager()
    return list(_failures)


def config_dirs() -> list[str]:
    """Config directories contributed by plugins through ``register_config_dirs``."""
    return [d for dirs in _config_dirs_by_plugin().values() for d in dirs]


def _config_dirs_by_plugin() -> dict[str, list[str]]:
    """Each plugin's ``register_config_dirs`` result, in pluggy's call order (last registered
    first); a plugin whose hook raises is dropped (``drop_failed_plugin``)."""
    pm = get_plugin_manager()
    dirs: dict[str, list[str]] = {}
    for impl in reversed(pm.hook.register_config_dirs.get_hookimpls()):
        try:
            result = impl.function()
        except Exception as exc:  # noqa: BLE001 - one broken plugin must not take the tool down
            drop_failed_plugin(pm, impl.plugin_name, "register_config_dirs", exc)
            continue
        dirs[impl.plugin_name] = [str(d) for d in result or []]
    return dirs


def main() -> None:
    """Print every plugin, its version and origin, and what it registers."""
    from core.registry import KINDS, get_registry

    dirs = _config_dirs_by_plugin()  # a plugin whose hook raises is dropped here or by the registry
    registry = get_registry()
    pm = get_plugin_manager()
    for name, plugin in pm.list_name_plugin():
        info = plugin_info(name)
        print(f"{name} {info.version} ({info.source})")
        for kind in KINDS:
            names = [n for n, owner in registry.names(kind).items() if owner == name]
            if names:
                print(f"    {kind}: {', '.join(sorted(names))}")
        if dirs.get(name):
            print(f"    config dirs: {', '.join(dirs[name])}")
    for failure in load_failures():
        what = "to import " if failure.stage == "import" else ""
        print(f"{failure.name} (failed {what}from {failure.distribution}: {failure.error})")
    blocked = disabled_plugins()
    if blocked:
        print(f"disabled by {DISABLE_ENV}: {', '.join(sorted(blocked))}")


if __name__ == "__main__":
    # Run the imported module's main, not this __main__ copy, so one plugin manager is built.
    from core.plugins import main as plugins_main

    plugins_main()
