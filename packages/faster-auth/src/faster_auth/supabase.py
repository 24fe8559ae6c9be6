"""The Supabase preset, and an async client for the two admin calls the mirror needs.

A Supabase project at `https://<ref>.supabase.co` issues tokens with `iss` =
`<project>/auth/v1`, `aud` = `authenticated`, and publishes its signing keys at
`<project>/auth/v1/.well-known/jwks.json`. Projects still on the legacy shared secret sign with
HS256 instead: that mode is chosen explicitly (`FASTER_AUTH_SUPABASE_JWT_SECRET`), and then
only HS256 with that one secret is accepted, never an asymmetric key next to it.

The admin API (fetch a user, delete a user) is called with the service-role key, a secret that
is never logged or shown, through httpx with timeouts, off the request path where it can be.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from pydantic import SecretStr

from faster_auth.exceptions import IdentityProviderUnavailableError
from faster_auth.mirror import Profile, profile_from_claims

__all__ = ["SUPABASE_AUDIENCE", "SupabaseAdmin", "SupabaseProject"]

logger = logging.getLogger(__name__)

SUPABASE_AUDIENCE = "authenticated"


@dataclass(frozen=True)
class SupabaseProject:
    """The issuer, audience and key set URL of a Supabase project, from its URL."""

    url: str

    @property
    def issuer(self) -> str:
        return f"{self.url.rstrip('/')}/auth/v1"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/.well-known/jwks.json"

    @property
    def audience(self) -> list[str]:
        return [SUPABASE_AUDIENCE]


class SupabaseAdmin:
    """`GET` and `DELETE` of `/auth/v1/admin/users/{id}` with the service-role key."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        project: SupabaseProject,
        service_key: SecretStr,
        *,
        email_claim: str = "email",
        name_claim: str = "user_metadata.full_name",
    ) -> None:
        self._client = client
        self._project = project
        self._service_key = service_key
        self._email_claim = email_claim
        self._name_claim = name_claim

    def __repr__(self) -> str:
        return f"SupabaseAdmin({self._project.url!r})"

    async def get_user(self, user_id: str) -> dict[str, Any] | None:
        """The user object, or `None` when the project has no such user."""
        response = await self._call("GET", user_id)
        if response is None:
            return None
        user = response.json()
        return user if isinstance(user, dict) else None

    async def delete_user(self, user_id: str) -> bool:
        """Delete the user in Supabase; `False` when there was no such user."""
        return await self._call("DELETE", user_id) is not None

    def profile(self, user: dict[str, Any]) -> Profile:
        """The mirror's profile of an admin API user, versioned by its `updated_at`."""
        return profile_from_claims(
            user,
            email_claim=self._email_claim,
            name_claim=self._name_claim,
            version=_epoch(user.get("updated_at")),
        )

    async def _call(self, method: str, user_id: str) -> httpx.Response | None:
        url = f"{self._project.issuer}/admin/users/{_user_id(user_id)}"
        key = self._service_key.get_secret_value()
        headers = {"apikey": key, "Authorization": f"Bearer {key}"}
        try:
            response = await self._client.request(method, url, headers=headers)
        except httpx.HTTPError as exc:
            logger.warning("supabase admin %s failed: %s", method, type(exc).__name__)
            raise IdentityProviderUnavailableError from exc
        if response.status_code == httpx.codes.NOT_FOUND:
            return None
        if response.is_error:
            # The body may echo the request; only the status is worth a log line.
            logger.warning("supabase admin %s answered %s", method, response.status_code)
            raise IdentityProviderUnavailableError
        return response


def _user_id(value: str) -> str:
    try:
        return str(uuid.UUID(value))  # Supabase user ids are UUIDs; nothing else reaches a URL
    except ValueError:
        raise ValueError("a Supabase user id is a UUID") from None


def _epoch(value: Any) -> float:
    if not isinstance(value, str):
        return 0.0
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0
