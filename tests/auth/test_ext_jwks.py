"""The JWKS cache against a real issuer on loopback: rotation, floods, outages, hangs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from faster_auth.jwks import parse_jwks
from faster_core.testing import client_for
from tests.auth.ext_apps import assert_invalid, bearer, external_app, sqlite_url
from tests.auth.ext_issuer import JWKS_PATH, IdentityProvider, SigningKeyPair, running_provider
from tests.auth.minting import segment

pytestmark = pytest.mark.anyio


@pytest.fixture
def idp() -> Iterator[IdentityProvider]:
    with running_provider() as provider:
        yield provider


def jwks_app(idp: IdentityProvider, tmp_path: Path, **overrides: Any) -> Any:
    settings: dict[str, Any] = {
        "provider": "jwks",
        "issuer": idp.issuer,
        "audience": "api",
        "jwks_url": idp.issuer + JWKS_PATH,
        **overrides,
    }
    return external_app(sqlite_url(tmp_path), **settings)


async def get_me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/me", headers=bearer(token))


async def test_a_token_of_the_issuer_is_accepted_and_keys_are_fetched_once(
    idp: IdentityProvider, tmp_path: Path
) -> None:
    async with client_for(jwks_app(idp, tmp_path)) as client:
        for subject in ("a", "b", "c"):
            response = await get_me(client, idp.mint(subject, roles=["reader"]))
            assert response.status_code == 200, response.text
            assert response.json() == {"sub": subject, "roles": ["reader"]}
    assert idp.jwks_fetches() == 1  # at start-up only


async def test_a_rotated_key_is_accepted_on_first_use_with_one_extra_fetch(
    idp: IdentityProvider, tmp_path: Path
) -> None:
    async with client_for(jwks_app(idp, tmp_path)) as client:
        assert (await get_me(client, idp.mint())).status_code == 200
        idp.keys.append(SigningKeyPair())  # the issuer rotates: a new key signs from now on
        new_tokens = [idp.mint(f"user-{n}", key=1) for n in range(20)]
        responses = await asyncio.gather(*(get_me(client, token) for token in new_tokens))
        assert [r.status_code for r in responses] == [200] * 20
        assert (await get_me(client, idp.mint(key=0))).status_code == 200  # old key still listed
    assert idp.jwks_fetches() == 2


async def test_a_flood_of_forged_kids_costs_at_most_one_fetch_per_cooldown(
    idp: IdentityProvider, tmp_path: Path
) -> None:
    signed = SigningKeyPair().mint(idp.claims())
    _, payload, signature = signed.split(".")
    forged = [  # plausible claims, each with its own kid, signed by nobody we trust
        f"{segment({'alg': 'EdDSA', 'typ': 'JWT', 'kid': f'forged-{n}'})}.{payload}.{signature}"
        for n in range(10_000)
    ]
    async with client_for(jwks_app(idp, tmp_path, jwks_cooldown=300)) as client:
        statuses: set[int] = set()
        for start in range(0, len(forged), 100):
            batch = forged[start : start + 100]
            responses = await asyncio.gather(*(get_me(client, token) for token in batch))
            statuses.update(r.status_code for r in responses)
        assert statuses == {401}
        assert (await get_me(client, idp.mint())).status_code == 200
    assert idp.jwks_fetches() <= 2


async def test_after_the_cooldown_an_unknown_kid_may_fetch_again(
    idp: IdentityProvider, tmp_path: Path
) -> None:
    forger = SigningKeyPair()
    async with client_for(jwks_app(idp, tmp_path, jwks_cooldown=2)) as client:
        assert_invalid(await get_me(client, forger.mint(idp.claims(), kid="one")))
        assert_invalid(await get_me(client, forger.mint(idp.claims(), kid="two")))
        assert idp.jwks_fetches() == 2
        await asyncio.sleep(2.1)
        assert_invalid(await get_me(client, forger.mint(idp.claims(), kid="three")))
    assert idp.jwks_fetches() == 3


async def test_an_implausible_token_never_causes_a_fetch(
    idp: IdentityProvider, tmp_path: Path
) -> None:
    forger = SigningKeyPair()
    async with client_for(jwks_app(idp, tmp_path)) as client:
        cases = [
            forger.mint(idp.claims(iss="https://elsewhere.example"), kid="a"),
            forger.mint(idp.claims(exp=int(time.time()) - 3600), kid="b"),
            forger.mint(idp.claims(), kid="../../etc/passwd"),
            forger.mint(idp.claims(), kid="x" * 500),
        ]
        for token in cases:
            assert_invalid(await get_me(client, token))
    assert idp.jwks_fetches() == 1


async def test_a_warm_cache_keeps_working_through_an_issuer_outage(
    idp: IdentityProvider, tmp_path: Path
) -> None:
    app = jwks_app(idp, tmp_path, jwks_ttl=0.2, jwks_retry_after=1)
    async with client_for(app) as client:
        assert (await get_me(client, idp.mint("before"))).status_code == 200
        idp.mode = "fail"
        await asyncio.sleep(0.3)  # past the TTL: refreshes are due, and they fail
        for n in range(20):
            response = await get_me(client, idp.mint(f"during-{n}"))
            assert response.status_code == 200, response.text
        health = (await client.get("/health")).json()
        check = next(c for c in health["checks"] if c["name"] == "identity-provider")
        assert check["status"] == "pass"
        assert check["degraded"] is True
        idp.mode = "ok"
        await asyncio.sleep(1.1)  # past the retry pause: the next due refresh succeeds
        assert (await get_me(client, idp.mint("after"))).status_code == 200
        keys = app.state.auth.external.keys
        for _ in range(100):  # the refresh runs in the background
            if not keys.stale:
                break
            await asyncio.sleep(0.05)
        health = (await client.get("/health")).json()
        check = next(c for c in health["checks"] if c["name"] == "identity-provider")
        assert check["degraded"] is False


async def test_stale_keys_are_dropped_after_the_bounded_window(
    idp: IdentityProvider, tmp_path: Path
) -> None:
    app = jwks_app(idp, tmp_path, jwks_ttl=1, jwks_stale_for=1, jwks_retry_after=60)
    async with client_for(app) as client:
        assert (await get_me(client, idp.mint("before"))).status_code == 200
        idp.mode = "fail"
        await asyncio.sleep(2.1)
        response = await get_me(client, idp.mint("after the window"))
        assert response.status_code == 503
        assert response.headers["retry-after"] == "60"


async def test_a_cold_cache_with_the_issuer_down_answers_503_never_401(
    idp: IdentityProvider, tmp_path: Path
) -> None:
    idp.mode = "fail"
    async with client_for(jwks_app(idp, tmp_path, jwks_retry_after=60)) as client:
        for _ in range(10):
            response = await get_me(client, idp.mint())
            assert response.status_code == 503, response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["retry-after"] == "60"
            assert response.json()["type"] == "urn:faster:problem:identity-provider-unavailable"
        assert (await client.get("/health/ready")).status_code == 503
        assert idp.jwks_fetches() == 1  # the failed start-up fetch; retries wait 60 s
        assert_invalid(await client.get("/me"))  # no token at all is still a 401


async def test_a_cold_cache_recovers_when_the_issuer_comes_back(
    idp: IdentityProvider, tmp_path: Path
) -> None:
    idp.mode = "fail"
    async with client_for(jwks_app(idp, tmp_path, jwks_retry_after=1)) as client:
        assert (await get_me(client, idp.mint())).status_code == 503
        idp.mode = "ok"
        await asyncio.sleep(1.05)
        assert (await get_me(client, idp.mint())).status_code == 200
        assert (await client.get("/health/ready")).status_code == 200


async def test_an_unreachable_port_is_a_503(tmp_path: Path) -> None:
    with running_provider() as idp:
        token = idp.mint()
        issuer = idp.issuer
    app = external_app(
        sqlite_url(tmp_path),
        provider="jwks",
        issuer=issuer,
        audience="api",
        jwks_url=issuer + JWKS_PATH,
    )
    async with client_for(app) as client:
        assert (await get_me(client, token)).status_code == 503


async def test_a_hanging_issuer_is_bounded_by_the_timeout_with_one_fetch_in_flight(
    idp: IdentityProvider, tmp_path: Path
) -> None:
    idp.mode = "hang"
    app = jwks_app(idp, tmp_path, jwks_timeout=0.5, jwks_retry_after=60)
    started = time.monotonic()
    async with client_for(app) as client:
        startup = time.monotonic() - started
        assert startup < 15
        # Cold cache: 50 concurrent requests share the (cooled-down) state: 503s, no pile-up.
        begun = time.monotonic()
        responses = await asyncio.gather(*(get_me(client, idp.mint()) for _ in range(50)))
        assert {r.status_code for r in responses} == {503}
        assert time.monotonic() - begun < 15  # the server hangs for 30 s
        assert app.state.auth.external.keys.fetches == 1  # attempts made by the app
    # The server may not have read a timed-out request yet on a loaded machine: at most one.
    assert idp.max_in_flight <= 1
    assert idp.jwks_fetches() <= 1


async def test_a_hanging_refresh_is_shared_and_bounded(
    idp: IdentityProvider, tmp_path: Path
) -> None:
    app = jwks_app(idp, tmp_path, jwks_timeout=0.5, jwks_cooldown=300)
    async with client_for(app) as client:
        idp.mode = "hang"
        rotated = SigningKeyPair()
        tokens = [rotated.mint(idp.claims(f"u{n}")) for n in range(30)]
        begun = time.monotonic()
        responses = await asyncio.gather(*(get_me(client, token) for token in tokens))
        assert time.monotonic() - begun < 15  # the server hangs for 30 s
        assert {r.status_code for r in responses} == {401}  # warm cache: an unknown kid
        assert (await get_me(client, idp.mint())).status_code == 200
        assert app.state.auth.external.keys.fetches == 2  # start-up, and one shared refresh
    assert idp.max_in_flight <= 1
    assert idp.jwks_fetches() <= 2


def test_parse_jwks_keeps_only_public_signing_keys_with_an_allowed_algorithm() -> None:
    pair = SigningKeyPair()
    public = pair.public_jwk()
    private = {**pair.key.as_dict(private=True), "kid": "private"}
    document = {
        "keys": [
            public,
            {**public, "kid": "enc", "use": "enc"},
            private,
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac", "alg": "HS256"},
            {**public, "kid": "wrong-alg", "alg": "HS256"},
            {**public, "kid": None},
            {"kty": "RSA", "kid": "broken", "n": "AQAB", "e": "nope"},
            "not a key",
        ]
    }
    keys = parse_jwks(document, ["EdDSA", "RS256", "HS256"])
    assert list(keys) == [pair.kid]
    assert keys[pair.kid].algorithm == "EdDSA"
    assert parse_jwks(document, ["RS256"]) == {}
    assert parse_jwks({"keys": "nope"}, ["EdDSA"]) == {}
    assert parse_jwks([], ["EdDSA"]) == {}


async def test_key_cache_metrics_follow_the_running_app(
    idp: IdentityProvider, tmp_path: Path
) -> None:
    prometheus_client = pytest.importorskip("prometheus_client")
    import faster_auth.plugin

    registry = prometheus_client.CollectorRegistry()
    app = jwks_app(idp, tmp_path, jwks_retry_after=60)
    faster_auth.plugin.faster_observability_metrics(registry=registry, host=app.state.faster)
    assert registry.get_sample_value("faster_auth_jwks_fetches_total") is None  # not started
    async with client_for(app) as client:
        assert registry.get_sample_value("faster_auth_jwks_fetches_total") == 1.0
        assert registry.get_sample_value("faster_auth_identity_provider_available") == 1.0
        idp.mode = "fail"
        await app.state.auth.external.keys.refresh()
        assert registry.get_sample_value("faster_auth_jwks_fetch_failures_total") == 1.0
        assert (await get_me(client, idp.mint())).status_code == 200  # still warm
    assert registry.get_sample_value("faster_auth_jwks_fetches_total") is None
