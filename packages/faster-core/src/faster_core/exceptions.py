"""The suite's exception hierarchy.

Every error raised by a Faster package derives from :class:`FasterError`::

    FasterError
    ├── ConfigurationError            settings that cannot work (names the setting)
    │   └── UnsafeSettingsError       refused in production (names the setting)
    ├── PluginError                   the plugin graph cannot be built
    │   ├── PluginLoadError           an entry point failed to import
    │   ├── PluginNotFoundError       a named plugin is not installed
    │   ├── PluginRequirementError    a hard requirement is missing or disabled
    │   ├── PluginCycleError          `requires`/`after` form a cycle
    │   └── PluginStartupError        a plugin's lifespan failed to start
    └── ProblemError                  an error that becomes an HTTP problem response
        ├── NotFoundError             404
        ├── ConflictError             409
        ├── FeatureDisabledError      404, a feature flag is off
        └── ServiceUnavailableError   503 with Retry-After

`ProblemError.detail` reaches the client, so it must never carry a dependency's own error text.
"""

from __future__ import annotations

from http import HTTPStatus

__all__ = [
    "ConfigurationError",
    "ConflictError",
    "FasterError",
    "FeatureDisabledError",
    "NotFoundError",
    "PluginCycleError",
    "PluginError",
    "PluginLoadError",
    "PluginNotFoundError",
    "PluginRequirementError",
    "PluginStartupError",
    "ProblemError",
    "ServiceUnavailableError",
    "UnsafeSettingsError",
]


class FasterError(Exception):
    """Root of every error raised by the Faster suite."""


class ConfigurationError(FasterError):
    """Settings that cannot work; the message names the setting."""


class UnsafeSettingsError(ConfigurationError):
    """Settings refused because they are unsafe in the current environment."""


class PluginError(FasterError):
    """The plugin graph cannot be built or started."""


class PluginLoadError(PluginError):
    """A plugin's entry point failed to import or does not describe itself."""


class PluginNotFoundError(PluginError):
    """A plugin named in settings is not installed."""


class PluginRequirementError(PluginError):
    """A plugin requires another plugin that is missing or disabled."""


class PluginCycleError(PluginError):
    """The plugins' `requires` and `after` declarations form a cycle."""


class PluginStartupError(PluginError):
    """A plugin's lifespan raised during start-up."""


class ProblemError(FasterError):
    """An error that the errors plugin renders as an RFC 9457 problem response.

    Subclasses set `status`, `title` and `type_slug`; `detail` is shown to the client.
    """

    status: int = int(HTTPStatus.INTERNAL_SERVER_ERROR)
    title: str = "Internal Server Error"
    type_slug: str = "internal-error"

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.headers = dict(headers or {})


class NotFoundError(ProblemError):
    """The requested resource does not exist."""

    status = int(HTTPStatus.NOT_FOUND)
    title = "Not Found"
    type_slug = "not-found"


class ConflictError(ProblemError):
    """The request conflicts with the current state of the resource."""

    status = int(HTTPStatus.CONFLICT)
    title = "Conflict"
    type_slug = "conflict"


class FeatureDisabledError(NotFoundError):
    """The route sits behind a feature flag that is off; it answers as if it did not exist."""


class ServiceUnavailableError(ProblemError):
    """A dependency is unavailable; the client may retry after `retry_after` seconds."""

    status = int(HTTPStatus.SERVICE_UNAVAILABLE)
    title = "Service Unavailable"
    type_slug = "service-unavailable"

    def __init__(
        self,
        detail: str | None = None,
        *,
        retry_after: int = 5,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after), **(headers or {})})
        self.retry_after = retry_after
