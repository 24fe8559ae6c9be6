"""Leeway boundaries for `exp`, `iat` and `nbf`, +-1 s, under a frozen clock."""

from __future__ import annotations

from typing import Any

import pytest

from faster_auth import AuthSettings, InvalidTokenError, TokenVerifier, TrustedKey
from faster_auth.keys import load_signing_key
from faster_core import Environment
from tests.auth.minting import mint

NOW = 1_900_000_000
LEEWAY = 30


def verifier(private_pem: str) -> TokenVerifier:
    key = load_signing_key(AuthSettings(private_key=private_pem), Environment.TEST)
    return TokenVerifier(
        {key.kid: TrustedKey(key.public_key, key.algorithm)},
        issuer="urn:faster:local",
        audience=["faster"],
        leeway=LEEWAY,
        max_token_bytes=8192,
        clock=lambda: float(NOW),
    )


@pytest.mark.parametrize(
    ("overrides", "accepted"),
    [
        ({"exp": NOW - LEEWAY + 1}, True),
        ({"exp": NOW - LEEWAY - 1}, False),
        ({"iat": NOW + LEEWAY - 1}, True),
        ({"iat": NOW + LEEWAY + 1}, False),
        ({"nbf": NOW + LEEWAY - 1}, True),
        ({"nbf": NOW + LEEWAY + 1}, False),
        ({"exp": "never"}, False),
        ({"iat": True}, False),
    ],
)
def test_leeway_boundaries(private_pem: str, overrides: dict[str, object], accepted: bool) -> None:
    times: dict[str, Any] = {"iat": NOW, "exp": NOW + 300}
    times.update(overrides)
    token = mint(private_pem, **times)
    check = verifier(private_pem)
    if accepted:
        assert check.verify(token).subject == "user-1"
    else:
        with pytest.raises(InvalidTokenError):
            check.verify(token)
