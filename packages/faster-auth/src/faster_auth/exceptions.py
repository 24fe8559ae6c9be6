"""faster-auth's errors, all rooted at `faster_core.FasterError`::

    FasterError
    ├── ConfigurationError
    │   └── AuthConfigurationError     a key or setting that cannot work (names it)
    └── ProblemError
        ├── InvalidTokenError          401, one body for every token failure
        ├── InvalidCredentialsError    401, one body for every failed sign-in
        ├── PermissionDeniedError      403, authenticated but lacking a role
        ├── WeakPasswordError          422, the password policy refuses a password
        └── EmailTakenError            409, an account with this email exists

The JOSE library's own exceptions never leave `faster_auth.tokens`: they become
`InvalidTokenError` there, and its text never reaches a client.
"""

from __future__ import annotations

from http import HTTPStatus

from faster_core import ConfigurationError, ConflictError, FasterError, ProblemError

__all__ = [
    "AuthConfigurationError",
    "EmailTakenError",
    "FasterAuthError",
    "InvalidCredentialsError",
    "InvalidTokenError",
    "PermissionDeniedError",
    "WeakPasswordError",
]

INVALID_TOKEN_DETAIL = "The access token is missing, invalid or expired."  # noqa: S105 - not a secret
INVALID_TOKEN_CHALLENGE = 'Bearer error="invalid_token"'  # noqa: S105 - not a secret


class FasterAuthError(FasterError):
    """Root of faster-auth's own errors."""


class AuthConfigurationError(ConfigurationError, FasterAuthError):
    """A signing key or auth setting that cannot work; the message names it."""


class InvalidTokenError(ProblemError, FasterAuthError):
    """Missing, malformed, forged or expired credentials.

    Every cause answers the same body and challenge, so a client (or an attacker) learns nothing
    about which check failed; the cause is logged at debug level only.
    """

    status = HTTPStatus.UNAUTHORIZED
    title = "Unauthorized"
    type_slug = "invalid-token"

    def __init__(self, reason: str = "invalid token") -> None:
        super().__init__(
            INVALID_TOKEN_DETAIL, headers={"WWW-Authenticate": INVALID_TOKEN_CHALLENGE}
        )
        self.reason = reason


class PermissionDeniedError(ProblemError, FasterAuthError):
    """The caller is authenticated but lacks a required role."""

    status = HTTPStatus.FORBIDDEN
    title = "Forbidden"
    type_slug = "permission-denied"


class InvalidCredentialsError(ProblemError, FasterAuthError):
    """A failed sign-in: unknown email, wrong password or an account that may not sign in.

    One body for all, so that a response never tells whether an account exists.
    """

    status = HTTPStatus.UNAUTHORIZED
    title = "Unauthorized"
    type_slug = "invalid-credentials"

    def __init__(self) -> None:
        super().__init__("The email or password is incorrect.")


class WeakPasswordError(ProblemError, FasterAuthError):
    """The password policy refuses the password (the detail says which rule)."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY
    title = "Unprocessable Content"
    type_slug = "weak-password"


class EmailTakenError(ConflictError, FasterAuthError):
    """An account with this email already exists."""

    type_slug = "email-taken"
