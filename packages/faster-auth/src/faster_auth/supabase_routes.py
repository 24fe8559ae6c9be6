"""Supabase auth events: the front end reports them, the mirror syncs in the background.

`POST {prefix}/callback/{SIGNED_IN|SIGNED_OUT|TOKEN_REFRESHED|USER_UPDATED}` and
`POST {prefix}/notification/{INITIAL_SESSION|PASSWORD_RECOVERY|USER_UPDATED}` take the caller's
bearer token (verified like any other request) and answer 202 at once; the sync runs in a
background task with its own database sessions (retried while the database is unavailable:
the sync is versioned, so a repeat is harmless). What is mirrored comes from verified sources
only (the token's claims, or the admin API with the service-role key), never from a request
body: nobody can write another user's email or name into the mirror.

- `SIGNED_IN`, `TOKEN_REFRESHED`, `INITIAL_SESSION`: profile from the token (sign-in time too).
- `USER_UPDATED`: profile from the admin API when `FASTER_AUTH_SUPABASE_SERVICE_KEY` is set
  (versioned by the user's `updated_at`), else from the token (versioned by its `iat`).
- `SIGNED_OUT`: the presented token is revoked when the revocation guard runs.
- `PASSWORD_RECOVERY`: accepted; nothing to mirror.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from functools import partial

from fastapi import APIRouter, status
from pydantic import BaseModel
from starlette.requests import Request

from faster_auth.auth import Auth
from faster_auth.dependencies import AuthenticatedUser, CurrentUser
from faster_auth.mirror import Profile
from faster_auth.supabase import SupabaseAdmin

__all__ = ["CallbackEvent", "EventAccepted", "NotificationEvent", "supabase_router"]

logger = logging.getLogger(__name__)


class CallbackEvent(StrEnum):
    SIGNED_IN = "SIGNED_IN"
    SIGNED_OUT = "SIGNED_OUT"
    TOKEN_REFRESHED = "TOKEN_REFRESHED"  # noqa: S105 - an event name
    USER_UPDATED = "USER_UPDATED"


class NotificationEvent(StrEnum):
    INITIAL_SESSION = "INITIAL_SESSION"
    PASSWORD_RECOVERY = "PASSWORD_RECOVERY"  # noqa: S105 - an event name
    USER_UPDATED = "USER_UPDATED"


class EventAccepted(BaseModel):
    event: str
    accepted: bool = True


def supabase_router(prefix: str) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=["auth events"])

    @router.post("/callback/{event}", status_code=status.HTTP_202_ACCEPTED)
    async def callback(event: CallbackEvent, user: CurrentUser, request: Request) -> EventAccepted:
        """A Supabase client auth event; the local mirror syncs in the background."""
        await _handle(request, event.value, user)
        return EventAccepted(event=event.value)

    @router.post("/notification/{event}", status_code=status.HTTP_202_ACCEPTED)
    async def notification(
        event: NotificationEvent, user: CurrentUser, request: Request
    ) -> EventAccepted:
        """A Supabase session notification; the local mirror syncs in the background."""
        await _handle(request, event.value, user)
        return EventAccepted(event=event.value)

    return router


async def _handle(request: Request, event: str, user: AuthenticatedUser) -> None:
    auth: Auth = request.state.auth
    identity = auth.external
    mirror = identity.mirror if identity is not None else None
    if event == CallbackEvent.SIGNED_OUT:
        await _revoke(request, user)
        return
    if mirror is None or event == NotificationEvent.PASSWORD_RECOVERY:
        return
    admin = identity.supabase if identity is not None else None
    if event == CallbackEvent.USER_UPDATED and admin is not None:
        mirror.sync_in_background(user.subject, partial(_from_admin, admin, user.subject))
        return
    profile = mirror.profile(user.token)
    signed_in = event == CallbackEvent.SIGNED_IN
    mirror.sync_in_background(user.subject, partial(_given, profile), signed_in=signed_in)


async def _given(profile: Profile) -> Profile:
    return profile


async def _from_admin(admin: SupabaseAdmin, subject: str) -> Profile | None:
    user = await admin.get_user(subject)
    if user is None:
        logger.info("a USER_UPDATED event names a user the project does not have")
        return None
    return admin.profile(user)


async def _revoke(request: Request, user: AuthenticatedUser) -> None:
    guard = getattr(request.state, "auth_guard", None)
    revoke = getattr(guard, "revoke_token", None)
    if revoke is not None and user.token.token_id is not None:
        await revoke(user.token.token_id, user.token.expires_at)
