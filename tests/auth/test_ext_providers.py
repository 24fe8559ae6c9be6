"""Provider selection: jwks, oidc discovery, the Supabase preset and its legacy HS256 mode."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from faster_auth.providers import provider_problems
from faster_auth.settings import AuthSettings, unsafe_auth_settings
from faster_core import Environment, UnsafeSettingsError
from faster_core.testing import client_for
from tests.auth import minting
from tests.auth.ext_apps import assert_invalid, bearer, external_app, sqlite_url
from tests.auth.ext_issuer import (
    DISCOVERY_PATH,
    JWKS_PATH,
    SUPABASE_JWKS_PATH,
    IdentityProvider,
    running_provider,
)
from tests.auth.test_tokens import attack_corpus

pytestmark = pytest.mark.anyio

SECRET = "a-legacy-supabase-jwt-secret-of-enough-bytes"


@pytest.fixture
def idp() -> Iterator[IdentityProvider]:
    with running_provider() as provider:
        yield provider


async def get_me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/me", headers=bearer(token))


@pytest.mark.parametrize(
    ("settings", "variable"),
    [
        ({"provider": "jwks", "audience": "api", "jwks_url": "https://i/k"}, "FASTER_AUTH_ISSUER"),
        ({"provider": "jwks", "issuer": "https://i", "jwks_url": "https://i/k"}, "AUDIENCE"),
        ({"provider": "jwks", "issuer": "https://i", "audience": "api"}, "FASTER_AUTH_JWKS_URL"),
        ({"provider": "oidc", "audience": "api"}, "FASTER_AUTH_ISSUER"),
        ({"provider": "oidc", "issuer": "https://i"}, "FASTER_AUTH_AUDIENCE"),
        ({"provider": "oidc", "issuer": "ftp://i", "audience": "a"}, "FASTER_AUTH_ISSUER"),
        ({"provider": "supabase"}, "FASTER_AUTH_SUPABASE_URL"),
        (
            {"provider": "supabase", "supabase_url": "https://p", "supabase_jwt_secret": "short"},
            "FASTER_AUTH_SUPABASE_JWT_SECRET",
        ),
        (
            {
                "provider": "supabase",
                "supabase_url": "https://p",
                "supabase_jwt_secret": SECRET,
                "jwks_url": "https://p/keys",
            },
            "FASTER_AUTH_SUPABASE_JWT_SECRET",
        ),
        (
            {
                "provider": "jwks",
                "issuer": "https://i",
                "audience": "a",
                "jwks_url": "https://k",
                "external_algorithms": "HS256",
            },
            "FASTER_AUTH_EXTERNAL_ALGORITHMS",
        ),
    ],
)
def test_incomplete_provider_settings_refuse_to_start(
    tmp_path: Path, settings: dict[str, Any], variable: str
) -> None:
    with pytest.raises(UnsafeSettingsError, match=variable):
        external_app(sqlite_url(tmp_path), **settings)


def test_production_requires_https_for_the_issuer(tmp_path: Path) -> None:
    with pytest.raises(UnsafeSettingsError, match="FASTER_AUTH_JWKS_URL must use https"):
        external_app(
            sqlite_url(tmp_path),
            env="production",
            provider="jwks",
            issuer="https://issuer.example",
            audience="api",
            jwks_url="http://issuer.example/keys",
        )


def test_the_local_provider_without_the_db_plugin_refuses_to_start() -> None:
    with pytest.raises(UnsafeSettingsError, match="enable the 'db' plugin"):
        external_app(None)


def jwks_settings(idp: IdentityProvider, **overrides: Any) -> dict[str, Any]:
    return {
        "provider": "jwks",
        "issuer": idp.issuer,
        "audience": "api",
        "jwks_url": idp.issuer + JWKS_PATH,
        **overrides,
    }


async def test_an_external_provider_has_no_account_routes_and_signs_nothing(
    idp: IdentityProvider, tmp_path: Path
) -> None:
    app = external_app(sqlite_url(tmp_path), **jwks_settings(idp))
    async with client_for(app) as client:
        for path in ("/auth/register", "/auth/login", "/auth/token", "/auth/refresh"):
            assert (await client.post(path, json={})).status_code == 404
        assert (await client.get("/.well-known/jwks.json")).status_code == 404
        with pytest.raises(Exception, match="signs none"):
            _ = app.state.auth.issuer
        assert app.state.auth.jwks() == {"keys": []}


async def test_the_jwks_provider_refuses_the_whole_attack_corpus_without_fetching_for_it(
    idp: IdentityProvider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The local corpus, re-aimed at an external issuer whose key the corpus signs with."""
    pair = idp.keys[0]
    monkeypatch.setattr(minting, "ISSUER", idp.issuer)
    monkeypatch.setattr(minting, "AUDIENCE", "api")
    corpus = attack_corpus(pair.pem)
    claims = minting.claims()
    corpus |= {
        "issuer with a trailing slash": pair.mint({**claims, "iss": idp.issuer + "/"}),
        "issuer with a prefix": pair.mint({**claims, "iss": "x" + idp.issuer}),
        "issuer with a suffix": pair.mint({**claims, "iss": idp.issuer + "x"}),
        "x5u header to loopback": pair.mint(claims, x5u=idp.issuer + "/x5u"),
        "jku header to loopback": pair.mint(claims, jku=idp.issuer + "/jku", kid="elsewhere"),
    }
    app = external_app(sqlite_url(tmp_path), **jwks_settings(idp, token_type="at+jwt"))
    async with client_for(app) as client:
        valid = minting.mint(pair.pem)
        assert (await get_me(client, valid)).status_code == 200
        bodies = set()
        for name, token in corpus.items():
            response = await get_me(client, token)
            assert response.status_code == 401, f"{name}: {response.status_code} {response.text}"
            assert_invalid(response)
            body = response.json()
            bodies.add((body["type"], body["title"], body["status"], body["detail"]))
        assert len(bodies) == 1
    assert set(idp.hits) == {JWKS_PATH}  # nothing a header named was ever fetched
    # The start-up fetch, and at most one refresh for the plausible unknown `kid`s.
    assert idp.jwks_fetches() <= 2


async def test_oidc_discovery_finds_the_keys(idp: IdentityProvider, tmp_path: Path) -> None:
    app = external_app(sqlite_url(tmp_path), provider="oidc", issuer=idp.issuer, audience="api")
    async with client_for(app) as client:
        assert (await get_me(client, idp.mint())).status_code == 200
    assert idp.hits[DISCOVERY_PATH] == 1
    assert idp.hits[JWKS_PATH] == 1


async def test_oidc_discovery_naming_another_issuer_is_refused(
    idp: IdentityProvider, tmp_path: Path
) -> None:
    idp.discovery_issuer = idp.issuer + "/other-tenant"
    app = external_app(sqlite_url(tmp_path), provider="oidc", issuer=idp.issuer, audience="api")
    async with client_for(app) as client:
        response = await get_me(client, idp.mint())
        assert response.status_code == 503
    assert idp.hits[JWKS_PATH] == 0


async def test_the_supabase_preset_derives_issuer_audience_and_keys(
    idp: IdentityProvider, tmp_path: Path
) -> None:
    app = external_app(sqlite_url(tmp_path), provider="supabase", supabase_url=idp.issuer)
    issuer = idp.issuer + "/auth/v1"
    claims = {**idp.claims(), "iss": issuer, "aud": "authenticated", "role": "authenticated"}
    async with client_for(app) as client:
        response = await get_me(client, idp.keys[0].mint({**claims, "roles": ["editor"]}))
        assert response.status_code == 200, response.text
        assert response.json() == {"sub": "user-1", "roles": ["editor"]}
        assert_invalid(await get_me(client, idp.keys[0].mint({**claims, "aud": "api"})))
        assert_invalid(await get_me(client, idp.keys[0].mint({**claims, "iss": idp.issuer})))
    assert idp.hits[SUPABASE_JWKS_PATH] == 1


async def test_roles_may_come_from_a_nested_claim(idp: IdentityProvider, tmp_path: Path) -> None:
    app = external_app(sqlite_url(tmp_path), **jwks_settings(idp, roles_claim="app_metadata.roles"))
    async with client_for(app) as client:
        token = idp.mint(app_metadata={"roles": ["admin"]})
        assert (await get_me(client, token)).json()["roles"] == ["admin"]
        assert (await client.get("/admin", headers=bearer(token))).status_code == 200
        plain = idp.mint("plain", roles=["admin"])  # the top-level claim is not the configured one
        assert (await client.get("/admin", headers=bearer(plain))).status_code == 403


def hs256(claims: dict[str, Any], secret: str, **header: Any) -> str:
    return minting.hmac_signed({"alg": "HS256", "typ": "JWT", **header}, claims, secret.encode())


async def test_the_legacy_hs256_mode_accepts_only_hs256_with_its_secret(
    idp: IdentityProvider, tmp_path: Path
) -> None:
    app = external_app(
        sqlite_url(tmp_path),
        provider="supabase",
        supabase_url=idp.issuer,
        supabase_jwt_secret=SECRET,
    )
    claims = {**idp.claims(), "iss": idp.issuer + "/auth/v1", "aud": "authenticated"}
    async with client_for(app) as client:
        assert (await get_me(client, hs256(claims, SECRET))).status_code == 200
        assert (await get_me(client, hs256(claims, SECRET, kid="any"))).status_code == 200
        assert_invalid(await get_me(client, hs256(claims, SECRET + "x")))
        assert_invalid(await get_me(client, idp.keys[0].mint(claims)))  # asymmetric: never
        for alg in ("none", "HS512", "EdDSA"):
            header = {"alg": alg, "typ": "JWT"}
            assert_invalid(
                await get_me(client, minting.hmac_signed(header, claims, SECRET.encode()))
            )
        expired = {**claims, "exp": int(time.time()) - 120}
        assert_invalid(await get_me(client, hs256(expired, SECRET)))
    assert idp.jwks_fetches() == 0  # no key set in this mode at all


async def test_external_tokens_are_cached_like_local_ones(
    idp: IdentityProvider, tmp_path: Path
) -> None:
    app = external_app(sqlite_url(tmp_path), **jwks_settings(idp))
    async with client_for(app) as client:
        token = idp.mint()
        assert (await get_me(client, token)).status_code == 200
        verifier = app.state.auth.verifier
        assert verifier.cached(token) is verifier.verify(token)


def test_production_needs_no_signing_key_for_an_external_provider() -> None:
    settings = AuthSettings(
        provider="oidc", issuer="https://login.example.com/realms/acme", audience="api"
    )
    assert unsafe_auth_settings(settings, Environment.PRODUCTION) == []
    assert provider_problems(settings, Environment.PRODUCTION, db_enabled=False) == []
    local = AuthSettings()
    assert unsafe_auth_settings(local, Environment.PRODUCTION)  # still required for `local`


async def test_oidc_discovery_is_retried_when_the_issuer_comes_back(
    idp: IdentityProvider, tmp_path: Path
) -> None:
    idp.mode = "fail"
    app = external_app(
        sqlite_url(tmp_path), provider="oidc", issuer=idp.issuer, audience="api", jwks_retry_after=1
    )
    async with client_for(app) as client:
        assert (await get_me(client, idp.mint())).status_code == 503
        idp.mode = "ok"
        await asyncio.sleep(1.05)
        assert (await get_me(client, idp.mint())).status_code == 200
    assert idp.hits[DISCOVERY_PATH] >= 2  # the failed ones (one per pause), then the good one
    assert idp.hits[JWKS_PATH] == 1
