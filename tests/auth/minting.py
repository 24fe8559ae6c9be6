"""Tokens minted by joserfc (not the verifier's library) and by hand, for the attack corpus."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import warnings
from typing import Any

from joserfc import jwt
from joserfc.jwk import OKPKey

ISSUER = "urn:faster:local"
AUDIENCE = "faster"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(value: dict[str, Any]) -> str:
    return b64(json.dumps(value).encode())


def claims(**overrides: Any) -> dict[str, Any]:
    """Valid claims for the default settings; an override of `None` drops the claim."""
    now = int(time.time())
    base = {"iss": ISSUER, "aud": AUDIENCE, "sub": "user-1", "iat": now, "exp": now + 300}
    base.update(overrides)
    return {name: value for name, value in base.items() if value is not None}


def joserfc_key(private_pem: str) -> OKPKey:
    return OKPKey.import_key(private_pem)


def mint(private_pem: str, header: dict[str, Any] | None = None, **claim_overrides: Any) -> str:
    """A token signed with EdDSA by joserfc; `header` entries override the defaults."""
    key = joserfc_key(private_pem)
    full_header = {"alg": "EdDSA", "kid": key.thumbprint(), "typ": "at+jwt", **(header or {})}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # joserfc flags "EdDSA" as superseded by RFC 9864
        return jwt.encode(full_header, claims(**claim_overrides), key, algorithms=["EdDSA"])


def unsigned(header: dict[str, Any], payload: dict[str, Any], signature: str = "") -> str:
    return f"{segment(header)}.{segment(payload)}.{signature}"


def hmac_signed(header: dict[str, Any], payload: dict[str, Any], secret: bytes) -> str:
    """HS256 by hand: what an attacker signs with a public key to confuse the verifier."""
    signing_input = f"{segment(header)}.{segment(payload)}"
    digest = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(digest)}"


def raw_signed(private_pem: str, header: dict[str, Any], payload: dict[str, Any]) -> str:
    """EdDSA signed by hand with `cryptography`, for headers joserfc refuses to emit."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    signing_input = f"{segment(header)}.{segment(payload)}"
    return f"{signing_input}.{b64(key.sign(signing_input.encode()))}"
