"""faster-core: the app factory and plugin host of the Faster suite."""

from faster_core._version import __version__
from faster_core.app import create_app
from faster_core.client_ip import TrustedProxies, client_ip
from faster_core.events import call_hook_async
from faster_core.exceptions import (
    ConfigurationError,
    ConflictError,
    FasterError,
    FeatureDisabledError,
    NotFoundError,
    PluginCycleError,
    PluginError,
    PluginLoadError,
    PluginNotFoundError,
    PluginRequirementError,
    PluginStartupError,
    ProblemError,
    ServiceUnavailableError,
    UnsafeSettingsError,
)
from faster_core.flags import FeatureFlags, require_flag
from faster_core.health import CheckResult, HealthCheck
from faster_core.hookspecs import hookimpl, hookspec
from faster_core.lifespan import PluginLifespan
from faster_core.middleware import (
    MiddlewareSpec,
    RequestObserver,
    RequestWatch,
    Slot,
    current_request_id,
)
from faster_core.plugins import PluginHost, PluginInfo
from faster_core.problems import problem_response
from faster_core.request_dependencies import request_dependency
from faster_core.response_headers import add_response_headers, added_response_headers
from faster_core.settings import Environment, FasterSettings, FeatureFlag, PluginSettings

__all__ = [
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
]
