"""Request and response bodies."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["NoteChanges", "NoteEventOut", "NoteIn", "NoteOut"]

TITLE = Field(min_length=1, max_length=200)
BODY_MAX = 20_000


class NoteIn(BaseModel):
    title: str = TITLE
    body: str = Field(default="", max_length=BODY_MAX)


class NoteChanges(BaseModel):
    """A partial update: only the fields sent change."""

    title: str | None = Field(default=None, min_length=1, max_length=200)
    body: str | None = Field(default=None, max_length=BODY_MAX)


class NoteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    body: str
    created_at: datetime
    updated_at: datetime


class NoteEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    owner: str
    note_id: int
    action: str
    created_at: datetime
