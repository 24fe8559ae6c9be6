"""The HTTP API: a user's notes, an admin's view of the history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import PlainTextResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from examples.notes.jobs import record_event
from examples.notes.listing import forget_notes_of, note_lister
from examples.notes.models import Note, NoteEvent
from examples.notes.schemas import NoteChanges, NoteEventOut, NoteIn, NoteOut
from examples.notes.settings import NotesSettings
from faster_auth import AuthenticatedUser, CurrentUser, require_roles
from faster_core import NotFoundError, require_flag
from faster_db import DBSession, DBTasks, ReadOnlyDBSession, Repository
from faster_redis import RedisHandle, rate_limit

__all__ = ["EXPORT_FLAG", "WRITE_LIMIT_NAME", "admin_router", "notes_router"]

EXPORT_FLAG = "notes_export"
WRITE_LIMIT_NAME = "notes-write"

Admin = Annotated[AuthenticatedUser, Depends(require_roles("admin"))]


async def _remember_writer(request: Request, user: CurrentUser) -> None:
    request.state.notes_writer = user.subject


def _by_writer(request: Request) -> str:
    # Set by `_remember_writer`, which the write route lists before the limit.
    return f"user:{request.state.notes_writer}"


async def _owned_note(session: AsyncSession, note_id: int, owner: str) -> Note:
    note = await Repository(session, Note).get(note_id)
    if note is None or note.owner != owner:
        # Someone else's note answers like a missing one: ids reveal nothing.
        raise NotFoundError(f"There is no note {note_id}.")
    return note


def notes_router(settings: NotesSettings) -> APIRouter:
    router = APIRouter(prefix="/notes", tags=["notes"])
    recent_notes = note_lister(ttl=settings.list_cache_ttl, limit=settings.list_limit)
    write_limit = rate_limit(settings.write_limit, name=WRITE_LIMIT_NAME, key=_by_writer)

    @router.get("")
    async def list_notes(user: CurrentUser, session: ReadOnlyDBSession) -> list[NoteOut]:
        """The caller's most recent notes, newest first (cached per user)."""
        return [NoteOut.model_validate(note) for note in await recent_notes(session, user.subject)]

    @router.post(
        "",
        status_code=status.HTTP_201_CREATED,
        dependencies=[Depends(_remember_writer), Depends(write_limit)],
    )
    async def create_note(
        body: NoteIn, user: CurrentUser, session: DBSession, tasks: DBTasks, redis: RedisHandle
    ) -> NoteOut:
        """Create a note; limited per user (`FASTER_NOTES_WRITE_LIMIT`)."""
        note = await Repository(session, Note).create(owner=user.subject, **body.model_dump())
        await session.commit()
        await forget_notes_of(redis, user.subject)
        tasks.run_in_background(record_event, user.subject, note.id, "created")
        return NoteOut.model_validate(note)

    @router.get(
        "/export",
        response_class=PlainTextResponse,
        dependencies=[Depends(require_flag(EXPORT_FLAG))],
    )
    async def export_notes(user: CurrentUser, session: ReadOnlyDBSession) -> str:
        """Every note of the caller as Markdown; behind the `notes_export` feature flag."""
        rows = await session.scalars(
            select(Note).where(Note.owner == user.subject).order_by(Note.id)
        )
        return "\n".join(f"# {note.title}\n\n{note.body}\n" for note in rows)

    @router.get("/{note_id}")
    async def read_note(note_id: int, user: CurrentUser, session: ReadOnlyDBSession) -> NoteOut:
        return NoteOut.model_validate(await _owned_note(session, note_id, user.subject))

    @router.patch("/{note_id}")
    async def change_note(
        note_id: int,
        *,
        changes: NoteChanges,
        user: CurrentUser,
        session: DBSession,
        tasks: DBTasks,
        redis: RedisHandle,
    ) -> NoteOut:
        note = await _owned_note(session, note_id, user.subject)
        for field, value in changes.model_dump(exclude_unset=True, exclude_none=True).items():
            setattr(note, field, value)
        await session.commit()
        await forget_notes_of(redis, user.subject)
        tasks.run_in_background(record_event, user.subject, note_id, "changed")
        return NoteOut.model_validate(note)

    @router.delete("/{note_id}", status_code=status.HTTP_204_NO_CONTENT)
    async def delete_note(
        note_id: int, user: CurrentUser, session: DBSession, tasks: DBTasks, redis: RedisHandle
    ) -> Response:
        await session.delete(await _owned_note(session, note_id, user.subject))
        await session.commit()
        await forget_notes_of(redis, user.subject)
        tasks.run_in_background(record_event, user.subject, note_id, "deleted")
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router


def admin_router() -> APIRouter:
    router = APIRouter(prefix="/admin/notes", tags=["notes admin"])

    @router.get("/activity")
    async def activity(
        admin: Admin,
        session: ReadOnlyDBSession,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> list[NoteEventOut]:
        """The latest note events of every user, newest first (role `admin`)."""
        rows = await session.scalars(select(NoteEvent).order_by(NoteEvent.id.desc()).limit(limit))
        return [NoteEventOut.model_validate(row) for row in rows]

    return router
