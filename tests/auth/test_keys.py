"""The local signing key: generated once in development, persisted 0600, published as a JWKS."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from faster_auth import AuthConfigurationError, AuthSettings
from faster_auth.keys import load_signing_key
from faster_core import Environment
from faster_core.testing import client_for
from tests.auth.minting import joserfc_key

pytestmark = pytest.mark.anyio


async def test_development_generates_a_key_file_readable_by_the_owner_only(
    auth_app_factory: Any, tmp_path: Path
) -> None:
    app = auth_app_factory(env="development")
    async with client_for(app) as client:
        kid = app.state.auth.signing_key.kid
        assert (await client.get("/.well-known/jwks.json")).status_code == 200
    key_file = tmp_path / ".faster-auth-key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert not any(name.endswith(".tmp") for name in os.listdir(tmp_path))

    again = auth_app_factory(env="development")
    async with client_for(again):
        assert again.state.auth.signing_key.kid == kid


def test_a_key_file_open_to_others_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "key.pem"
    load_signing_key(AuthSettings(generated_key_file=key_file), Environment.DEVELOPMENT)
    os.chmod(key_file, 0o644)
    with pytest.raises(AuthConfigurationError, match="FASTER_AUTH_GENERATED_KEY_FILE"):
        load_signing_key(AuthSettings(generated_key_file=key_file), Environment.DEVELOPMENT)


def test_a_configured_key_file_is_used(tmp_path: Path, private_pem: str) -> None:
    key_file = tmp_path / "configured.pem"
    key_file.write_text(private_pem)
    os.chmod(key_file, 0o600)
    key = load_signing_key(AuthSettings(private_key_file=key_file), Environment.PRODUCTION)
    assert key.kid == joserfc_key(private_pem).thumbprint()
    assert not (tmp_path / ".faster-auth-key.pem").exists()


def test_production_never_generates_a_key(tmp_path: Path) -> None:
    with pytest.raises(AuthConfigurationError, match="FASTER_AUTH_PRIVATE_KEY"):
        load_signing_key(AuthSettings(), Environment.PRODUCTION)
    assert not (tmp_path / ".faster-auth-key.pem").exists()


@pytest.mark.parametrize(
    ("pem", "algorithm", "message"),
    [
        ("not a pem", "EdDSA", "not an unencrypted PEM private key"),
        (None, "ES256", "does not match FASTER_AUTH_ALGORITHM=ES256"),
    ],
)
def test_an_unusable_key_is_refused_naming_the_variable(
    private_pem: str, pem: str | None, algorithm: str, message: str
) -> None:
    settings = AuthSettings(private_key=pem or private_pem, algorithm=algorithm)
    with pytest.raises(AuthConfigurationError, match=message) as caught:
        load_signing_key(settings, Environment.DEVELOPMENT)
    assert "PRIVATE KEY-----" not in str(caught.value)


def test_es256_keys_are_generated_when_configured(tmp_path: Path) -> None:
    settings = AuthSettings(algorithm="ES256", generated_key_file=tmp_path / "es.pem")
    key = load_signing_key(settings, Environment.DEVELOPMENT)
    assert key.public_jwk["kty"] == "EC"
    assert key.public_jwk["crv"] == "P-256"


async def test_the_jwks_verifies_our_tokens_in_another_library(
    client: httpx.AsyncClient, auth_app: Any, private_pem: str
) -> None:
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jwk-set+json"
    jwks = response.json()
    (jwk,) = jwks["keys"]
    assert "d" not in jwk  # public members only
    assert jwk["kid"] == joserfc_key(private_pem).thumbprint()  # RFC 7638, as joserfc computes
    assert jwk["alg"] == "EdDSA"
    assert jwk["use"] == "sig"

    token = auth_app.state.auth.issuer.issue("user-9", roles=["a"])
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # joserfc flags "EdDSA" as superseded by RFC 9864
        decoded = jwt.decode(token, KeySet.import_key_set(jwks), algorithms=["EdDSA"])
    assert decoded.header["kid"] == jwk["kid"]
    assert decoded.header["typ"] == "at+jwt"
    claims = decoded.claims
    assert claims["sub"] == "user-9"
    assert claims["iss"] == "urn:faster:local"
    assert claims["aud"] == "faster"
    assert claims["roles"] == ["a"]
    assert claims["exp"] - claims["iat"] == 900
    assert isinstance(claims["jti"], str)
    assert len(claims["jti"]) >= 16


def test_every_issued_token_has_its_own_id(auth_app: Any, private_pem: str) -> None:
    from faster_auth import Auth

    auth = Auth.from_settings(AuthSettings(private_key=private_pem), Environment.TEST)
    ids = {auth.verifier.verify(auth.issuer.issue("u")).token_id for _ in range(50)}
    assert len(ids) == 50


def test_workers_starting_together_share_one_generated_key(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    settings = AuthSettings(generated_key_file=tmp_path / "shared.pem")
    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = list(
            pool.map(lambda _: load_signing_key(settings, Environment.DEVELOPMENT), range(16))
        )
    assert len({key.kid for key in keys}) == 1
    assert sorted(os.listdir(tmp_path)) == ["shared.pem"]


def test_an_unwritable_key_location_is_a_configuration_error(tmp_path: Path) -> None:
    missing_dir = tmp_path / "no-such-dir" / "key.pem"
    with pytest.raises(AuthConfigurationError, match="FASTER_AUTH_GENERATED_KEY_FILE"):
        load_signing_key(AuthSettings(generated_key_file=missing_dir), Environment.DEVELOPMENT)
