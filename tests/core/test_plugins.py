"""Discovery, enablement, ordering and registration of plugins (faster_core/plugins.py)."""

from __future__ import annotations

from typing import Any

import pytest

from faster_core import (
    ConfigurationError,
    FasterSettings,
    PluginCycleError,
    PluginError,
    PluginHost,
    PluginInfo,
    PluginLoadError,
    PluginNotFoundError,
    PluginRequirementError,
    create_app,
    hookimpl,
)
from faster_core.plugin import builtin_plugins
from faster_core.plugins import PluginSource
from tests.core.conftest import InstallPlugin
from tests.core.plugin_kit import plugin_source


class Plugin:
    """A plugin object with a name and declared dependencies."""

    def __init__(self, name: str, requires: tuple[str, ...] = (), after: tuple[str, ...] = ()):
        self.info = PluginInfo(name, "0.1", requires=requires, after=after)

    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return self.info


def settings(**values: Any) -> FasterSettings:
    return FasterSettings(_env_file=None, **values)


def build(*plugins: object, load_entrypoints: bool = False, **values: Any) -> PluginHost:
    return PluginHost.build(
        settings(**values),
        builtins=builtin_plugins(),
        plugins=plugins,
        load_entrypoints=load_entrypoints,
    )


def order(host: PluginHost) -> list[str]:
    return [r.name for r in host.enabled]


def test_plugin_is_discovered_through_an_installed_entry_point(
    install_plugin: InstallPlugin,
) -> None:
    install_plugin("audit", plugin_source("audit"))

    host = build(load_entrypoints=True)

    record = next(r for r in host.records if r.name == "audit")
    assert record.enabled
    assert record.source is PluginSource.ENTRY_POINT
    assert record.entry_point == "sample_faster_audit"
    assert record.version == "1.0.0"
    assert "faster_plugin_info" in record.hooks
    assert host.pm.get_plugin("audit") is not None


def test_installed_plugins_are_enabled_by_default_and_selected_by_faster_plugins(
    install_plugin: InstallPlugin, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_plugin("alpha", plugin_source("alpha"))
    install_plugin("beta", plugin_source("beta"))
    assert {"alpha", "beta"} <= set(order(build(load_entrypoints=True)))

    monkeypatch.setenv("FASTER_PLUGINS", "alpha")
    host = PluginHost.build(FasterSettings(_env_file=None), builtins=builtin_plugins())

    assert "alpha" in order(host)
    assert "beta" not in order(host)
    assert next(r for r in host.records if r.name == "beta").enabled is False


def test_faster_disabled_plugins_turns_off_an_installed_plugin(
    install_plugin: InstallPlugin, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_plugin("alpha", plugin_source("alpha"))
    monkeypatch.setenv("FASTER_DISABLED_PLUGINS", '["alpha", "introspection"]')

    host = PluginHost.build(FasterSettings(_env_file=None), builtins=builtin_plugins())

    assert "alpha" not in order(host)
    assert "introspection" not in order(host)
    assert host.pm.get_plugin("alpha") is None


def test_a_disabled_plugin_is_not_even_imported(install_plugin: InstallPlugin) -> None:
    install_plugin("broken", "raise RuntimeError('must not be imported')\n")

    host = build(load_entrypoints=True, disabled_plugins=["broken"])

    assert not host.is_enabled("broken")


def test_disabling_an_essential_builtin_is_an_error_naming_it() -> None:
    with pytest.raises(ConfigurationError, match="'errors'.*essential"):
        build(disabled_plugins=["errors"])


def test_naming_an_unknown_plugin_is_an_error_naming_it() -> None:
    with pytest.raises(PluginNotFoundError, match="FASTER_PLUGINS names 'nope'"):
        build(plugins=["nope"])
    with pytest.raises(PluginNotFoundError, match="FASTER_DISABLED_PLUGINS names 'nope'"):
        build(disabled_plugins=["nope"])


def test_plugin_that_fails_to_import_stops_startup_with_its_name_and_cause(
    install_plugin: InstallPlugin,
) -> None:
    install_plugin("broken", "import module_that_does_not_exist_anywhere\n")

    with pytest.raises(PluginLoadError) as caught:
        create_app(settings(), load_entrypoints=True)

    message = str(caught.value)
    assert "'broken'" in message
    assert "ModuleNotFoundError" in message
    assert "module_that_does_not_exist_anywhere" in message


def test_entry_point_name_must_match_the_plugin_name(install_plugin: InstallPlugin) -> None:
    install_plugin("alias", plugin_source("real_name"))

    with pytest.raises(
        PluginLoadError, match="'alias' loads a plugin that calls itself 'real_name'"
    ):
        build(load_entrypoints=True)


def test_misspelled_hook_is_rejected() -> None:
    class Misspelled(Plugin):
        @hookimpl
        def faster_router(self) -> list[Any]:  # missing the "s"
            return []

    with pytest.raises(Exception, match="faster_router"):
        build(Misspelled("typo"))


def test_two_plugins_with_one_name_are_refused() -> None:
    with pytest.raises(PluginLoadError, match="two plugins are named 'twin'"):
        build(Plugin("twin"), Plugin("twin"))


def test_requires_orders_requirements_first_whatever_the_discovery_order() -> None:
    host = build(Plugin("auth", requires=("db",)), Plugin("db"))

    names = order(host)
    assert names.index("db") < names.index("auth")


def test_after_orders_softly_and_ignores_absent_plugins() -> None:
    host = build(Plugin("metrics", after=("redis", "absent")), Plugin("redis"))

    names = order(host)
    assert names.index("redis") < names.index("metrics")


def test_builtins_come_first_in_discovery_order() -> None:
    host = build(Plugin("zeta"), Plugin("alpha"))

    assert order(host) == ["errors", "http", "health", "introspection", "zeta", "alpha"]


def test_missing_requirement_is_an_error_naming_both_plugins() -> None:
    with pytest.raises(PluginRequirementError, match="'auth' requires 'db'"):
        build(Plugin("auth", requires=("db",)))


def test_disabled_requirement_is_an_error_naming_both_plugins() -> None:
    with pytest.raises(PluginRequirementError, match="'auth' requires 'db'.*not enabled"):
        build(Plugin("auth", requires=("db",)), Plugin("db"), disabled_plugins=["db"])


def test_cycle_is_an_error_naming_the_cycle() -> None:
    with pytest.raises(PluginCycleError) as caught:
        build(Plugin("a", requires=("b",)), Plugin("b", after=("c",)), Plugin("c", requires=("a",)))

    message = str(caught.value)
    for name in ("a", "b", "c"):
        assert f"{name}" in message.split(":", 1)[1]
    assert "->" in message


def test_hooks_are_called_in_plugin_order() -> None:
    calls: list[str] = []

    class Recorder(Plugin):
        @hookimpl
        def faster_configure_app(self) -> None:
            calls.append(self.info.name)

    create_app(
        settings(),
        plugins=[Recorder("last", requires=("first",)), Recorder("first")],
        load_entrypoints=False,
    )

    assert calls == ["first", "last"]


def test_each_app_gets_its_own_plugin_manager() -> None:
    first = create_app(settings(), load_entrypoints=False)
    second = create_app(settings(), load_entrypoints=False)

    assert first.state.faster.pm is not second.state.faster.pm
    assert first.state.faster.pm.get_plugin("http") is not second.state.faster.pm.get_plugin("http")


def test_a_hook_that_raises_stops_the_build_naming_plugin_and_hook() -> None:
    class Faulty(Plugin):
        @hookimpl
        def faster_routers(self) -> list[Any]:
            raise KeyError("missing route table")

    with pytest.raises(PluginError, match="'faulty' failed in faster_routers: KeyError"):
        create_app(settings(), plugins=[Faulty("faulty")], load_entrypoints=False)


def test_a_wrapper_on_a_declarative_hook_is_refused() -> None:
    class Wrapping(Plugin):
        @hookimpl(wrapper=True)
        def faster_routers(self) -> Any:
            return (yield)

    with pytest.raises(PluginError, match="'wrapping' wraps faster_routers"):
        create_app(settings(), plugins=[Wrapping("wrapping")], load_entrypoints=False)


CLASS_PLUGIN = """
from faster_core import PluginInfo, hookimpl

class Counter:
    def __init__(self):
        self.calls = 0

    @hookimpl
    def faster_plugin_info(self):
        return PluginInfo("counter", "1.0.0")

    @hookimpl
    def faster_configure_app(self):
        self.calls += 1
"""


def test_an_entry_point_naming_a_class_gets_a_fresh_instance_per_app(
    install_plugin: InstallPlugin,
) -> None:
    install_plugin("counter", CLASS_PLUGIN, target="sample_faster_counter:Counter")

    first = create_app(settings(), load_entrypoints=True)
    second = create_app(settings(), load_entrypoints=True)

    one = first.state.faster.pm.get_plugin("counter")
    two = second.state.faster.pm.get_plugin("counter")
    assert type(one).__name__ == "Counter"
    assert one is not two
    assert (one.calls, two.calls) == (1, 1)  # each app configured its own instance once
