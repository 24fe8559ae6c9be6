"""The notes tables (their migrations are in `migrations/`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from faster_db import NAMING_CONVENTION, IntPrimaryKey, Timestamps, UTCDateTime

__all__ = ["Note", "NoteEvent", "NotesBase"]


class NotesBase(DeclarativeBase):
    # Metadata of its own: `faster db revision --autogenerate --branch notes` compares only
    # these tables, not every model that happens to be imported.
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {datetime: UTCDateTime()}  # noqa: RUF012


class Note(NotesBase, IntPrimaryKey, Timestamps):
    """One note, owned by the subject of the token that created it."""

    __tablename__ = "notes"

    owner: Mapped[str] = mapped_column(String(255), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text(), default="")


class NoteEvent(NotesBase, IntPrimaryKey):
    """What happened to a note, written after the response by a background job."""

    __tablename__ = "note_events"

    owner: Mapped[str] = mapped_column(String(255), index=True)
    note_id: Mapped[int]  # no foreign key: the history outlives a deleted note
    action: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
