"""Routes the tests protect, and helpers to read problems."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from faster_auth import AuthenticatedUser, CurrentUser, OptionalUser, require_roles


def protected_router() -> APIRouter:
    router = APIRouter()

    @router.get("/me")
    async def me(user: CurrentUser) -> dict[str, Any]:
        return {"sub": user.subject, "roles": sorted(user.roles)}

    @router.get("/maybe")
    async def maybe(user: OptionalUser) -> dict[str, Any]:
        return {"sub": None if user is None else user.subject}

    @router.get("/admin")
    async def admin(
        user: Annotated[AuthenticatedUser, Depends(require_roles("admin"))],
    ) -> dict[str, str]:
        return {"sub": user.subject}

    return router
