"""The local provider's signing key: loaded from settings, or generated once in development.

A generated key is written to `FASTER_AUTH_GENERATED_KEY_FILE` (mode 0600) atomically: workers
starting together all end up with the one key that won the race. A key file readable by group
or others is refused rather than trusted.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from jwt.algorithms import ECAlgorithm, OKPAlgorithm

from faster_auth.exceptions import AuthConfigurationError
from faster_auth.settings import AuthSettings
from faster_core import Environment

__all__ = ["SigningKey", "load_signing_key"]

logger = logging.getLogger(__name__)

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey

# RFC 7638: the members a thumbprint is computed over, per key type.
_THUMBPRINT_MEMBERS = {"OKP": ("crv", "kty", "x"), "EC": ("crv", "kty", "x", "y")}


@dataclass(frozen=True)
class SigningKey:
    """An asymmetric private key, its algorithm and its public JWK (`kid` = RFC 7638 thumbprint)."""

    private_key: PrivateKey = field(repr=False)
    algorithm: str
    kid: str
    public_jwk: dict[str, Any]

    @property
    def public_key(self) -> PublicKey:
        return self.private_key.public_key()


def load_signing_key(settings: AuthSettings, env: Environment) -> SigningKey:
    """The configured key, or (outside production) the generated development key."""
    if settings.private_key is not None:
        pem = settings.private_key.get_secret_value().encode()
        return _signing_key(_parse_pem(pem, "FASTER_AUTH_PRIVATE_KEY"), settings.algorithm)
    if settings.private_key_file is not None:
        pem = _read_key_file(settings.private_key_file, "FASTER_AUTH_PRIVATE_KEY_FILE")
        return _signing_key(_parse_pem(pem, "FASTER_AUTH_PRIVATE_KEY_FILE"), settings.algorithm)
    if env is Environment.PRODUCTION:
        raise AuthConfigurationError("FASTER_AUTH_PRIVATE_KEY is required in production")
    pem = _generated_pem(settings.generated_key_file, settings.algorithm)
    return _signing_key(_parse_pem(pem, "FASTER_AUTH_GENERATED_KEY_FILE"), settings.algorithm)


def _generated_pem(path: Path, algorithm: str) -> bytes:
    if path.exists():
        return _read_key_file(path, "FASTER_AUTH_GENERATED_KEY_FILE")
    key: PrivateKey = (
        ed25519.Ed25519PrivateKey.generate()
        if algorithm == "EdDSA"
        else ec.generate_private_key(ec.SECP256R1())
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        _publish(path, pem)
    except FileExistsError:  # another worker won the race: use its key
        return _read_key_file(path, "FASTER_AUTH_GENERATED_KEY_FILE")
    except OSError as exc:
        raise AuthConfigurationError(
            f"FASTER_AUTH_GENERATED_KEY_FILE: cannot write {path}"
        ) from exc
    logger.warning("generated a development signing key in %s (never used in production)", path)
    return pem


def _publish(path: Path, pem: bytes) -> None:
    """Write `pem` to `path` (0600) atomically; `FileExistsError` when `path` exists."""
    temporary = path.with_name(f"{path.name}.{secrets.token_hex(8)}.tmp")  # unique per caller
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
        os.link(temporary, path)  # atomic: readers never see a partial file
    finally:
        temporary.unlink(missing_ok=True)


def _read_key_file(path: Path, variable: str) -> bytes:
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise AuthConfigurationError(
                f"{variable}: {path} is accessible to group or others; chmod 600 it"
            )
        return path.read_bytes()
    except OSError as exc:
        raise AuthConfigurationError(f"{variable}: cannot read {path}") from exc


def _parse_pem(pem: bytes, variable: str) -> PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        # Not the library's text: it might quote the key material.
        raise AuthConfigurationError(f"{variable} is not an unencrypted PEM private key") from exc
    if not isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
        raise AuthConfigurationError(f"{variable} must be an Ed25519 or P-256 private key")
    return key


def _signing_key(key: PrivateKey, algorithm: str) -> SigningKey:
    if algorithm == "EdDSA" and isinstance(key, ed25519.Ed25519PrivateKey):
        jwk: dict[str, Any] = OKPAlgorithm.to_jwk(key.public_key(), as_dict=True)
    elif (
        algorithm == "ES256"
        and isinstance(key, ec.EllipticCurvePrivateKey)
        and isinstance(key.curve, ec.SECP256R1)
    ):
        jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    else:
        raise AuthConfigurationError(
            f"the private key does not match FASTER_AUTH_ALGORITHM={algorithm} "
            "(EdDSA needs an Ed25519 key, ES256 a P-256 key)"
        )
    kid = thumbprint(jwk)
    public_jwk = {**jwk, "kid": kid, "alg": algorithm, "use": "sig"}
    return SigningKey(private_key=key, algorithm=algorithm, kid=kid, public_jwk=public_jwk)


def thumbprint(jwk: dict[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint of a public JWK, base64url without padding."""
    members = {name: jwk[name] for name in _THUMBPRINT_MEMBERS[jwk["kty"]]}
    digest = hashlib.sha256(json.dumps(members, separators=(",", ":")).encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
