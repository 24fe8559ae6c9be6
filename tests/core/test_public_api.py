"""The public API is pinned: what `faster_core` exports and that each name exists."""

from __future__ import annotations

import faster_core

EXPECTED = {
    "CheckResult",
    "ConfigurationError",
    "ConflictError",
    "Environment",
    "FasterError",
    "FasterSettings",
    "FeatureDisabledError",
    "FeatureFlag",
    "FeatureFlags",
    "HealthCheck",
    "MiddlewareSpec",
    "NotFoundError",
    "PluginCycleError",
    "PluginError",
    "PluginHost",
    "PluginInfo",
    "PluginLifespan",
    "PluginLoadError",
    "PluginNotFoundError",
    "PluginRequirementError",
    "PluginSettings",
    "PluginStartupError",
    "ProblemError",
    "RequestObserver",
    "RequestWatch",
    "ServiceUnavailableError",
    "Slot",
    "TrustedProxies",
    "UnsafeSettingsError",
    "__version__",
    "add_response_headers",
    "added_response_headers",
    "call_hook_async",
    "client_ip",
    "create_app",
    "current_request_id",
    "hookimpl",
    "hookspec",
    "problem_response",
    "request_dependency",
    "require_flag",
}


def test_public_api_is_exactly_what_is_documented() -> None:
    assert set(faster_core.__all__) == EXPECTED
    for name in faster_core.__all__:
        assert getattr(faster_core, name) is not None


def test_every_error_derives_from_faster_error() -> None:
    errors = [getattr(faster_core, n) for n in faster_core.__all__ if n.endswith("Error")]
    assert errors
    assert all(issubclass(error, faster_core.FasterError) for error in errors)
