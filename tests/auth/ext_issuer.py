"""A real identity provider on loopback for the external-provider tests.

One `http.server` thread serves an issuer's discovery document, its JWKS and the two Supabase
admin calls, counts every request per path and how many were in flight at once, and can be
switched to fail (503), hang, or answer a discovery document naming another issuer.
"""

from __future__ import annotations

import json
import threading
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from joserfc import jwt
from joserfc.jwk import OKPKey

JWKS_PATH = "/keys"
SUPABASE_JWKS_PATH = "/auth/v1/.well-known/jwks.json"
DISCOVERY_PATH = "/.well-known/openid-configuration"
ADMIN_PREFIX = "/auth/v1/admin/users/"


def new_pem() -> str:
    return (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


@dataclass
class SigningKeyPair:
    """An issuer's Ed25519 key, as joserfc sees it (the verifier uses PyJWT)."""

    pem: str = field(default_factory=new_pem)

    @property
    def key(self) -> OKPKey:
        return OKPKey.import_key(self.pem)

    @property
    def kid(self) -> str:
        return self.key.thumbprint()

    def public_jwk(self) -> dict[str, Any]:
        return {**self.key.as_dict(private=False), "kid": self.kid, "use": "sig"}

    def mint(self, claims: dict[str, Any], **header: Any) -> str:
        full_header = {"alg": "EdDSA", "kid": self.kid, "typ": "JWT", **header}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # joserfc flags "EdDSA" as superseded by RFC 9864
            return jwt.encode(full_header, claims, self.key, algorithms=["EdDSA"])


@dataclass
class IdentityProvider:
    """The state the server answers from; tests change it while the app runs."""

    issuer: str = ""
    keys: list[SigningKeyPair] = field(default_factory=list)
    mode: str = "ok"  # ok | fail | hang
    discovery_issuer: str | None = None
    admin_users: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    admin_headers: list[dict[str, str]] = field(default_factory=list)
    hits: Counter[str] = field(default_factory=Counter)
    in_flight: int = 0
    max_in_flight: int = 0
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def jwks_fetches(self) -> int:
        return self.hits[JWKS_PATH] + self.hits[SUPABASE_JWKS_PATH]

    def claims(self, subject: str = "user-1", **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        base = {"iss": self.issuer, "aud": "api", "sub": subject, "iat": now, "exp": now + 300}
        base.update(overrides)
        return {name: value for name, value in base.items() if value is not None}

    def mint(self, subject: str = "user-1", *, key: int = 0, **claims: Any) -> str:
        return self.keys[key].mint(self.claims(subject, **claims))


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_GET(self) -> None:
        self._answer("GET")

    def do_DELETE(self) -> None:
        self._answer("DELETE")

    def _answer(self, method: str) -> None:
        idp = self.server.idp
        path = self.path.split("?")[0]
        with idp.lock:
            idp.hits[path] += 1
            idp.in_flight += 1
            idp.max_in_flight = max(idp.max_in_flight, idp.in_flight)
        try:
            self._respond(idp, method, path)
        finally:
            with idp.lock:
                idp.in_flight -= 1

    def _respond(self, idp: IdentityProvider, method: str, path: str) -> None:
        if idp.mode == "hang":
            idp.release.wait(30)
        if idp.mode != "ok":
            return self._json(503, {"error": "unavailable"})
        if path in (JWKS_PATH, SUPABASE_JWKS_PATH):
            return self._json(200, {"keys": [pair.public_jwk() for pair in idp.keys]})
        if path == DISCOVERY_PATH:
            issuer = idp.discovery_issuer or idp.issuer
            return self._json(200, {"issuer": issuer, "jwks_uri": idp.issuer + JWKS_PATH})
        if path.startswith(ADMIN_PREFIX):
            return self._admin(idp, method, path.removeprefix(ADMIN_PREFIX))
        return self._json(404, {"error": "not found"})

    def _admin(self, idp: IdentityProvider, method: str, user_id: str) -> None:
        idp.admin_headers.append(dict(self.headers))
        user = idp.admin_users.get(user_id)
        if user is None:
            return self._json(404, {"error": "user not found"})
        if method == "DELETE":
            idp.deleted.append(user_id)
            del idp.admin_users[user_id]
            return self._json(200, {})
        return self._json(200, user)

    def _json(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    idp: IdentityProvider


@contextmanager
def running_provider(audience_keys: int = 1) -> Iterator[IdentityProvider]:
    """A provider on a free loopback port with `audience_keys` signing keys."""
    server = _Server(("127.0.0.1", 0), _Handler)
    idp = IdentityProvider(keys=[SigningKeyPair() for _ in range(audience_keys)])
    idp.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    server.idp = idp
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield idp
    finally:
        idp.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
