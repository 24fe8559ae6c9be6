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
)
from faster_auth.keys import SigningKey
from faster_auth.settings import AuthSettings
from faster_auth.tokens import TokenIssuer, TokenVerifier, TrustedKey, VerifiedToken

__all__ = [
    "Auth",
    "AuthConfigurationError",
    "AuthSettings",
    "AuthenticatedUser",
    "CurrentUser",
    "FasterAuthError",
    "InvalidTokenError",
    "OptionalUser",
    "PermissionDeniedError",
    "SigningKey",
    "TokenIssuer",
    "TokenVerifier",
    "TrustedKey",
    "VerifiedToken",
    "__version__",
    "current_user",
    "optional_user",
    "require_roles",
]
