"""The user mirror and the Supabase event endpoints, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import random
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import create_async_engine

from faster_auth.models import User
from faster_core.testing import client_for
from tests.auth.ext_apps import bearer, external_app
from tests.auth.ext_issuer import IdentityProvider, running_provider
from tests.auth.ext_postgres import ext_db_url, ext_postgres

__all__ = ["ext_db_url", "ext_postgres"]  # fixtures, imported to be found

pytestmark = pytest.mark.anyio

SERVICE_KEY = "service-role-key-that-must-never-be-logged"


@pytest.fixture
def idp() -> Iterator[IdentityProvider]:
    with running_provider() as provider:
        yield provider


def supabase_claims(idp: IdentityProvider, subject: str, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": idp.issuer + "/auth/v1",
        "aud": "authenticated",
        "sub": subject,
        "iat": now,
        "exp": now + 300,
        "role": "authenticated",
        "email": f"{subject}@example.com",
    }
    return {**claims, **extra}


def token(idp: IdentityProvider, subject: str, **extra: Any) -> str:
    return idp.keys[0].mint(supabase_claims(idp, subject, **extra))


def named(idp: IdentityProvider, subject: str, name: str, age: int) -> str:
    """A token for `subject` issued `age` seconds ago whose metadata names it `name`."""
    issued = int(time.time()) - age
    return token(idp, subject, iat=issued, user_metadata={"full_name": name})


def supabase_app(idp: IdentityProvider, db_url: str, **extra: Any) -> Any:
    return external_app(db_url, provider="supabase", supabase_url=idp.issuer, **extra)


async def users(db_url: str) -> dict[str, User]:
    engine = create_async_engine(db_url)
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(select(User))).all()
    finally:
        await engine.dispose()
    return {row.subject: row for row in rows}  # type: ignore[misc]


async def test_first_sight_of_a_subject_creates_its_user(
    idp: IdentityProvider, ext_db_url: str
) -> None:
    async with client_for(supabase_app(idp, ext_db_url)) as client:
        response = await client.get("/me", headers=bearer(named(idp, "ada", "Ada L.", 0)))
        assert response.status_code == 200
    mirrored = await users(ext_db_url)
    assert list(mirrored) == ["ada"]
    ada = mirrored["ada"]
    assert (ada.issuer, ada.email, ada.display_name) == (
        idp.issuer + "/auth/v1",
        "ada@example.com",
        "Ada L.",
    )
    assert ada.status == "active"
    assert ada.last_sign_in_at is not None


async def test_a_bad_token_mirrors_nobody(idp: IdentityProvider, ext_db_url: str) -> None:
    async with client_for(supabase_app(idp, ext_db_url)) as client:
        forged = token(idp, "mallory", aud="someone-else")
        assert (await client.get("/me", headers=bearer(forged))).status_code == 401
        assert (await client.get("/maybe", headers=bearer(forged))).status_code == 401
    assert await users(ext_db_url) == {}


async def test_an_email_held_by_another_subject_is_not_copied(
    idp: IdentityProvider, ext_db_url: str
) -> None:
    async with client_for(supabase_app(idp, ext_db_url)) as client:
        first = token(idp, "first", email="shared@example.com")
        second = token(idp, "second", email="shared@example.com")
        assert (await client.get("/me", headers=bearer(first))).status_code == 200
        assert (await client.get("/me", headers=bearer(second))).status_code == 200
        update = named(idp, "second", "Second", 0)
        response = await client.post("/auth/callback/USER_UPDATED", headers=bearer(update))
        assert response.status_code == 202
    mirrored = await users(ext_db_url)
    assert mirrored["first"].email == "shared@example.com"
    assert mirrored["second"].email == "second@example.com"  # from the update's own claims
    assert mirrored["second"].display_name == "Second"


async def test_an_older_update_never_overwrites_a_newer_one(
    idp: IdentityProvider, ext_db_url: str
) -> None:
    async with client_for(supabase_app(idp, ext_db_url)) as client:
        newer, older = named(idp, "bo", "Newer", 5), named(idp, "bo", "Older", 50)
        for event_token in (newer, older):
            response = await client.post("/auth/callback/USER_UPDATED", headers=bearer(event_token))
            assert response.status_code == 202
            await asyncio.sleep(0.2)  # let the background sync finish: the older one comes last
    assert (await users(ext_db_url))["bo"].display_name == "Newer"


async def test_a_sync_keeps_the_other_keys_of_the_attributes(
    idp: IdentityProvider, ext_db_url: str
) -> None:
    async with client_for(supabase_app(idp, ext_db_url)) as client:
        assert (
            await client.get("/me", headers=bearer(named(idp, "di", "Di", 30)))
        ).status_code == 200
    engine = create_async_engine(ext_db_url)
    async with engine.begin() as connection:
        onboarding = {"onboarding": {"step": 2}, "identity_version": 1.0}
        await connection.execute(update(User).values(attributes=onboarding))
    await engine.dispose()
    async with client_for(supabase_app(idp, ext_db_url)) as client:
        response = await client.post(
            "/auth/callback/USER_UPDATED", headers=bearer(named(idp, "di", "Dee", 0))
        )
        assert response.status_code == 202
    di = (await users(ext_db_url))["di"]
    assert di.display_name == "Dee"
    assert di.attributes["onboarding"] == {"step": 2}
    assert di.attributes["identity_version"] > 1.0


async def test_signed_out_revokes_the_presented_token(
    idp: IdentityProvider, ext_db_url: str
) -> None:
    async with client_for(supabase_app(idp, ext_db_url)) as client:
        session = token(idp, "fay", jti=str(uuid.uuid4()))
        other = token(idp, "fay", jti=str(uuid.uuid4()))
        assert (await client.get("/me", headers=bearer(session))).status_code == 200
        response = await client.post("/auth/callback/SIGNED_OUT", headers=bearer(session))
        assert response.status_code == 202
        assert (await client.get("/me", headers=bearer(session))).status_code == 401
        assert (await client.get("/me", headers=bearer(other))).status_code == 200


async def test_a_banned_mirrored_user_is_refused(idp: IdentityProvider, ext_db_url: str) -> None:
    async with client_for(supabase_app(idp, ext_db_url)) as client:
        assert (await client.get("/me", headers=bearer(token(idp, "gus")))).status_code == 200
        engine = create_async_engine(ext_db_url)
        async with engine.begin() as connection:
            await connection.execute(
                update(User).where(User.subject == "gus").values(status="banned")
            )
        await engine.dispose()
        await asyncio.sleep(1.05)  # the user check's cache: at most a second
        assert (await client.get("/me", headers=bearer(token(idp, "gus")))).status_code == 401


async def test_a_sync_waits_out_a_locked_database(idp: IdentityProvider, tmp_path: Path) -> None:
    """SQLite's write lock held longer than its busy timeout: the sync is retried, not lost."""
    path = tmp_path / "locked.db"
    url = f"sqlite+aiosqlite:///{path}"
    app = supabase_app(idp, url, db={"sqlite_busy_timeout": 0.1})
    async with client_for(app) as client:
        assert (
            await client.get("/me", headers=bearer(named(idp, "hal", "Hal", 60)))
        ).status_code == 200
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another process holding the write lock
        try:
            update_token = named(idp, "hal", "Hal 9000", 0)
            response = await client.post(
                "/auth/callback/USER_UPDATED", headers=bearer(update_token)
            )
            assert response.status_code == 202
            await asyncio.sleep(0.8)  # a few attempts fail meanwhile
        finally:
            blocker.execute("COMMIT")
            blocker.close()
        mirror = app.state.auth.external.mirror
        await asyncio.wait_for(mirror.aclose(), 15)
    assert (await users(url))["hal"].display_name == "Hal 9000"


async def test_every_event_endpoint_exists_and_needs_a_valid_token(
    idp: IdentityProvider, ext_db_url: str
) -> None:
    paths = [
        *(
            f"/auth/callback/{e}"
            for e in ("SIGNED_IN", "SIGNED_OUT", "TOKEN_REFRESHED", "USER_UPDATED")
        ),
        *(
            f"/auth/notification/{e}"
            for e in ("INITIAL_SESSION", "PASSWORD_RECOVERY", "USER_UPDATED")
        ),
    ]
    async with client_for(supabase_app(idp, ext_db_url)) as client:
        for path in paths:
            assert (await client.post(path)).status_code == 401
            response = await client.post(path, headers=bearer(token(idp, "eve")))
            assert response.status_code == 202, response.text
            assert response.json()["event"] == path.rsplit("/", 1)[1]
        assert (
            await client.post("/auth/callback/PASSWORD_RECOVERY", headers=bearer(token(idp, "eve")))
        ).status_code == 422
        assert (
            await client.post("/auth/notification/SIGNED_IN", headers=bearer(token(idp, "eve")))
        ).status_code == 422


async def test_signed_in_records_the_sign_in_time(idp: IdentityProvider, ext_db_url: str) -> None:
    async with client_for(supabase_app(idp, ext_db_url)) as client:
        await client.get("/me", headers=bearer(token(idp, "cy", iat=int(time.time()) - 60)))
    first = (await users(ext_db_url))["cy"].last_sign_in_at
    async with client_for(supabase_app(idp, ext_db_url)) as client:
        await asyncio.sleep(0.01)
        response = await client.post("/auth/callback/SIGNED_IN", headers=bearer(token(idp, "cy")))
        assert response.status_code == 202
    again = (await users(ext_db_url))["cy"].last_sign_in_at
    assert first is not None
    assert again is not None
    assert again > first


async def test_user_updated_reads_the_admin_api_when_a_service_key_is_set(
    idp: IdentityProvider, ext_db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    subject = str(uuid.uuid4())
    idp.admin_users[subject] = {
        "id": subject,
        "email": "Real@Example.com",
        "updated_at": "2030-01-01T00:00:00.000001Z",
        "user_metadata": {"full_name": "From The Admin API"},
    }
    app = supabase_app(idp, ext_db_url, supabase_service_key=SERVICE_KEY)
    async with client_for(app) as client:
        claims_name = named(idp, subject, "From The Token", 0)
        response = await client.post("/auth/notification/USER_UPDATED", headers=bearer(claims_name))
        assert response.status_code == 202
    mirrored = (await users(ext_db_url))[subject]
    assert mirrored.display_name == "From The Admin API"
    assert mirrored.email == "real@example.com"
    assert idp.admin_headers[-1]["apikey"] == SERVICE_KEY
    assert SERVICE_KEY not in caplog.text
    assert SERVICE_KEY not in repr(app.state.auth)


async def test_the_admin_client_fetches_and_deletes_users(
    idp: IdentityProvider, ext_db_url: str
) -> None:
    subject = str(uuid.uuid4())
    idp.admin_users[subject] = {"id": subject, "email": "x@example.com"}
    app = supabase_app(idp, ext_db_url, supabase_service_key=SERVICE_KEY)
    async with client_for(app):
        admin = app.state.auth.external.supabase
        assert (await admin.get_user(subject))["email"] == "x@example.com"
        assert await admin.delete_user(subject) is True
        assert await admin.get_user(subject) is None
        assert await admin.delete_user(subject) is False
        with pytest.raises(ValueError, match="UUID"):
            await admin.get_user("../../admin/secrets")
        idp.mode = "fail"
        from faster_auth.exceptions import IdentityProviderUnavailableError

        with pytest.raises(IdentityProviderUnavailableError):
            await admin.get_user(subject)
    assert idp.deleted == [subject]


async def test_concurrent_first_sign_ins_and_events_make_one_user_each_and_the_last_update_wins(
    idp: IdentityProvider, ext_db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """1,000 requests in bursts of 20 per subject for 50 new subjects, with SIGNED_IN and
    USER_UPDATED events firing background syncs at the same time, in shuffled order.

    Ten subjects' bursts run at once (240 requests in flight): every burst races on its own new
    subject, and the bounded overlap keeps a loaded 2-core machine out of pool timeouts.
    """
    caplog.set_level(logging.WARNING)
    overlap = asyncio.Semaphore(10)
    subjects = [f"new-{n}" for n in range(50)]
    expected = {s: f"{s} v3" for s in subjects}
    async with client_for(supabase_app(idp, ext_db_url)) as client:

        async def get(t: str) -> int:
            return (await client.get("/me", headers=bearer(t))).status_code

        async def event(path: str, t: str) -> int:
            return (await client.post(path, headers=bearer(t))).status_code

        async def subject_burst(subject: str) -> list[int]:
            first = named(idp, subject, f"{subject} v0", 100)
            calls = [get(first) for _ in range(20)]
            calls.append(
                event("/auth/callback/SIGNED_IN", named(idp, subject, f"{subject} v1", 60))
            )
            updates = [(f"{subject} v{v}", 60 - 15 * v) for v in (2, 3)]
            updates.append((f"{subject} stale", 90))
            random.shuffle(updates)
            calls += [
                event("/auth/callback/USER_UPDATED", named(idp, subject, n, a)) for n, a in updates
            ]
            random.shuffle(calls)
            async with overlap:
                return list(await asyncio.gather(*calls))

        results = await asyncio.gather(*(subject_burst(s) for s in subjects))
    statuses = [status for burst in results for status in burst]
    assert len(statuses) == 50 * 24
    assert all(status < 500 for status in statuses), sorted(set(statuses))
    assert set(statuses) == {200, 202}
    problems = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert not [m for m in problems if "Integrity" in m or "Conflict" in m], problems
    mirrored = await users(ext_db_url)
    assert sorted(mirrored) == sorted(subjects)
    assert {s: u.display_name for s, u in mirrored.items()} == expected


def test_the_event_paths_are_documented(idp: IdentityProvider, tmp_path: Any) -> None:
    app = supabase_app(idp, f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    paths = app.openapi()["paths"]
    assert "/auth/callback/{event}" in paths
    assert "/auth/notification/{event}" in paths
    events = paths["/auth/callback/{event}"]["post"]["parameters"][0]["schema"]
    assert events == {"$ref": "#/components/schemas/CallbackEvent"} or "enum" in str(events)
