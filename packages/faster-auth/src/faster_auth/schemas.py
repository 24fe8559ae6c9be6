"""Request and response bodies of the account routes."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from faster_auth.passwords import MAX_PASSWORD_LENGTH

__all__ = ["Credentials", "RefreshRequest", "Registration", "TokenPair", "UserOut"]


# What the schema documents and the validator enforces, the same in JSON Schema's regex dialect,
# pydantic's and Python's (explicit classes, no `\s`, whose meaning differs between them): a
# non-empty local part, one `@`, a domain with a dot, no spaces or control characters inside
# (spaces or tabs around it are dropped).
EMAIL_PATTERN = r"^[ \t]*[^@\x00-\x20\x7f]+@[^@\x00-\x20\x7f]*\.[^@\x00-\x20\x7f]*[ \t]*$"
_EMAIL = re.compile(EMAIL_PATTERN)


def normalize_email(value: str) -> str:
    """`value` lower-cased, if it is an email address as `EMAIL_PATTERN` says (else ValueError)."""
    if _EMAIL.fullmatch(value) is None:
        raise ValueError("not an email address")
    return value.strip(" \t").lower()


class Credentials(BaseModel):
    email: str = Field(max_length=320, pattern=EMAIL_PATTERN)
    password: str = Field(max_length=MAX_PASSWORD_LENGTH, repr=False)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return normalize_email(value)


class Registration(Credentials):
    display_name: str | None = Field(default=None, max_length=200)


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=256, repr=False)


class TokenPair(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int
    refresh_token: str


class UserOut(BaseModel):
    id: uuid.UUID
    email: str | None
    display_name: str | None
    status: str
    roles: list[str]
    # Account flows (auth-accounts): filled wherever a stored user is described.
    email_verified: bool = False
    created_at: datetime | None = None
    last_sign_in_at: datetime | None = None
