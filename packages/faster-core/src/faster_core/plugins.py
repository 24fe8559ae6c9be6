"""The plugin host: discovery, enablement from settings, ordering, registration.

A fresh `pluggy.PluginManager` is built per host; nothing here is global.
"""

from __future__ import annotations

import graphlib
import heapq
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from importlib.metadata import EntryPoint, entry_points
from typing import Any, TypeVar

import pluggy
from starlette.routing import BaseRoute

from faster_core import hookspecs
from faster_core.exceptions import (
    ConfigurationError,
    PluginCycleError,
    PluginError,
    PluginLoadError,
    PluginNotFoundError,
    PluginRequirementError,
)
from faster_core.flags import FeatureFlags
from faster_core.settings import FasterSettings, PluginSettings

__all__ = ["ENTRY_POINT_GROUP", "PluginHost", "PluginInfo", "PluginRecord", "PluginSource"]

ENTRY_POINT_GROUP = "faster"
logger = logging.getLogger(__name__)
S = TypeVar("S", bound=PluginSettings)


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """What a plugin says about itself through `faster_plugin_info`."""

    name: str
    version: str | None = None
    requires: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    settings: type[PluginSettings] | None = None
    essential: bool = False
    """Only for the core's built-ins: disabling an essential plugin is an error."""


class PluginSource(StrEnum):
    BUILTIN = "builtin"
    ARGUMENT = "argument"
    ENTRY_POINT = "entry point"


@dataclass(slots=True)
class PluginRecord:
    """One plugin the host knows of, enabled or not."""

    name: str
    source: PluginSource
    version: str | None
    enabled: bool
    plugin: object | None = None
    info: PluginInfo | None = None
    order: int | None = None
    entry_point: str | None = None
    hooks: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Candidate:
    name: str
    source: PluginSource
    version: str | None = None
    plugin: object | None = None
    entry_point: EntryPoint | None = None


class PluginHost:
    """The plugins of one app: settings, the ordered enabled plugins and their plugin manager.

    Build one with :meth:`build`; `create_app` and the CLI do.
    """

    def __init__(
        self,
        settings: FasterSettings,
        pm: pluggy.PluginManager,
        records: list[PluginRecord],
        plugin_settings: dict[str, PluginSettings],
    ) -> None:
        self.settings = settings
        self.pm = pm
        self.records = records
        self.plugin_settings = plugin_settings
        self.flags = FeatureFlags(settings.flags, settings.env)
        self.edge_routes: list[BaseRoute] = []
        """Routes a plugin serves from its own middleware, ahead of the router (the health
        endpoints): listed with the app's routes and documented in its OpenAPI schema."""

    @classmethod
    def build(
        cls,
        settings: FasterSettings,
        *,
        builtins: Sequence[object] = (),
        plugins: Sequence[object] = (),
        load_entrypoints: bool = True,
    ) -> PluginHost:
        """Discover, enable, order and register plugins; raise a `PluginError` naming the cause."""
        candidates = _builtin_candidates(builtins) + _argument_candidates(plugins)
        if load_entrypoints:
            candidates += _entry_point_candidates()
        _reject_duplicates(candidates)
        enabled_names = _enabled_names(candidates, settings)
        infos = {c.name: _load(c) for c in candidates if c.name in enabled_names}
        order = _resolve_order([c.name for c in candidates if c.name in infos], infos)

        pm = pluggy.PluginManager(hookspecs.PROJECT)
        pm.add_hookspecs(hookspecs)
        by_name = {c.name: c for c in candidates}
        # pluggy calls the last registered implementation first: register in reverse order so
        # that hooks run in plugin order, requirements first.
        for name in reversed(order):
            pm.register(by_name[name].plugin, name=name)
        pm.hook.faster_add_hookspecs.call_historic(kwargs={"pm": pm})
        pm.check_pending()

        records = [_record(c, infos, order, pm) for c in candidates]
        plugin_settings = _read_plugin_settings(order, infos, settings)
        return cls(settings, pm, records, plugin_settings)

    @property
    def hook(self) -> Any:
        """The plugin manager's hook relay: `host.hook.faster_<name>(...)`."""
        return self.pm.hook

    @property
    def enabled(self) -> list[PluginRecord]:
        """Enabled plugins in their resolved order."""
        return sorted((r for r in self.records if r.enabled), key=lambda r: r.order or 0)

    def is_enabled(self, name: str) -> bool:
        return any(r.enabled and r.name == name for r in self.records)

    def settings_for(self, name: str, model: type[S]) -> S:
        """The settings of plugin `name`, checked to be an instance of `model`."""
        try:
            value = self.plugin_settings[name]
        except KeyError:
            raise ConfigurationError(f"plugin {name!r} is not enabled or has no settings") from None
        if not isinstance(value, model):
            raise ConfigurationError(f"settings of plugin {name!r} are not a {model.__name__}")
        return value

    def call_in_order(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call a declarative hook, returning `(plugin name, result)` pairs in plugin order.

        `None` results are skipped. An implementation that raises stops the build with a
        `PluginError` naming the plugin and the hook. Wrappers make no sense for hooks whose
        results the core composes, so a wrapper implementation is refused.
        """
        caller = getattr(self.pm.hook, hook_name)
        results = []
        for impl in reversed(caller.get_hookimpls()):
            if impl.hookwrapper or impl.wrapper:
                raise PluginError(
                    f"plugin {impl.plugin_name!r} wraps {hook_name}, a declarative hook"
                )
            try:
                result = impl.function(*(kwargs[arg] for arg in impl.argnames))
            except Exception as exc:  # third-party plugin code: re-raised naming the plugin
                raise PluginError(
                    f"plugin {impl.plugin_name!r} failed in {hook_name}: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            if result is not None:
                results.append((impl.plugin_name, result))
        return results


def _builtin_candidates(builtins: Iterable[object]) -> list[_Candidate]:
    return [_Candidate(_describe(p).name, PluginSource.BUILTIN, plugin=p) for p in builtins]


def _argument_candidates(plugins: Iterable[object]) -> list[_Candidate]:
    return [_Candidate(_describe(p).name, PluginSource.ARGUMENT, plugin=p) for p in plugins]


def _entry_point_candidates() -> list[_Candidate]:
    found = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)
    return [
        _Candidate(
            ep.name,
            PluginSource.ENTRY_POINT,
            version=ep.dist.version if ep.dist else None,
            entry_point=ep,
        )
        for ep in found
    ]


def _describe(plugin: object) -> PluginInfo:
    describe = getattr(plugin, "faster_plugin_info", None)
    if describe is None:
        raise PluginLoadError(f"plugin {plugin!r} does not implement faster_plugin_info")
    info = describe()
    if not isinstance(info, PluginInfo):
        raise PluginLoadError(f"faster_plugin_info of {plugin!r} did not return a PluginInfo")
    return info


def _reject_duplicates(candidates: list[_Candidate]) -> None:
    seen: dict[str, PluginSource] = {}
    for candidate in candidates:
        if candidate.name in seen:
            raise PluginLoadError(
                f"two plugins are named {candidate.name!r} "
                f"(from {seen[candidate.name]} and {candidate.source})"
            )
        seen[candidate.name] = candidate.source


def _enabled_names(candidates: list[_Candidate], settings: FasterSettings) -> set[str]:
    known = {c.name for c in candidates}
    for var, names in (
        ("FASTER_PLUGINS", settings.plugins or []),
        ("FASTER_DISABLED_PLUGINS", settings.disabled_plugins),
    ):
        unknown = sorted(set(names) - known)
        if unknown:
            raise PluginNotFoundError(
                f"{var} names {', '.join(map(repr, unknown))}, which is not installed "
                f"(known plugins: {', '.join(sorted(known))})"
            )
    disabled = set(settings.disabled_plugins)
    enabled = set()
    for c in candidates:
        listed = settings.plugins is None or c.name in settings.plugins
        if c.source is PluginSource.ENTRY_POINT and not listed:
            continue
        if c.name in disabled:
            _refuse_disabling_essential(c)
            continue
        enabled.add(c.name)
    return enabled


def _refuse_disabling_essential(candidate: _Candidate) -> None:
    if candidate.plugin is not None and _describe(candidate.plugin).essential:
        raise ConfigurationError(
            f"FASTER_DISABLED_PLUGINS names {candidate.name!r}, an essential built-in plugin "
            "that cannot be disabled"
        )


def _load(candidate: _Candidate) -> PluginInfo:
    if candidate.entry_point is not None:
        ep = candidate.entry_point
        try:
            candidate.plugin = ep.load()
        except Exception as exc:  # an import can raise anything; re-raised with the plugin's name
            raise PluginLoadError(
                f"plugin {ep.name!r} (entry point {ep.value!r}) failed to import: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if isinstance(candidate.plugin, type):
            # A plugin class gets a fresh instance per app: per-app state without globals.
            candidate.plugin = candidate.plugin()
    info = _describe(candidate.plugin)
    if info.name != candidate.name:
        raise PluginLoadError(
            f"entry point {candidate.name!r} loads a plugin that calls itself {info.name!r}"
        )
    candidate.version = candidate.version or info.version  # the installed distribution wins
    return info


def _resolve_order(names: list[str], infos: dict[str, PluginInfo]) -> list[str]:
    """Topological order over `requires` and `after`; ties keep discovery order."""
    for name in names:
        missing = [req for req in infos[name].requires if req not in infos]
        if missing:
            raise PluginRequirementError(
                f"plugin {name!r} requires {', '.join(map(repr, missing))}, "
                "which is not installed or not enabled"
            )
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for name in names:
        info = infos[name]
        sorter.add(name, *(dep for dep in (*info.requires, *info.after) if dep in infos))
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        raise PluginCycleError(f"plugins depend on each other in a cycle: {cycle}") from None
    position = {name: index for index, name in enumerate(names)}
    ready: list[tuple[int, str]] = []
    order: list[str] = []
    while sorter.is_active():
        for name in sorter.get_ready():
            heapq.heappush(ready, (position[name], name))
        _, name = heapq.heappop(ready)
        order.append(name)
        sorter.done(name)
    return order


def _record(
    candidate: _Candidate, infos: dict[str, PluginInfo], order: list[str], pm: pluggy.PluginManager
) -> PluginRecord:
    enabled = candidate.name in infos
    plugin = candidate.plugin if enabled else None
    hooks = sorted(c.name for c in pm.get_hookcallers(plugin) or []) if plugin else []
    return PluginRecord(
        name=candidate.name,
        source=candidate.source,
        version=candidate.version,
        enabled=enabled,
        plugin=plugin,
        info=infos.get(candidate.name),
        order=order.index(candidate.name) if enabled else None,
        entry_point=candidate.entry_point.value if candidate.entry_point else None,
        hooks=hooks,
    )


def _read_plugin_settings(
    order: list[str], infos: dict[str, PluginInfo], settings: FasterSettings
) -> dict[str, PluginSettings]:
    result: dict[str, PluginSettings] = {}
    for name in order:
        model = infos[name].settings
        if model is None:
            continue
        override = settings.plugin_settings.get(name, {})
        if isinstance(override, model):
            result[name] = override
        else:
            result[name] = model(_env_prefix=f"FASTER_{name.upper()}_", **dict(override))
    return result
