"""Token verification through the real app: joserfc mints, PyJWT (inside faster-auth) verifies."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from tests.auth.minting import (
    claims,
    hmac_signed,
    joserfc_key,
    mint,
    raw_signed,
    segment,
    unsigned,
)

pytestmark = pytest.mark.anyio

INVALID_BODY_DETAIL = "The access token is missing, invalid or expired."


def public_pem(private_pem: str) -> bytes:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


async def get_me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/me", headers={"Authorization": f"Bearer {token}"})


def assert_invalid(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    body = response.json()
    assert body["detail"] == INVALID_BODY_DETAIL
    assert body["type"] == "urn:faster:problem:invalid-token"


async def test_a_token_minted_by_another_library_is_accepted(
    client: httpx.AsyncClient, private_pem: str
) -> None:
    response = await get_me(client, mint(private_pem, roles=["reader"]))
    assert response.status_code == 200
    assert response.json() == {"sub": "user-1", "roles": ["reader"]}


async def test_a_token_issued_by_the_plugin_is_accepted(
    client: httpx.AsyncClient, auth_app: Any
) -> None:
    token = auth_app.state.auth.issuer.issue("user-7", roles=["admin"])
    assert (await get_me(client, token)).json() == {"sub": "user-7", "roles": ["admin"]}


async def test_an_audience_from_the_allow_list_is_accepted(
    auth_app_factory: Any, private_pem: str
) -> None:
    from faster_core.testing import client_for

    app = auth_app_factory(private_key=private_pem, audience="faster,billing")
    async with client_for(app) as client:
        assert (await get_me(client, mint(private_pem, aud="billing"))).status_code == 200
        assert (await get_me(client, mint(private_pem, aud=["x", "billing"]))).status_code == 200
        assert_invalid(await get_me(client, mint(private_pem, aud="other")))


async def test_no_credentials_is_a_401_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/me")
    assert_invalid(response)
    response = await client.get("/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert_invalid(response)


def attack_corpus(pem: str) -> dict[str, str]:
    kid = joserfc_key(pem).thumbprint()
    good = claims()
    public = public_pem(pem)
    jwk_json = json.dumps(joserfc_key(pem).as_dict(private=False)).encode()
    valid = mint(pem)
    head, payload, signature = valid.split(".")
    cases = {
        "expired beyond leeway": mint(pem, exp=int(time.time()) - 35),
        "issued in the future beyond leeway": mint(pem, iat=int(time.time()) + 60),
        "not yet valid beyond leeway": mint(pem, nbf=int(time.time()) + 60),
        "wrong issuer": mint(pem, iss="https://evil.example"),
        "issuer with a prefix": mint(pem, iss="xurn:faster:local"),
        "issuer with a suffix": mint(pem, iss="urn:faster:localx"),
        "issuer with a trailing slash": mint(pem, iss="urn:faster:local/"),
        "issuer as a list": mint(pem, iss=["urn:faster:local"]),
        "wrong audience": mint(pem, aud="other"),
        "no audience": mint(pem, aud=None),
        "missing sub": mint(pem, sub=None),
        "empty sub": mint(pem, sub=""),
        "numeric sub": mint(pem, sub=42),
        "missing exp": mint(pem, exp=None),
        "missing iat": mint(pem, iat=None),
        "roles not a list": mint(pem, roles="admin"),
        "unknown kid": mint(pem, header={"kid": "unknown"}),
        "no kid": unsigned({"alg": "EdDSA", "typ": "at+jwt"}, good, signature),
        "hostile kid (path)": mint(pem, header={"kid": "../../../../dev/null"}),
        "hostile kid (sql)": mint(pem, header={"kid": "' OR 1=1 --"}),
        "kid not a string": raw_signed(pem, {"alg": "EdDSA", "kid": [kid], "typ": "at+jwt"}, good),
        "wrong typ": mint(pem, header={"typ": "JWT"}),
        "unknown crit": raw_signed(
            pem, {"alg": "EdDSA", "kid": kid, "typ": "at+jwt", "crit": ["exp2"], "exp2": 1}, good
        ),
        "jku header to loopback": unsigned(
            {"alg": "RS256", "kid": "k", "typ": "at+jwt", "jku": "http://127.0.0.1:9/jwks"},
            good,
            signature,
        ),
        "tampered payload": f"{head}.{segment({**good, 'sub': 'admin'})}.{signature}",
        "signature of another key": mint(_other_pem(), header={"kid": kid}),
        "broken base64": f"{head}.@@@.{signature}",
        "broken json": f"{head}.{segment({})[:-2]}.{signature}",
        "two segments": f"{head}.{payload}",
        "garbage": "not-a-jwt",
        "1 MB token": "a" * 1_000_000,
        "hs256 signed with the public key pem": hmac_signed(
            {"alg": "HS256", "kid": kid, "typ": "at+jwt"}, good, public
        ),
        "hs256 signed with the public jwk": hmac_signed(
            {"alg": "HS256", "kid": kid, "typ": "at+jwt"}, good, jwk_json
        ),
    }
    for alg in ("none", "None", "NONE", ""):
        cases[f"alg {alg!r}"] = unsigned({"alg": alg, "kid": kid, "typ": "at+jwt"}, good)
        cases[f"alg {alg!r} with signature"] = unsigned(
            {"alg": alg, "kid": kid, "typ": "at+jwt"}, good, signature
        )
    cases["embedded jwk header"] = _embedded_jwk_token(kid, good)
    return cases


def _other_pem() -> str:
    return (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


def _embedded_jwk_token(kid: str, payload: dict[str, Any]) -> str:
    """Signed by an attacker's key that the token itself carries in its `jwk` header."""
    attacker = _other_pem()
    attacker_jwk = joserfc_key(attacker).as_dict(private=False)
    header = {"alg": "EdDSA", "kid": kid, "typ": "at+jwt", "jwk": attacker_jwk}
    return raw_signed(attacker, header, payload)


async def test_every_attack_is_the_same_401_and_never_a_5xx(
    client: httpx.AsyncClient, private_pem: str
) -> None:
    bodies = set()
    for name, token in attack_corpus(private_pem).items():
        response = await get_me(client, token)
        assert response.status_code == 401, f"{name}: {response.status_code} {response.text}"
        assert_invalid(response)
        body = response.json()
        bodies.add((body["type"], body["title"], body["status"], body["detail"]))
    assert len(bodies) == 1


async def test_leeway_accepts_a_token_just_expired(
    client: httpx.AsyncClient, private_pem: str
) -> None:
    now = int(time.time())
    assert (await get_me(client, mint(private_pem, exp=now - 20))).status_code == 200
    assert (await get_me(client, mint(private_pem, iat=now + 20))).status_code == 200
    assert_invalid(await get_me(client, mint(private_pem, exp=now - 40)))


async def test_leeway_is_configurable(auth_app_factory: Any, private_pem: str) -> None:
    from faster_core.testing import client_for

    app = auth_app_factory(private_key=private_pem, leeway=0)
    async with client_for(app) as client:
        token = mint(private_pem, exp=int(time.time()) - 5)
        assert_invalid(await get_me(client, token))


async def test_the_algorithm_comes_from_configuration_not_the_token(
    auth_app_factory: Any,
) -> None:
    """An ES256 app refuses an EdDSA token even when it carries the app's own `kid`."""
    from faster_core.testing import client_for

    es_key = ec.generate_private_key(ec.SECP256R1())
    es_pem = es_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    app = auth_app_factory(private_key=es_pem, algorithm="ES256")
    async with client_for(app) as client:
        kid = app.state.auth.signing_key.kid
        good = app.state.auth.issuer.issue("user-1")
        assert (await get_me(client, good)).status_code == 200
        assert_invalid(await get_me(client, mint(_other_pem(), header={"kid": kid})))


async def test_a_hand_signed_token_with_sound_headers_is_accepted(
    client: httpx.AsyncClient, private_pem: str
) -> None:
    """The hand-signing helper is sound, so its refused cases fail for their header alone."""
    kid = joserfc_key(private_pem).thumbprint()
    token = raw_signed(private_pem, {"alg": "EdDSA", "kid": kid, "typ": "at+jwt"}, claims())
    assert (await get_me(client, token)).status_code == 200
