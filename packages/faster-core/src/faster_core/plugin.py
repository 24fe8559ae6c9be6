"""The core's built-in plugins: errors, HTTP defaults, health and introspection.

They are ordinary plugins, registered before any other, listed by `faster plugins` and (except
`errors`) disabled like any other with `FASTER_DISABLED_PLUGINS`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from fastapi import APIRouter, FastAPI

from faster_core._version import __version__
from faster_core.console import console_router
from faster_core.exceptions import ConfigurationError
from faster_core.health import HealthCheck, HealthEndpointsMiddleware, health_router
from faster_core.hookspecs import hookimpl
from faster_core.introspection import introspection_router
from faster_core.middleware import (
    BodyLimitMiddleware,
    CORSMiddleware,
    GZipMiddleware,
    MiddlewareSpec,
    RequestIdMiddleware,
    RequestObserver,
    SecurityHeaders,
    ServerErrorMiddleware,
    Slot,
    TrustedHostMiddleware,
    observe_all,
)
from faster_core.openapi import document_problems
from faster_core.plugins import PluginHost, PluginInfo
from faster_core.problems import ExceptionHandler, problem_exception_handlers

__all__ = ["ErrorsPlugin", "HealthPlugin", "HttpPlugin", "IntrospectionPlugin", "builtin_plugins"]


class ErrorsPlugin:
    """Problem-details responses for every error, and the last-resort 500 boundary."""

    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("errors", __version__, essential=True)

    @hookimpl
    def faster_exception_handlers(self) -> Mapping[type[Exception] | int, ExceptionHandler]:
        return problem_exception_handlers()

    @hookimpl
    def faster_middleware(self) -> Iterable[MiddlewareSpec]:
        return [MiddlewareSpec(ServerErrorMiddleware, Slot.ERRORS)]

    @hookimpl
    def faster_configure_app(self, app: FastAPI) -> None:
        document_problems(app)


class HttpPlugin:
    """Request ids, security headers, CORS, trusted hosts, the body limit and GZip."""

    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("http", __version__)

    @hookimpl
    def faster_middleware(self, host: PluginHost) -> Iterable[MiddlewareSpec]:
        s = host.settings
        observers: list[RequestObserver] = [
            observer
            for _, declared in host.call_in_order("faster_request_observers", host=host)
            for observer in declared
        ]
        specs = [
            # One layer for the request id, the security headers and the request observers
            # (see RequestIdMiddleware).
            MiddlewareSpec(
                RequestIdMiddleware,
                Slot.REQUEST_ID,
                {
                    "security": SecurityHeaders(hsts_max_age=s.hsts_max_age),
                    "observer": observe_all(observers),
                },
            ),
            MiddlewareSpec(
                BodyLimitMiddleware, Slot.BODY_LIMIT, {"max_body_size": s.max_body_size}
            ),
        ]
        if s.cors_origins:
            cors = {
                "allow_origins": s.cors_origins,
                "allow_credentials": s.cors_allow_credentials,
                "allow_methods": s.cors_allow_methods,
                "allow_headers": s.cors_allow_headers,
            }
            specs.append(MiddlewareSpec(CORSMiddleware, Slot.CORS, cors))
        if "*" not in s.trusted_hosts:
            specs.append(
                MiddlewareSpec(
                    TrustedHostMiddleware, Slot.TRUSTED_HOSTS, {"allowed_hosts": s.trusted_hosts}
                )
            )
        if s.gzip_minimum_size is not None:
            specs.append(
                MiddlewareSpec(GZipMiddleware, Slot.GZIP, {"minimum_size": s.gzip_minimum_size})
            )
        return specs


class HealthPlugin:
    """`/health/live`, `/health/ready` and `/health` over every plugin's health checks, served
    ahead of the router (see `HealthEndpointsMiddleware`)."""

    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("health", __version__)

    @hookimpl
    def faster_middleware(self, host: PluginHost) -> Iterable[MiddlewareSpec]:
        routes = health_router(self._checks(host), host.settings.health_timeout).routes
        host.edge_routes.extend(routes)
        return [MiddlewareSpec(HealthEndpointsMiddleware, Slot.HEALTH, {"routes": routes})]

    @staticmethod
    def _checks(host: PluginHost) -> list[HealthCheck]:
        checks: list[HealthCheck] = []
        owners: dict[str, str] = {}
        for plugin, declared in host.call_in_order("faster_health_checks", host=host):
            for check in declared:
                if check.name in owners:
                    raise ConfigurationError(
                        f"plugins {owners[check.name]!r} and {plugin!r} both declare "
                        f"a health check named {check.name!r}"
                    )
                owners[check.name] = plugin
                checks.append(check)
        return checks


class IntrospectionPlugin:
    """`/-/plugins`, `/-/routes`, `/-/settings` and the developer console (`/-/console`), only
    with debug on outside production."""

    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("introspection", __version__)

    @hookimpl
    def faster_routers(self, host: PluginHost) -> Iterable[APIRouter]:
        if not host.settings.debug_surfaces:
            return []
        return [introspection_router(), console_router()]


def builtin_plugins() -> list[object]:
    """Fresh instances of the built-ins for one app."""
    return [ErrorsPlugin(), HttpPlugin(), HealthPlugin(), IntrospectionPlugin()]
