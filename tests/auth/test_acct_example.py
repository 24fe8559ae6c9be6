"""The accounts example keeps working (examples/auth_accounts.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from examples.auth_accounts import Mailer
from faster_core.testing import client_for
from tests.auth.acct_kit import NEW_PASSWORD, accounts_app, login, register, settle

pytestmark = pytest.mark.anyio


async def test_the_mailer_delivers_reset_and_verification_links(
    tmp_path: Path, private_pem: str
) -> None:
    mailer = Mailer()
    app = accounts_app(tmp_path, private_pem, mailer)
    async with client_for(app) as client:
        await register(client)
        await client.post("/auth/password-reset", json={"email": "ada@example.com"})
        await settle(app)
        subjects = sorted(email.subject for email in mailer.outbox)
        assert subjects == ["Confirm your email", "Reset your password"]
        reset = next(e for e in mailer.outbox if e.subject == "Reset your password")
        token = reset.body.rpartition("#token=")[2]
        body = {"token": token, "new_password": NEW_PASSWORD}
        assert (await client.post("/auth/password-reset/confirm", json=body)).status_code == 204
        assert (await login(client, password=NEW_PASSWORD)).status_code == 200
    assert {email.to for email in mailer.outbox} == {"ada@example.com"}
