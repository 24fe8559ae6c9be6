"""The admin API (role `admin`, checked by each handler's own dependency): users, roles, bans,
the user list and a user's audit trail.

Nobody changes their own roles or bans themselves through it, admins included: the
predecessor let any signed-in user grant themselves roles. The list and audit shapes
(`{"items": [...], "total", "limit", "offset"}` and `{"items": [...]}`) are a contract: the
developer console reads them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from faster_auth.accounts import (
    Accounts,
    RequestAccounts,
    describe,
    describe_many,
    revoke_user_tokens,
    roles_of,
)
from faster_auth.audit import AuditType, Outcome
from faster_auth.dependencies import AuthenticatedUser, require_roles
from faster_auth.exceptions import PermissionDeniedError
from faster_auth.models import AuditEvent, User, UserRole, UserStatus
from faster_auth.schemas import UserOut, normalize_email
from faster_core import NotFoundError
from faster_db import utcnow

__all__ = [
    "AuditEventOut",
    "AuditPage",
    "RoleAssignment",
    "UserByEmail",
    "UserPage",
    "admin_router",
]

Admin = Annotated[AuthenticatedUser, Depends(require_roles("admin"))]
RoleName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]
MAX_PAGE = 100
MAX_OFFSET = 2**63 - 1  # what a database can bind; beyond it a 422, not a driver error


class RoleAssignment(BaseModel):
    roles: list[RoleName] = Field(max_length=100)


class UserByEmail(BaseModel):
    email: str = Field(max_length=320)


class UserQuery(BaseModel):
    """`GET /admin/users` filters: `q` in email or display name, exact `status` and `role`."""

    q: str | None = Field(default=None, max_length=320)
    status: str | None = Field(default=None, max_length=20)
    role: str | None = Field(default=None, max_length=100)
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


class UserPage(BaseModel):
    items: list[UserOut]
    total: int
    limit: int
    offset: int


class AuditEventOut(BaseModel):
    id: uuid.UUID
    occurred_at: datetime
    type: str
    outcome: str
    user_id: uuid.UUID | None
    actor_id: uuid.UUID | None
    request_id: str | None
    ip: str | None
    user_agent: str | None
    detail: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditEventOut]


async def _user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFoundError("No such user.")
    return user


async def _user_by_email(session: AsyncSession, issuer: str, email: str) -> User:
    try:
        normalized = normalize_email(email)
    except ValueError:
        raise NotFoundError("No such user.") from None
    user = await session.scalar(select(User).where(User.issuer == issuer, User.email == normalized))
    if user is None:
        raise NotFoundError("No such user.")
    return user


def _refuse_self(admin: AuthenticatedUser, user: User, action: str) -> None:
    if user.subject == admin.subject:
        raise PermissionDeniedError(f"You cannot {action} yourself.")


async def _actor_id(session: AsyncSession, accounts: Accounts, admin: AuthenticatedUser) -> Any:
    return await session.scalar(
        select(User.id).where(
            User.issuer == accounts.settings.issuer, User.subject == admin.subject
        )
    )


def admin_router(prefix: str) -> APIRouter:
    router = APIRouter(prefix=f"{prefix}/admin", tags=["auth admin"])
    _listing(router)
    _roles(router)
    _bans(router)
    return router


def _filters(q: str | None, status_: str | None, role: str | None) -> list[ColumnElement[bool]]:
    criteria: list[ColumnElement[bool]] = []
    if q:
        needle = q.lower()
        criteria.append(
            or_(
                func.lower(User.email).contains(needle, autoescape=True),
                func.lower(User.display_name).contains(needle, autoescape=True),
            )
        )
    if status_:
        criteria.append(User.status == status_)
    if role:
        criteria.append(User.id.in_(select(UserRole.user_id).where(UserRole.role == role)))
    return criteria


def _listing(router: APIRouter) -> None:
    @router.get("/users")
    async def list_users(
        query: Annotated[UserQuery, Query()], admin: Admin, accounts: RequestAccounts
    ) -> UserPage:
        """Users whose email or display name contains `q` (case-insensitive), newest first."""
        criteria = _filters(query.q, query.status, query.role)
        async with accounts.database.session_scope(readonly=True) as session:
            total = await session.scalar(select(func.count()).select_from(User).where(*criteria))
            rows = await session.scalars(
                select(User)
                .where(*criteria)
                .order_by(User.created_at.desc(), User.id)
                .limit(query.limit)
                .offset(query.offset)
            )
            items = await describe_many(session, rows.all())
        return UserPage(items=items, total=total or 0, limit=query.limit, offset=query.offset)

    @router.get("/users/{user_id}")
    async def get_user(user_id: uuid.UUID, admin: Admin, accounts: RequestAccounts) -> UserOut:
        async with accounts.database.session_scope(readonly=True) as session:
            return await describe(session, await _user(session, user_id))

    @router.get("/users/{user_id}/audit")
    async def user_audit(
        user_id: uuid.UUID,
        admin: Admin,
        accounts: RequestAccounts,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    ) -> AuditPage:
        """The user's audit events (as subject or as actor), newest first."""
        async with accounts.database.session_scope(readonly=True) as session:
            await _user(session, user_id)
            rows = await session.scalars(
                select(AuditEvent)
                .where(or_(AuditEvent.user_id == user_id, AuditEvent.actor_id == user_id))
                .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id)
                .limit(limit)
            )
            items = [AuditEventOut.model_validate(row, from_attributes=True) for row in rows]
        return AuditPage(items=items)


def _roles(router: APIRouter) -> None:
    @router.put("/users/{user_id}/roles")
    async def set_roles(
        user_id: uuid.UUID, body: RoleAssignment, admin: Admin, accounts: RequestAccounts
    ) -> UserOut:
        async with accounts.database.session_scope() as session:
            user = await _user(session, user_id)
            _refuse_self(admin, user, "change the roles of")
            previous = await roles_of(session, user_id)
            await session.execute(delete(UserRole).where(UserRole.user_id == user_id))
            roles = sorted(set(body.roles))
            if roles:
                rows = [{"user_id": user_id, "role": role} for role in roles]
                await session.execute(insert(UserRole), rows)
            removed = set(previous) - set(roles)
            if removed:
                # Access tokens carry roles: those issued before now stop working on every
                # worker within a second, and the next refresh issues the reduced roles.
                await session.execute(
                    update(User).where(User.id == user_id).values(tokens_valid_after=utcnow())
                )
            out = await describe(session, user)
            actor_id = await _actor_id(session, accounts, admin)
        if removed:
            await accounts.forget_tokens_of(user.subject)
        detail = {"previous": previous, "roles": roles}
        accounts.audit(
            AuditType.ROLES_CHANGE,
            Outcome.SUCCESS,
            user_id=user_id,
            actor_id=actor_id,
            detail=detail,
        )
        accounts.emit("faster_auth_roles_changed", user=out, previous=previous, actor_id=actor_id)
        return out


def _bans(router: APIRouter) -> None:
    @router.post("/users/ban", status_code=status.HTTP_204_NO_CONTENT)
    async def ban_by_email(body: UserByEmail, admin: Admin, accounts: RequestAccounts) -> Response:
        await _set_status(accounts, admin, UserStatus.BANNED, email=body.email)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.post("/users/unban", status_code=status.HTTP_204_NO_CONTENT)
    async def unban_by_email(
        body: UserByEmail, admin: Admin, accounts: RequestAccounts
    ) -> Response:
        await _set_status(accounts, admin, UserStatus.ACTIVE, email=body.email)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.post("/users/{user_id}/ban", status_code=status.HTTP_204_NO_CONTENT)
    async def ban(user_id: uuid.UUID, admin: Admin, accounts: RequestAccounts) -> Response:
        await _set_status(accounts, admin, UserStatus.BANNED, user_id=user_id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.post("/users/{user_id}/unban", status_code=status.HTTP_204_NO_CONTENT)
    async def unban(user_id: uuid.UUID, admin: Admin, accounts: RequestAccounts) -> Response:
        await _set_status(accounts, admin, UserStatus.ACTIVE, user_id=user_id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _set_status(
    accounts: Accounts,
    admin: AuthenticatedUser,
    new_status: str,
    *,
    user_id: uuid.UUID | None = None,
    email: str | None = None,
) -> None:
    banning = new_status != UserStatus.ACTIVE
    async with accounts.database.session_scope() as session:
        if user_id is not None:
            user = await _user(session, user_id)
        else:
            user = await _user_by_email(session, accounts.settings.issuer, email or "")
        _refuse_self(admin, user, "ban" if banning else "unban")
        if banning:
            await revoke_user_tokens(session, user.id, utcnow())
        await session.execute(update(User).where(User.id == user.id).values(status=new_status))
        await session.refresh(user)
        out = await describe(session, user)
        subject = user.subject
        actor_id = await _actor_id(session, accounts, admin)
    if banning:
        await accounts.forget_tokens_of(subject)
    else:
        accounts.auth.users.forget(subject)
    kind = AuditType.BAN if banning else AuditType.UNBAN
    accounts.audit(kind, Outcome.SUCCESS, user_id=out.id, actor_id=actor_id)
    hook = "faster_auth_user_banned" if banning else "faster_auth_user_unbanned"
    accounts.emit(hook, user=out, actor_id=actor_id)
