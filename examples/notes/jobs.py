"""Work done after the response, each job in a database session of its own."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from examples.notes.models import NoteEvent
from faster_db import utcnow

__all__ = ["record_event"]

logger = logging.getLogger(__name__)


async def record_event(session: AsyncSession, owner: str, note_id: int, action: str) -> None:
    """Append to the notes history; `DBTasks` commits `session` when this returns.

    It takes ids, never the request's ORM objects: the request's session is closed by the time
    this runs (faster-db refuses to schedule a job with a bound object).
    """
    session.add(NoteEvent(owner=owner, note_id=note_id, action=action, created_at=utcnow()))
    logger.info("note %s %s", note_id, action)
