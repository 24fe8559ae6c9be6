"""The notes app factory.

faster run examples.notes.app:create --factory        # from the repository root
uvicorn examples.notes.app:create --factory
"""

from __future__ import annotations

from fastapi import FastAPI

from examples.notes.plugin import NotesPlugin
from faster_core import FasterSettings, create_app

__all__ = ["create"]


def create(settings: FasterSettings | None = None) -> FastAPI:
    """Every installed `faster` plugin (db, auth and redis are required) plus the notes API."""
    return create_app(settings, plugins=[NotesPlugin()])
