"""faster-auth's errors, all rooted at `faster_core.FasterError`::

    FasterError
    ├── ConfigurationError
    │   └── AuthConfigurationError     a key or setting that cannot work (names it)
    └── ProblemError
        ├── InvalidTokenError          401, one body for every token failure
        ├── InvalidCredentialsError    401, one body for every failed sign-in
        ├── PermissionDeniedError      403, authenticated but lacking a role
        ├── WeakPasswordError          422, the password policy refuses a password
        ├── EmailTakenError            409, an account with this email exists
        ├── PasswordConfirmationError  403, the current password given is wrong
        ├── InvalidOneTimeTokenError   400, a reset / verification token unknown, used or expired
        ├── UnknownOnboardingStepError 422, not a configured onboarding step
        ├── TooManyAttemptsError       429, sign-in or reset attempts over the limit
        └── ServiceUnavailableError
            ├── RevocationUnavailableError  503, revocations cannot be checked (fail closed)
            └── IdentityProviderUnavailableError  503, no key of the external issuer is known
                                                  (or its admin API cannot be reached)

The JOSE library's own exceptions never leave `faster_auth.tokens`: they become
`InvalidTokenError` there, and its text never reaches a client.
"""

from __future__ import annotations

from http import HTTPStatus

from faster_core import (
    ConfigurationError,
    ConflictError,
    FasterError,
    ProblemError,
    ServiceUnavailableError,
)

__all__ = [
    "AuthConfigurationError",
    "EmailTakenError",
    "FasterAuthError",
    "IdentityProviderUnavailableError",
    "InvalidCredentialsError",
    "InvalidOneTimeTokenError",
    "InvalidTokenError",
    "PasswordConfirmationError",
    "PermissionDeniedError",
    "RevocationUnavailableError",
    "TooManyAttemptsError",
    "UnknownOnboardingStepError",
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


# Account flows (auth-accounts).
class PasswordConfirmationError(ProblemError, FasterAuthError):
    """The current password given to confirm an account change is wrong (403)."""

    status = HTTPStatus.FORBIDDEN
    title = "Forbidden"
    type_slug = "password-confirmation-failed"

    def __init__(self) -> None:
        super().__init__("The current password is incorrect.")


class InvalidOneTimeTokenError(ProblemError, FasterAuthError):
    """A password-reset or verification token that is unknown, used or expired (404, one body:
    the link leads nowhere, whichever it is)."""

    status = HTTPStatus.NOT_FOUND
    title = "Not Found"
    type_slug = "invalid-one-time-token"

    def __init__(self) -> None:
        super().__init__("The link is invalid or has expired.")


class UnknownOnboardingStepError(ProblemError, FasterAuthError):
    """The onboarding step is not one of `FASTER_AUTH_ONBOARDING_STEPS` (422)."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY
    title = "Unprocessable Content"
    type_slug = "unknown-onboarding-step"


# Revocation and abuse limits (auth-guard).
class TooManyAttemptsError(ProblemError, FasterAuthError):
    """Too many failed sign-ins (or reset requests) for an account or an IP.

    The same body whether or not the account exists, with `Retry-After`.
    """

    status = HTTPStatus.TOO_MANY_REQUESTS
    title = "Too Many Requests"
    type_slug = "too-many-attempts"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "Too many attempts; try again later.", headers={"Retry-After": str(retry_after)}
        )
        self.retry_after = retry_after


class RevocationUnavailableError(ServiceUnavailableError, FasterAuthError):
    """The revocation store cannot be reached and its policy is to fail closed."""

    type_slug = "revocation-unavailable"


# Identity providers (auth-external).
class IdentityProviderUnavailableError(ServiceUnavailableError, FasterAuthError):
    """The external identity provider cannot be reached and no key of it is known (yet).

    A 503 with `Retry-After`, never a 401: valid users must not be told their token is bad.
    """

    type_slug = "identity-provider-unavailable"

    def __init__(self, detail: str | None = None, *, retry_after: int = 30) -> None:
        super().__init__(
            detail or "The identity provider cannot be reached; try again later.",
            retry_after=retry_after,
        )
