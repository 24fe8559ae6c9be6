"""A user's note list, cached in Redis per user and invalidated by tag on every write."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from examples.notes.models import Note
from examples.notes.schemas import NoteOut
from faster_redis import RedisService, cached

__all__ = ["NoteLister", "forget_notes_of", "note_lister", "owner_tag"]

NoteLister = Callable[[AsyncSession, str], Awaitable[list[dict[str, Any]]]]
OWNER_TAG = "notes-of:{owner}"


def owner_tag(owner: str) -> str:
    """The cache tag of everything cached for `owner`."""
    return OWNER_TAG.format(owner=owner)


def note_lister(*, ttl: int, limit: int) -> NoteLister:
    """`await lister(session, owner)`: the owner's most recent notes, from the cache if there.

    Cached values are JSON, so this returns plain dicts (what `NoteOut` dumps to).
    """

    @cached(ttl=ttl, key="notes:{owner}", tags=[OWNER_TAG])
    async def recent_notes(session: AsyncSession, owner: str) -> list[dict[str, Any]]:
        rows = await session.scalars(
            select(Note).where(Note.owner == owner).order_by(Note.id.desc()).limit(limit)
        )
        return [NoteOut.model_validate(row).model_dump(mode="json") for row in rows]

    return recent_notes


async def forget_notes_of(redis: RedisService, owner: str) -> None:
    """Drop `owner`'s cached list; call it after the write is committed.

    Invalidating before the commit would let a read in between cache the old list for a
    whole TTL.
    """
    await redis.cache.invalidate_tags(owner_tag(owner))
