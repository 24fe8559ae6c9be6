"""Public routes: the JSON Web Key Set other services verify our tokens with."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse

from faster_auth.auth import Auth

__all__ = ["JWKSetResponse", "jwks_router"]


class JWKSetResponse(JSONResponse):
    """A JSON Web Key Set, with its own media type (RFC 7517), as documented."""

    media_type = "application/jwk-set+json"


def jwks_router(path: str) -> APIRouter:
    router = APIRouter(tags=["auth"])

    @router.get(path, name="auth_jwks", response_model=None, response_class=JWKSetResponse)
    async def jwks(request: Request) -> JWKSetResponse:
        auth: Auth = request.state.auth
        body: dict[str, Any] = auth.jwks()
        return JWKSetResponse(body, headers={"Cache-Control": "public, max-age=300"})

    return router
