"""OpenID Connect discovery: where an issuer publishes its keys, read from its own document.

The document at `<issuer>/.well-known/openid-configuration` must name exactly the configured
issuer (OpenID Connect Discovery 1.0, section 4.3): a document served for another issuer, or a
mix-up between tenants, is refused rather than trusted. The `jwks_uri` it gives is kept once
found; discovery is retried with the key fetch while it has not succeeded.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlsplit

import httpx

from faster_auth.exceptions import IdentityProviderUnavailableError

__all__ = ["DISCOVERY_PATH", "Discovery", "discovery_url", "get_json", "static_location"]

logger = logging.getLogger(__name__)

DISCOVERY_PATH = "/.well-known/openid-configuration"
_MAX_DOCUMENT_BYTES = 256 * 1024


def discovery_url(issuer: str) -> str:
    """The discovery document's URL: the issuer, without a trailing slash, plus the path."""
    return issuer.rstrip("/") + DISCOVERY_PATH


def static_location(url: str) -> Any:
    """A locator that always answers `url` (the `jwks` and `supabase` providers)."""

    async def locate(client: httpx.AsyncClient) -> str:
        return url

    return locate


class Discovery:
    """Finds an issuer's `jwks_uri` once, checking the document names that very issuer."""

    def __init__(self, issuer: str, *, require_https: bool) -> None:
        self.issuer = issuer
        self.require_https = require_https
        self.jwks_uri: str | None = None

    async def __call__(self, client: httpx.AsyncClient) -> str:
        if self.jwks_uri is None:
            self.jwks_uri = await self._discover(client)
        return self.jwks_uri

    async def _discover(self, client: httpx.AsyncClient) -> str:
        document = await get_json(client, discovery_url(self.issuer), _MAX_DOCUMENT_BYTES)
        if not isinstance(document, dict) or document.get("issuer") != self.issuer:
            logger.error("the discovery document names another issuer than FASTER_AUTH_ISSUER")
            raise IdentityProviderUnavailableError
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not _acceptable(jwks_uri, self.require_https):
            logger.error("the discovery document has no acceptable jwks_uri")
            raise IdentityProviderUnavailableError
        return jwks_uri


async def get_json(client: httpx.AsyncClient, url: str, limit: int) -> Any:
    """GET `url` as JSON; `ValueError` for a body over `limit` bytes (read no further)."""
    async with client.stream("GET", url, headers={"Accept": "application/json"}) as response:
        response.raise_for_status()
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body.extend(chunk)
            if len(body) > limit:
                raise ValueError("document too large")
    return json.loads(body)


def _acceptable(url: str, require_https: bool) -> bool:
    parts = urlsplit(url)
    schemes = ("https",) if require_https else ("https", "http")
    return bool(parts.netloc) and parts.scheme in schemes
