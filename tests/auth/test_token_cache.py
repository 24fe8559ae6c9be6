"""The verified-claims cache: hits until `exp` + leeway, bounded, and never for failures."""

from __future__ import annotations

import time

import pytest

from faster_auth import AuthSettings, InvalidTokenError, TokenIssuer, TokenVerifier, TrustedKey
from faster_auth.keys import SigningKey, load_signing_key
from faster_core import Environment


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def key(private_pem: str) -> SigningKey:
    return load_signing_key(AuthSettings(private_key=private_pem), Environment.TEST)


def issuer(key: SigningKey, ttl: int = 60) -> TokenIssuer:
    return TokenIssuer(key, issuer="urn:faster:local", audience="faster", ttl=ttl)


def verifier(key: SigningKey, clock: Clock, cache_size: int = 4096) -> TokenVerifier:
    return TokenVerifier(
        {key.kid: TrustedKey(key.public_key, key.algorithm)},
        issuer="urn:faster:local",
        audience=["faster"],
        leeway=30,
        max_token_bytes=8192,
        cache_size=cache_size,
        clock=clock,
    )


def test_a_verified_token_is_served_from_the_cache(key: SigningKey) -> None:
    check = verifier(key, Clock())
    token = issuer(key).issue("u")
    assert check.verify(token) is check.verify(token)


def test_a_cached_token_is_refused_once_expired(key: SigningKey) -> None:
    clock = Clock()
    check = verifier(key, clock)
    token = issuer(key, ttl=60).issue("u")
    check.verify(token)
    clock.now += 60 + 29
    check.verify(token)  # within the leeway
    clock.now += 2
    with pytest.raises(InvalidTokenError):
        check.verify(token)


def test_the_cache_is_bounded(key: SigningKey) -> None:
    check = verifier(key, Clock(), cache_size=2)
    tokens = [issuer(key).issue(f"u{i}") for i in range(3)]
    first = check.verify(tokens[0])
    check.verify(tokens[1])
    check.verify(tokens[2])  # evicts the oldest
    assert check.verify(tokens[0]) is not first
    assert check.verify(tokens[2]) is check.verify(tokens[2])


def test_a_cache_size_of_zero_disables_it(key: SigningKey) -> None:
    check = verifier(key, Clock(), cache_size=0)
    token = issuer(key).issue("u")
    assert check.verify(token) is not check.verify(token)


def test_a_refused_token_is_refused_again(key: SigningKey, private_pem: str) -> None:
    check = verifier(key, Clock())
    token = issuer(key).issue("u")
    head, payload, _ = token.split(".")
    forged = f"{head}.{payload}.{'A' * 86}"
    for _ in range(2):
        with pytest.raises(InvalidTokenError):
            check.verify(forged)
