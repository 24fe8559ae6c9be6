"""The steady state of `CurrentUser`: a known bearer header admitted with a few look-ups.

A request's `Authorization` header is looked up as raw bytes (no decoding, no parsing) among
the headers this process has verified before; a hit gives the same `AuthenticatedUser` object
as last time (claims verified once, until `exp`). What can change while a token lives is asked
again on every request, from the per-process caches that keep the bounds of the issue: the
token's expiry against the verifier's clock, the user's standing (`UserGate`, at most 1 s old)
and the token's revocation (`Revocations`, at most 1 s old, dropped at once over pub/sub with
Redis). Anything not answered from those caches falls back to the full check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from faster_auth.dependencies import AuthenticatedUser
from faster_auth.exceptions import InvalidTokenError

if TYPE_CHECKING:
    from faster_auth.auth import Auth
    from faster_auth.revocation import Revocations
    from faster_db import Database

__all__ = ["Admissions"]


class Admissions:
    """Per app: bearer headers already verified, with the user each one stands for."""

    def __init__(
        self,
        auth: Auth,
        database: Database | None,
        revocations: Revocations,
        *,
        max_entries: int,
    ) -> None:
        self._auth = auth
        self._database = database
        self._revocations = revocations
        self._max_entries = max_entries
        self._known: dict[bytes, AuthenticatedUser] = {}

    def admitted(self, header: bytes) -> AuthenticatedUser | None:
        """The caller behind `header` when every cached answer admits it; `None`: ask `admit`."""
        user = self._known.get(header)
        if user is None:
            return None
        token = user.token
        auth = self._auth
        if not auth.verifier.unexpired(token):
            return None
        database = self._database
        if database is not None and not auth.users.admits(database, token.subject, token.issued_at):
            return None
        if not self._revocations.admits(token):
            return None
        return user

    async def admit(self, header: bytes) -> AuthenticatedUser:
        """The full check of a bearer `header`; `InvalidTokenError` (a 401) when it fails."""
        self._known.pop(header, None)
        scheme, _, credential = header.decode("latin-1").partition(" ")
        token = credential.strip()
        if scheme.lower() != "bearer" or not token:
            raise InvalidTokenError("not a bearer credential")
        auth = self._auth
        verified = auth.verifier.verify(token)
        database = self._database
        if database is not None:
            await auth.users.check(database, verified.subject, verified.issued_at)
        await self._revocations.check(verified)
        user = AuthenticatedUser(verified.subject, verified.roles, verified)
        self._remember(header, user)
        return user

    def _remember(self, header: bytes, user: AuthenticatedUser) -> None:
        if self._max_entries <= 0:
            return  # the claims cache is off: every request is verified in full
        known = self._known
        if len(known) >= self._max_entries:
            del known[next(iter(known))]
        known[header] = user
