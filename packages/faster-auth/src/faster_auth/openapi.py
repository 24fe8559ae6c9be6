"""The documented token URL follows `FASTER_AUTH_ROUTES_PREFIX` in each app's OpenAPI schema."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from faster_auth.dependencies import SCHEME_NAME

__all__ = ["document_token_url"]


def document_token_url(app: FastAPI, token_url: str) -> None:
    """Point the password flow of Swagger's Authorize at `token_url` in `app`'s schema."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()
        schemes = schema.get("components", {}).get("securitySchemes", {})
        flows = schemes.get(SCHEME_NAME, {}).get("flows", {})
        if "password" in flows:
            flows["password"]["tokenUrl"] = token_url
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented extension point
