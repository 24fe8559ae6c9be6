"""The local mirror of external users: created on first sight, kept in sync by later events.

First sight of a subject (its first verified request on this worker) inserts its row with one
`INSERT ... ON CONFLICT DO NOTHING`: concurrent first requests, on any number of workers, make
one row and no error. Each worker then remembers the subject (bounded), so a steady stream of
requests costs no query at all; concurrent first requests on one worker share one insert.

Later syncs (sign-in and user-updated events) are one conditional `UPDATE` guarded by the
version of the data they carry (the token's `iat`, or the provider's `updated_at`): whatever
order background syncs finish in, the newest data wins and an older one never overwrites it.
The version and provider data live in the user's `attributes` JSON, merged in the statement
itself so that other keys there (onboarding state) are never lost. An email already held by
another user of the same issuer is not copied (the column is unique per issuer).

The mirror fails open: it records who signed in, it does not decide who may. A database error
while mirroring is logged and the request goes on.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, cast, exists, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from faster_auth.models import User, UserStatus
from faster_auth.tokens import VerifiedToken, claim_at
from faster_core import FasterError, ServiceUnavailableError
from faster_db import Database, utcnow

__all__ = ["VERSION_KEY", "Profile", "UserMirror", "profile_from_claims"]

logger = logging.getLogger(__name__)

VERSION_KEY = "identity_version"
SYNC_ATTEMPTS = 6
SYNC_FIRST_PAUSE = 0.2  # seconds; doubled after each failed attempt (6.2 s in all)
_MAX_EMAIL = 320
_MAX_NAME = 200


@dataclass(frozen=True)
class Profile:
    """What the mirror keeps of an external user, and the version (epoch seconds) it has."""

    email: str | None
    display_name: str | None
    version: float


def profile_from_claims(
    claims: Mapping[str, Any], *, email_claim: str, name_claim: str, version: float
) -> Profile:
    """The profile verified claims give (values of the wrong type or size are left out)."""
    email = claim_at(claims, email_claim)
    name = claim_at(claims, name_claim)
    good_email = isinstance(email, str) and "@" in email and len(email) <= _MAX_EMAIL
    return Profile(
        email=email.strip().lower() if good_email else None,
        display_name=name[:_MAX_NAME] if isinstance(name, str) and name else None,
        version=version,
    )


ProfileSource = Callable[[], Awaitable["Profile | None"]]


class UserMirror:
    """Mirrors the users of one external issuer into the users table."""

    def __init__(
        self,
        database: Database,
        *,
        issuer: str,
        email_claim: str,
        name_claim: str,
        cache_size: int = 65536,
    ) -> None:
        self.database = database
        self.issuer = issuer
        self.email_claim = email_claim
        self.name_claim = name_claim
        self._cache_size = cache_size
        self._seen: dict[str, None] = {}
        self._inflight: dict[str, asyncio.Future[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def profile(self, verified: VerifiedToken) -> Profile:
        return profile_from_claims(
            verified.claims,
            email_claim=self.email_claim,
            name_claim=self.name_claim,
            version=float(verified.issued_at),
        )

    async def see(self, verified: VerifiedToken) -> None:
        """Make sure the token's subject has a row (first sight only; never raises)."""
        subject = verified.subject
        if subject in self._seen:
            return
        pending = self._inflight.get(subject)
        if pending is not None:
            await asyncio.shield(pending)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._inflight[subject] = future
        try:
            await self._first_sight(subject, self.profile(verified))
        except (FasterError, OSError) as exc:  # fail open: the next request tries again
            logger.warning("mirroring a new user failed: %s", type(exc).__name__)
        else:
            self._remember(subject)
        finally:
            del self._inflight[subject]
            future.set_result(None)

    def _remember(self, subject: str) -> None:
        if self._cache_size <= 0:
            return
        if len(self._seen) >= self._cache_size:
            del self._seen[next(iter(self._seen))]
        self._seen[subject] = None

    async def _first_sight(self, subject: str, profile: Profile) -> None:
        async with self.database.session_scope() as session:
            inserted = await self.insert(session, subject, profile)
            if not inserted and profile.email is not None:
                # The subject exists (another worker was first), or its email belongs to
                # another user: make sure of the row, without the email.
                await self.insert(session, subject, Profile(None, profile.display_name, 0.0))

    async def insert(self, session: AsyncSession, subject: str, profile: Profile) -> bool:
        """`INSERT ... ON CONFLICT DO NOTHING` of a new user; whether a row was inserted."""
        now = utcnow()
        values: dict[str, Any] = {
            "issuer": self.issuer,
            "subject": subject,
            "email": profile.email,
            "display_name": profile.display_name,
            "status": UserStatus.ACTIVE,
            "attributes": {VERSION_KEY: profile.version} if profile.version else {},
            "last_sign_in_at": now,
        }
        insert = postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert
        # No conflict target: a clash on (issuer, subject) or (issuer, email) does nothing.
        statement = insert(User).values(**values).on_conflict_do_nothing()
        returned = await session.execute(statement.returning(User.id))
        return returned.first() is not None

    async def sync(
        self, session: AsyncSession, subject: str, profile: Profile, *, signed_in: bool = False
    ) -> bool:
        """Create the row if missing, then apply `profile` unless newer data is there already.

        Whether `profile` was applied. Meant to run in a background task with its own session.
        """
        await self.insert(session, subject, Profile(None, None, 0.0))
        applied = await session.execute(
            self._versioned_update(session, subject, profile).returning(User.id)
        )
        if signed_in:
            await session.execute(
                update(User).where(*self._row(subject)).values(last_sign_in_at=utcnow())
            )
        return applied.first() is not None

    def sync_in_background(
        self, subject: str, source: ProfileSource, *, signed_in: bool = False
    ) -> None:
        """Run `sync` for the profile `source` gives in a task with its own sessions.

        The sync is versioned, so repeating it is harmless: while the database is unavailable
        (a pool timeout, SQLite's lock under load) it is retried with a growing pause, and an
        update is only lost when every attempt failed (logged as an error).
        """
        task = asyncio.get_running_loop().create_task(self._sync(subject, source, signed_in))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _sync(self, subject: str, source: ProfileSource, signed_in: bool) -> None:
        try:
            profile = await source()
        except FasterError as exc:
            logger.warning("no profile to mirror: %s", type(exc).__name__)
            return
        if profile is None:
            return
        for attempt in range(SYNC_ATTEMPTS):
            try:
                async with self.database.session_scope() as session:
                    await self.sync(session, subject, profile, signed_in=signed_in)
            except ServiceUnavailableError as exc:
                if attempt + 1 == SYNC_ATTEMPTS:
                    # No traceback: the driver's text would quote the row's email.
                    logger.error("mirror sync abandoned: %s", type(exc).__name__)  # noqa: TRY400
                    return
                await asyncio.sleep(SYNC_FIRST_PAUSE * 2**attempt)
            else:
                return

    async def aclose(self, grace: float = 10.0) -> None:
        """Let the syncs still running finish (at most `grace` seconds), then cancel them."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def _row(self, subject: str) -> list[ColumnElement[bool]]:
        return [User.issuer == self.issuer, User.subject == subject]

    def _versioned_update(self, session: AsyncSession, subject: str, profile: Profile) -> Any:
        stored = func.coalesce(User.attributes[VERSION_KEY].as_float(), -1.0)
        values: dict[str, Any] = {
            "attributes": _merged(session, {VERSION_KEY: profile.version}),
            "display_name": profile.display_name,
        }
        if profile.email is not None:
            other = select(User.id).where(
                User.issuer == self.issuer, User.email == profile.email, User.subject != subject
            )
            # Copy the email unless another user of this issuer holds it (unique per issuer).
            values["email"] = case((exists(other), User.email), else_=profile.email)
        condition = and_(*self._row(subject), stored < profile.version)
        return update(User).where(condition).values(**values)


def _merged(session: AsyncSession, patch: dict[str, Any]) -> Any:
    """`attributes` with the keys of `patch` set, computed by the database in the statement."""
    if _dialect(session) == "postgresql":
        merged = cast(User.attributes, JSONB).op("||")(literal(patch, JSONB))
        return cast(merged, User.attributes.type)
    return func.json_patch(User.attributes, json.dumps(patch))


def _dialect(session: AsyncSession) -> str:
    return session.sync_session.get_bind(User).dialect.name
