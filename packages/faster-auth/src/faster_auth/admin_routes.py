"""The admin API (role `admin`, checked by each handler's own dependency): users, roles, bans.

Nobody changes their own roles or bans themselves through it, admins included: the
predecessor let any signed-in user grant themselves roles.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, Field
from sqlalchemy import delete, insert, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from faster_auth.accounts import RequestAccounts, roles_of
from faster_auth.dependencies import AuthenticatedUser, require_roles
from faster_auth.exceptions import PermissionDeniedError
from faster_auth.models import RefreshToken, User, UserRole, UserStatus
from faster_auth.schemas import UserOut
from faster_core import NotFoundError
from faster_db import utcnow

__all__ = ["RoleAssignment", "admin_router"]

Admin = Annotated[AuthenticatedUser, Depends(require_roles("admin"))]
RoleName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]


class RoleAssignment(BaseModel):
    roles: list[RoleName] = Field(max_length=100)


async def _user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFoundError("No such user.")
    return user


def _refuse_self(admin: AuthenticatedUser, user: User, action: str) -> None:
    if user.subject == admin.subject:
        raise PermissionDeniedError(f"You cannot {action} yourself.")


async def _out(session: AsyncSession, user: User) -> UserOut:
    roles = await roles_of(session, user.id)
    return UserOut(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        status=user.status,
        roles=roles,
    )


def admin_router(prefix: str) -> APIRouter:
    router = APIRouter(prefix=f"{prefix}/admin", tags=["auth admin"])

    @router.get("/users/{user_id}")
    async def get_user(user_id: uuid.UUID, admin: Admin, accounts: RequestAccounts) -> UserOut:
        async with accounts.database.session_scope(readonly=True) as session:
            return await _out(session, await _user(session, user_id))

    @router.put("/users/{user_id}/roles")
    async def set_roles(
        user_id: uuid.UUID, body: RoleAssignment, admin: Admin, accounts: RequestAccounts
    ) -> UserOut:
        async with accounts.database.session_scope() as session:
            user = await _user(session, user_id)
            _refuse_self(admin, user, "change the roles of")
            await session.execute(delete(UserRole).where(UserRole.user_id == user_id))
            roles = sorted(set(body.roles))
            if roles:
                rows = [{"user_id": user_id, "role": role} for role in roles]
                await session.execute(insert(UserRole), rows)
            return await _out(session, user)

    @router.post("/users/{user_id}/ban", status_code=status.HTTP_204_NO_CONTENT)
    async def ban(user_id: uuid.UUID, admin: Admin, accounts: RequestAccounts) -> Response:
        await _set_status(accounts, admin, user_id, UserStatus.BANNED)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.post("/users/{user_id}/unban", status_code=status.HTTP_204_NO_CONTENT)
    async def unban(user_id: uuid.UUID, admin: Admin, accounts: RequestAccounts) -> Response:
        await _set_status(accounts, admin, user_id, UserStatus.ACTIVE)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router


async def _set_status(
    accounts: RequestAccounts, admin: AuthenticatedUser, user_id: uuid.UUID, new_status: str
) -> None:
    async with accounts.database.session_scope() as session:
        user = await _user(session, user_id)
        _refuse_self(admin, user, "ban")
        values: dict[str, object] = {"status": new_status}
        if new_status != UserStatus.ACTIVE:
            now = utcnow()
            values["tokens_valid_after"] = now
            await session.execute(
                update(RefreshToken)
                .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
                .values(revoked_at=now)
            )
        await session.execute(update(User).where(User.id == user_id).values(**values))
        subject = user.subject
    accounts.auth.users.forget(subject)
