"""The public API is `faster_auth.__all__`, pinned; the plugin is found by its entry point."""

from __future__ import annotations

from importlib.metadata import entry_points

import faster_auth


def test_public_api_is_pinned() -> None:
    assert sorted(faster_auth.__all__) == sorted(
        [
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
            "TooManyAttemptsError",
            "TokenIssuer",
            "TokenVerifier",
            "TrustedKey",
            "VerifiedToken",
            "__version__",
            "current_user",
            "optional_user",
            "public",
            "require_permissions",
            "require_roles",
        ]
    )
    for name in faster_auth.__all__:
        assert hasattr(faster_auth, name)


def test_entry_points_target_the_plugin_and_testing_modules() -> None:
    (plugin,) = entry_points(group="faster", name="auth")
    assert plugin.value == "faster_auth.plugin"
    (testing,) = entry_points(group="pytest11", name="faster_auth")
    assert testing.value == "faster_auth.testing"


def test_the_plugin_runs_after_db_without_requiring_it() -> None:
    """External providers run verify-only without the db plugin (`local` refuses to start)."""
    from faster_auth import plugin

    info = plugin.faster_plugin_info()
    assert info.name == "auth"
    assert info.requires == ()
    assert "db" in info.after
