"""The plugin's settings: `FASTER_HELLO_*`, or `FASTER_PLUGIN_SETTINGS={"hello": {...}}`."""

from __future__ import annotations

from pydantic import Field

from faster_core import PluginSettings

__all__ = ["HelloSettings"]


class HelloSettings(PluginSettings):
    greeting: str = Field(default="Hello", min_length=1, max_length=50)
    """`FASTER_HELLO_GREETING`: the word `GET /hello/{name}` greets with."""

    guestbook_size: int = Field(default=100, ge=1, le=10_000)
    """`FASTER_HELLO_GUESTBOOK_SIZE`: how many new accounts the guestbook remembers."""
