"""The notes plugin's settings, read from `FASTER_NOTES_*`."""

from __future__ import annotations

from pydantic import Field

from faster_core import PluginSettings

__all__ = ["NotesSettings"]


class NotesSettings(PluginSettings):
    """`FASTER_NOTES_WRITE_LIMIT`, `FASTER_NOTES_LIST_CACHE_TTL`, `FASTER_NOTES_LIST_LIMIT`."""

    write_limit: str = "30/minute"
    """How many notes one user may create, per window (`"30/minute"`, `"5/10s"`)."""

    list_cache_ttl: int = Field(default=60, ge=1)
    """Seconds a user's cached note list lives; writes invalidate it at once."""

    list_limit: int = Field(default=200, ge=1, le=1000)
    """The most recent notes `GET /notes` returns."""
