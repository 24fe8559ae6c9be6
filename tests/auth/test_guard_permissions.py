"""`require_permissions(...)`: roles -> permissions from the config store, live on every worker."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import anyio
import pytest
from fastapi import APIRouter, Depends, FastAPI

from faster_auth import AuthenticatedUser
from faster_auth.guard import Guard
from faster_auth.permissions import CATEGORY, require_permissions
from faster_core.testing import client_for
from faster_db import ConfigStore
from tests.auth.test_guard_revocation import guard_app

pytestmark = pytest.mark.anyio


def invoices_router() -> APIRouter:
    router = APIRouter()

    @router.delete("/invoices/{invoice_id}")
    async def delete_invoice(
        invoice_id: int,
        user: Annotated[AuthenticatedUser, Depends(require_permissions("invoices:delete"))],
    ) -> dict[str, Any]:
        return {"deleted": invoice_id, "by": user.subject}

    @router.get("/reports", dependencies=[Depends(require_permissions("reports:read", "x:y"))])
    async def reports() -> dict[str, str]:
        return {"ok": "yes"}

    return router


def worker(tmp_path: Path, private_pem: str) -> FastAPI:
    app = guard_app(tmp_path / "app.db", private_pem)
    app.include_router(invoices_router())
    return app


def bearer(app: FastAPI, subject: str, *roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {app.state.auth.issuer.issue(subject, roles=roles)}"}


async def test_permissions_follow_the_roles_map(tmp_path: Path, private_pem: str) -> None:
    app = worker(tmp_path, private_pem)
    async with client_for(app) as client:
        guard: Guard = app.state.auth_guard
        await guard.permissions.set_role("accountant", ["invoices:delete", "reports:read"])
        await guard.permissions.set_role("auditor", ["x:y"])
        await guard.permissions.set_role("root", ["*"])
        accountant = bearer(app, "u1", "accountant")
        assert (await client.delete("/invoices/7")).status_code == 401
        allowed = await client.delete("/invoices/7", headers=accountant)
        assert allowed.json() == {"deleted": 7, "by": "u1"}
        refused = await client.delete("/invoices/7", headers=bearer(app, "u2", "auditor"))
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        # Every permission is needed; several roles add up.
        assert (await client.get("/reports", headers=accountant)).status_code == 403
        both = bearer(app, "u3", "accountant", "auditor")
        assert (await client.get("/reports", headers=both)).status_code == 200
        assert (await client.get("/reports", headers=bearer(app, "u4", "root"))).status_code == 200
        nobody = bearer(app, "u5", "unknown-role")
        assert (await client.get("/reports", headers=nobody)).status_code == 403


async def test_a_change_in_the_store_reaches_every_worker_within_a_second(
    tmp_path: Path, private_pem: str
) -> None:
    worker_a, worker_b = worker(tmp_path, private_pem), worker(tmp_path, private_pem)
    async with client_for(worker_a), client_for(worker_b) as b:
        headers = bearer(worker_a, "u1", "clerk")
        assert (await b.delete("/invoices/1", headers=headers)).status_code == 403  # cached
        async with worker_a.state.db.session_scope() as session:  # any config-store writer
            await ConfigStore(session).set(CATEGORY, "clerk", ["invoices:delete"])
        changed = time.monotonic()
        while (await b.delete("/invoices/1", headers=headers)).status_code == 403:
            assert time.monotonic() - changed < 1.2
            await anyio.sleep(0.02)
        await worker_a.state.auth_guard.permissions.revoke("clerk", "invoices:delete")
        changed = time.monotonic()
        while (await b.delete("/invoices/1", headers=headers)).status_code == 200:
            assert time.monotonic() - changed < 1.2
            await anyio.sleep(0.02)


async def test_grant_and_revoke_edit_one_role(tmp_path: Path, private_pem: str) -> None:
    app = worker(tmp_path, private_pem)
    async with client_for(app):
        permissions = app.state.auth_guard.permissions
        await permissions.grant("editor", "posts:write", "posts:read")
        await permissions.grant("editor", "posts:read")
        await permissions.revoke("editor", "posts:write")
        assert await permissions.role_map() == {"editor": ["posts:read"]}


def test_require_permissions_needs_a_permission() -> None:
    with pytest.raises(ValueError, match="at least one permission"):
        require_permissions()
