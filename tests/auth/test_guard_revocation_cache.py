"""`Revocations`' per-process cache: TTL, shared look-ups, and what it may never forget."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from faster_auth.exceptions import InvalidTokenError, RevocationUnavailableError
from faster_auth.revocation import Revocations, RevocationStoreUnavailable
from faster_auth.tokens import VerifiedToken

pytestmark = pytest.mark.anyio


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingStore:
    """A revocation store in memory that counts look-ups and can be switched off."""

    def __init__(self) -> None:
        self.revoked: set[str] = set()
        self.lookups = 0
        self.down = False

    async def revoke_token(self, jti: str, expires_at: int) -> None:
        if self.down:
            raise RevocationStoreUnavailable
        self.revoked.add(jti)

    async def revoke_user(self, issuer: str, subject: str, after: datetime) -> None:
        raise NotImplementedError

    async def lookup(self, jti: str | None, subject: str) -> tuple[bool, int | None]:
        self.lookups += 1
        await asyncio.sleep(0.01)
        if self.down:
            raise RevocationStoreUnavailable
        return jti in self.revoked, None


def token(jti: str) -> VerifiedToken:
    return VerifiedToken("user-1", jti, 100, 2_000_000_000, frozenset(), {})


async def test_answers_are_reused_for_the_ttl_and_concurrent_misses_share_a_look_up() -> None:
    store, clock = CountingStore(), Clock()
    revocations = Revocations(store, issuer="urn:test", ttl=1.0, clock=clock)
    await asyncio.gather(*(revocations.check(token("a")) for _ in range(20)))
    assert store.lookups == 1
    store.revoked.add("a")  # as another worker would, without telling this one
    clock.now += 0.9
    await revocations.check(token("a"))
    assert revocations.admits(token("a"))
    clock.now += 0.1
    assert not revocations.admits(token("a"))
    with pytest.raises(InvalidTokenError):
        await revocations.check(token("a"))


async def test_a_known_revocation_holds_even_when_the_store_is_down_and_the_policy_open() -> None:
    store = CountingStore()
    revocations = Revocations(store, issuer="urn:test", fail_open=True, clock=Clock())
    await revocations.revoke_token("a", 2_000_000_000)
    store.down = True
    with pytest.raises(InvalidTokenError):
        await revocations.check(token("a"))
    await revocations.check(token("b"))  # unknown, store down, policy open: served
    assert revocations.unavailable_open == 1


async def test_a_closed_policy_answers_503_and_a_failed_revocation_is_not_silent() -> None:
    store = CountingStore()
    store.down = True
    revocations = Revocations(store, issuer="urn:test", retry_after=7, clock=Clock())
    with pytest.raises(RevocationUnavailableError) as refused:
        await revocations.check(token("b"))
    assert refused.value.headers["Retry-After"] == "7"
    with pytest.raises(RevocationUnavailableError):
        await revocations.revoke_token("b", 2_000_000_000)


async def test_a_revocation_from_another_worker_applies_at_once() -> None:
    store = CountingStore()
    revocations = Revocations(store, issuer="urn:test", clock=Clock())
    await revocations.check(token("a"))
    revocations.receive({"jti": "a"})
    assert not revocations.admits(token("a"))
    with pytest.raises(InvalidTokenError):
        await revocations.check(token("a"))


async def test_the_cache_is_bounded() -> None:
    revocations = Revocations(CountingStore(), issuer="urn:test", max_entries=10, clock=Clock())
    for n in range(50):
        await revocations.check(token(str(n)))
        await revocations.revoke_token(f"r{n}", 2_000_000_000)
    assert len(revocations._cache) <= 10


async def test_steady_traffic_renews_answers_in_the_background_and_never_waits() -> None:
    store, clock = CountingStore(), Clock()
    revocations = Revocations(store, issuer="urn:test", ttl=1.0, clock=clock)
    await revocations.check(token("a"))
    clock.now += 0.6
    assert revocations.admits(token("a"))  # served, and a renewal starts
    assert revocations.admits(token("a"))  # one renewal at a time
    await asyncio.sleep(0.05)
    assert store.lookups == 2
    clock.now += 0.6  # 1.2 s after the first answer, 0.6 s after the renewal
    assert revocations.admits(token("a"))
    store.revoked.add("a")
    await asyncio.sleep(0.05)  # the renewal started above reads the revocation
    assert not revocations.admits(token("a"))
