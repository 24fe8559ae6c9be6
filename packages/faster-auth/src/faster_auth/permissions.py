"""Permissions: which roles grant which permissions, editable while the app runs.

The map lives in faster-db's config store, category `auth.permissions`: one key per role, its
value the list of permissions the role grants (`"*"` grants every permission). Change it with
`Permissions.grant` / `revoke` / `set_role` (or any `ConfigStore` write); each worker re-reads
the map at most `FASTER_AUTH_PERMISSIONS_CACHE_TTL` (<= 1 s) after its last read, so a change is
in force everywhere within a second, with no restart. Concurrent re-reads share one query.

    @app.delete("/invoices/{id}", dependencies=[Depends(require_permissions("invoices:delete"))])
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass

from starlette.requests import Request

from faster_auth.dependencies import AuthenticatedUser, CurrentUser
from faster_auth.exceptions import AuthConfigurationError, PermissionDeniedError
from faster_db import ConfigStore, Database

__all__ = ["CATEGORY", "WILDCARD", "Permissions", "require_permissions"]

CATEGORY = "auth.permissions"
WILDCARD = "*"


@dataclass(frozen=True, slots=True)
class _Map:
    grants: Mapping[str, frozenset[str]]
    loaded_at: float


class Permissions:
    """The roles -> permissions map of one app, cached for at most `ttl` seconds."""

    def __init__(
        self,
        database: Database | None,
        ttl: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database = database
        self.ttl = ttl
        self._clock = clock
        self._map: _Map | None = None
        self._loading: asyncio.Task[_Map] | None = None

    async def of_roles(self, roles: Iterable[str]) -> frozenset[str]:
        """Every permission the `roles` grant together."""
        grants = (await self._current()).grants
        granted: set[str] = set()
        for role in roles:
            granted |= grants.get(role, frozenset())
        return frozenset(granted)

    async def allows(self, roles: Iterable[str], needed: Iterable[str]) -> bool:
        granted = await self.of_roles(roles)
        return WILDCARD in granted or set(needed) <= granted

    async def role_map(self) -> dict[str, list[str]]:
        """The stored map, read now (not from the cache)."""
        return {role: sorted(p) for role, p in (await self._load()).grants.items()}

    async def set_role(self, role: str, permissions: Iterable[str]) -> None:
        """Make `role` grant exactly `permissions`."""
        async with self._database().session_scope() as session:
            await ConfigStore(session).set(CATEGORY, role, sorted(set(permissions)))
        self._map = None

    async def grant(self, role: str, *permissions: str) -> None:
        current = (await self.role_map()).get(role, [])
        await self.set_role(role, [*current, *permissions])

    async def revoke(self, role: str, *permissions: str) -> None:
        current = (await self.role_map()).get(role, [])
        await self.set_role(role, [p for p in current if p not in permissions])

    async def _current(self) -> _Map:
        current = self._map
        if current is not None and self._clock() - current.loaded_at < self.ttl:
            return current
        if self._loading is None:
            self._loading = asyncio.create_task(self._load())
            self._loading.add_done_callback(self._loaded)
        return await asyncio.shield(self._loading)

    def _loaded(self, task: asyncio.Task[_Map]) -> None:
        self._loading = None
        if not task.cancelled() and task.exception() is None:
            self._map = task.result()

    def _database(self) -> Database:
        if self.database is None:
            raise AuthConfigurationError(
                "permissions live in faster-db's config store: enable the 'db' plugin"
            )
        return self.database

    async def _load(self) -> _Map:
        async with self._database().session_scope(readonly=True) as session:
            stored = await ConfigStore(session).category(CATEGORY)
        grants = {
            role: frozenset(str(p) for p in (value if isinstance(value, list) else [value]))
            for role, value in stored.items()
        }
        return _Map(grants, self._clock())


def require_permissions(
    *permissions: str,
) -> Callable[[Request, AuthenticatedUser], Awaitable[AuthenticatedUser]]:
    """A dependency admitting callers whose roles grant every one of `permissions` (403
    otherwise); the roles come from the verified token."""
    if not permissions:
        raise ValueError("require_permissions() needs at least one permission")
    needed = frozenset(permissions)

    async def dependency(request: Request, user: CurrentUser) -> AuthenticatedUser:
        from faster_auth.guard import guard_of  # noqa: PLC0415 - guard imports us

        if not await guard_of(request).permissions.allows(user.roles, needed):
            raise PermissionDeniedError("This action requires a permission you do not have.")
        return user

    return dependency
