"""The password policy: length bounds and the common-password check (passwords.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from faster_auth.exceptions import WeakPasswordError
from faster_auth.passwords import PasswordPolicy
from faster_core.testing import client_for
from tests.auth.acct_kit import accounts_app, register


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("short", "at least 10"),
        ("y" * 65, "at most 64"),
        ("Password123", "too common"),
        ("QWERTYUIOP", "too common"),
        ("ada.lovelace", "too common"),  # the email's own local part
        ("ada.lovelace@example.com", "too common"),
    ],
)
def test_the_policy_names_the_rule_broken(password: str, rule: str) -> None:
    policy = PasswordPolicy(min_length=10, max_length=64)
    with pytest.raises(WeakPasswordError) as caught:
        policy.check(password, email="ada.lovelace@example.com")
    assert rule in caught.value.detail


def test_good_passwords_pass_and_the_common_check_can_be_off() -> None:
    PasswordPolicy(min_length=10).check("correct horse battery", email="ada@example.com")
    PasswordPolicy(min_length=10, check_common=False).check("password123")


@pytest.mark.anyio
async def test_registration_applies_the_configured_policy(tmp_path: Path, private_pem: str) -> None:
    app = accounts_app(tmp_path, private_pem, password_max_length=20)
    async with client_for(app) as client:
        common = await register(client, password="iloveyou123")
        assert common.status_code == 422
        assert "too common" in common.json()["detail"]
        long = await register(client, password="z" * 21)
        assert long.status_code == 422
        assert "at most 20" in long.json()["detail"]
        assert (await register(client, password="a fine passphrase")).status_code == 201
