"""Each app's OpenAPI schema follows its auth settings: the token URL follows
`FASTER_AUTH_ROUTES_PREFIX`, and new passwords document the configured length policy."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from faster_auth._common_passwords import COMMON_PASSWORDS
from faster_auth.dependencies import SCHEME_NAME

__all__ = ["document_password_policy", "document_token_url"]

# The bodies that set a password, and the property holding it.
_NEW_PASSWORDS = {
    "Registration": "password",
    "PasswordReset": "new_password",
    "PasswordChange": "new_password",
}


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


def document_password_policy(
    app: FastAPI, min_length: int, max_length: int, *, refuse_common: bool
) -> None:
    """Document the configured policy on every new password in `app`'s schema (its length
    bounds and, when checked, the bundled common passwords it refuses), so a client or a
    schema-driven test knows what is refused."""
    generate = app.openapi
    common = sorted(p for p in COMMON_PASSWORDS if min_length <= len(p) <= max_length)

    def openapi() -> dict[str, Any]:
        schema = generate()
        components = schema.get("components", {}).get("schemas", {})
        for model, field in _NEW_PASSWORDS.items():
            prop = components.get(model, {}).get("properties", {}).get(field)
            if prop is not None:
                prop["minLength"] = min_length
                prop["maxLength"] = min(max_length, prop.get("maxLength", max_length))
                if refuse_common and common:
                    prop["not"] = {"enum": common}
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented extension point
