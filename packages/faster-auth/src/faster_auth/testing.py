"""The pytest plugin (entry point `pytest11` `faster_auth`): tokens for your own tests.

Fixtures:
    faster_auth_token: `faster_auth_token("user-1", roles=["admin"])` -> a bearer token signed by
        the app's own key, for the app behind `faster_client` (its lifespan is running).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import httpx
import pytest
from fastapi import FastAPI

from faster_auth.auth import Auth

__all__ = ["faster_auth_token", "token_for"]

TokenFactory = Callable[..., str]


def token_for(app: FastAPI, subject: str, *, roles: Sequence[str] = ()) -> str:
    """An access token for `subject` from `app`'s running auth plugin."""
    auth: Auth = app.state.auth
    return auth.issuer.issue(subject, roles=roles)


@pytest.fixture
def faster_auth_token(faster_app: FastAPI, faster_client: httpx.AsyncClient) -> TokenFactory:
    def factory(subject: str, *, roles: Sequence[str] = ()) -> str:
        return token_for(faster_app, subject, roles=roles)

    return factory
