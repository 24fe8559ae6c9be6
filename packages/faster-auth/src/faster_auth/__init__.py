"""faster-auth: asymmetric access tokens, verified by construction, for the Faster suite."""

from faster_auth._version import __version__
from faster_auth.auth import Auth
from faster_auth.dependencies import (
    AuthenticatedUser,
    CurrentUser,
    OptionalUser,
    current_user,
    optional_user,
    require_roles,
)
from faster_auth.exceptions import (
    AuthConfigurationError,
    FasterAuthError,
    InvalidTokenError,
    PermissionDeniedError,
    RevocationUnavailableError,
    TooManyAttemptsError,
)
from faster_auth.guard import Guard
from faster_auth.keys import SigningKey
from faster_auth.permissions import require_permissions
from faster_auth.policy import public
from faster_auth.settings import AuthSettings
from faster_auth.tokens import TokenIssuer, TokenVerifier, TrustedKey, VerifiedToken

__all__ = [
    "Auth",
    "AuthConfigurationError",
    "AuthSettings",
    "AuthenticatedUser",
    "CurrentUser",
    "FasterAuthError",
    "Guard",
    "InvalidTokenError",
    "OptionalUser",
    "PermissionDeniedError",
    "RevocationUnavailableError",
    "SigningKey",
    "TokenIssuer",
    "TokenVerifier",
    "TooManyAttemptsError",
    "TrustedKey",
    "VerifiedToken",
    "__version__",
    "current_user",
    "optional_user",
    "public",
    "require_permissions",
    "require_roles",
]
