"""One registry for every name a config can mention, built from the registration hooks."""

from __future__ import annotations

from typing import Any

from core.errors import PlugtuneError

# kind -> (registration hook, config key that names it)
KINDS = {
    "data_format": ("register_data_formats", "data.format"),
    "prompt_template": ("register_prompt_templates", "task.prompt_template"),
    "task_head": ("register_task_heads", "task.head"),
    "trainer": ("register_trainers", "task.trainer"),
    "evaluator": ("register_evaluators", "task.evaluators"),
}


class Registry:
    """Maps ``(kind, name)`` to the object a plugin registered, remembering which plugin did."""

    def __init__(self) -> None:
        self._entries: dict[str, dict[str, tuple[Any, str]]] = {kind: {} for kind in KINDS}

    def add(self, kind: str, name: str, obj: Any, plugin: str) -> None:
        """Record ``name``; a second plugin registering the same name is an error naming both."""
        entries = self._entries[kind]
        if name in entries:
            other = entries[name][1]
            raise PlugtuneError(
                f"{kind} {name!r} is registered by two plugins: {other!r} and {plugin!r}; "
                f"disable one with PLUGTUNE_DISABLE_PLUGINS"
            )
        entries[name] = (obj, plugin)

    def get(self, kind: str, name: str) -> Any:
        """Return the registered object or fail listing what is available and from where."""
        entries = self._entries[kind]
        if name not in entries:
            key = KINDS[kind][1]
            available = ", ".join(f"{n} ({p})" for n, (_, p) in sorted(entries.items())) or "none"
            raise PlugtuneError(f"{key}: unknown {kind} {name!r}; available: {available}{_failed_plugins_hint()}")
        return entries[name][0]

    def names(self, kind: str) -> dict[str, str]:
        """Registered names of one kind, each with the plugin that registered it."""
        return {name: plugin for name, (_, plugin) in self._entries[kind].items()}


def provenance(cfg, registry: Registry | None = None) -> list[dict[str, Any]]:
    """Who provided each name a run uses, for results.json's ``plugins`` and report.md.

    One entry per data format, prompt template, task head, trainer and evaluator named by
    ``cfg``: ``{"kind", "name", "plugin", "distribution", "version"}`` (distribution ``plugtune``
    for the built-ins; ``None`` for a plugin registered inline rather than installed).
    """
    from core.plugins import plugin_distribution

    registry = registry or get_registry()
    used = [
        ("data_format", cfg.data.format),
        ("prompt_template", cfg.task.prompt_template),
        ("task_head", cfg.task.head),
        ("trainer", cfg.task.trainer),
        *(("evaluator", name) for name in cfg.task.evaluators),
    ]
    entries = []
    for kind, name in used:
        registry.get(kind, name)  # an unknown name fails here as it does everywhere
        plugin = registry.names(kind)[name]
        distribution, version = plugin_distribution(plugin)
        entries.append({"kind": kind, "name": str(name), "plugin": plugin, "distribution": distribution, "version": version})
    return entries


def _failed_plugins_hint() -> str:
    """Plugins that failed to import (or to register) may be the ones that provide a missing name: say so."""
    from core.plugins import load_failures

    failed = [f"{f.name!r} from {f.distribution} ({f.error})" for f in load_failures()]
    return f"; these plugins failed to load and may provide it: {', '.join(failed)}" if failed else ""


class _Clash(Exception):
    """A name registered twice (``Registry.add``'s error), which no plugin failure hides."""


def build_registry(pm) -> Registry:
    """Call every registration hook of every plugin, attributing each name to its plugin.

    A plugin whose hook raises (a lazy import, say) is dropped like one that failed to import
    (``core.plugins.drop_failed_plugin``: one warning line) and the registry is built again
    without it, so nothing it registered before it failed stays.
    """
    from core.plugins import drop_failed_plugin

    while True:
        registry, failed = _build_once(pm)
        if failed is None:
            return registry
        drop_failed_plugin(pm, *failed)


def _build_once(pm) -> tuple[Registry, tuple[str, str, Exception] | None]:
    """The registry, or the first (plugin, hook, exception) of a registration hook that raised."""
    registry = Registry()
    for kind, (hook_name, _) in KINDS.items():
        hook = getattr(pm.hook, hook_name)
        # Call implementations one by one, in registration order (built-ins first), so each
        # registered name is attributed to the plugin that registered it.
        for impl in hook.get_hookimpls():
            plugin = impl.plugin_name

            def register(name: str, obj: Any, _kind=kind, _plugin=plugin) -> None:
                try:
                    registry.add(_kind, name, obj, _plugin)
                except PlugtuneError as exc:
                    raise _Clash(exc) from None

            try:
                impl.function(register=register)
            except _Clash as clash:
                raise clash.args[0] from None
            except Exception as exc:  # noqa: BLE001 - one broken plugin must not take the tool down
                return registry, (plugin, hook_name, exc)
    return registry, None


# (plugin manager, its generation, the registry built from it)
_built: tuple[Any, int, Registry] | None = None


def get_registry() -> Registry:
    """The registry of the current plugin manager, built once per process.

    It is rebuilt only when the plugins change: one is registered or unregistered
    (``core.testing.inline_plugin``) or the manager is rebuilt (``core.plugins.reset_plugin_manager``,
    e.g. after ``PLUGTUNE_DISABLE_PLUGINS`` changed).
    """
    global _built
    from core.plugins import get_plugin_manager

    pm = get_plugin_manager()
    generation = getattr(pm, "generation", None)
    if _built is None or _built[0] is not pm or generation is None or _built[1] != generation:
        registry = build_registry(pm)  # may drop a failing plugin, which counts as a change
        _built = (pm, getattr(pm, "generation", None), registry)
    return _built[2]
