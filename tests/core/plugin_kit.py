"""Sources of sample plugins, installed by the `install_plugin` fixture."""

from __future__ import annotations

PLUGIN_SOURCE = """
from faster_core import PluginInfo, hookimpl

@hookimpl
def faster_plugin_info():
    return PluginInfo({name!r}, "1.0.0", requires={requires!r}, after={after!r})
"""


def plugin_source(name: str, requires: tuple[str, ...] = (), after: tuple[str, ...] = ()) -> str:
    return PLUGIN_SOURCE.format(name=name, requires=requires, after=after)
