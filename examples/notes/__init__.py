"""Notes: a small but real API on the Faster suite (see README.md)."""

from examples.notes.app import create
from examples.notes.plugin import NotesPlugin
from examples.notes.settings import NotesSettings

__all__ = ["NotesPlugin", "NotesSettings", "create"]
