"""Each route's policy in `/-/routes`: bearer auth found in its dependencies by the core, and
what plugins add through `faster_describe_route` (faster_core/introspection.py, and the
faster-auth / faster-redis implementations in their `_console.py`)."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from types import ModuleType
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from faster_core import PluginHost, PluginInfo, hookimpl
from faster_core.testing import AppFactory, client_for

pytestmark = pytest.mark.anyio

required_bearer = HTTPBearer()
optional_bearer = HTTPBearer(auto_error=False)


async def caller(
    credentials: Annotated[HTTPAuthorizationCredentials, Depends(required_bearer)],
) -> str:
    return credentials.credentials


class Routes:
    """A plugin with one open, one optional-auth and one protected route (the protection one
    dependency deep, from the router)."""

    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("shop", "1.0")

    @hookimpl
    def faster_routers(self) -> list[APIRouter]:
        router = APIRouter()
        protected = APIRouter(prefix="/orders", dependencies=[Depends(caller)])

        @router.get("/open")
        async def open_route() -> None: ...

        @router.get("/maybe")
        async def maybe(
            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(optional_bearer)],
        ) -> None: ...

        @protected.get("")
        async def orders() -> None: ...

        return [router, protected]


class Describer:
    """Adds fixed facts to one path, like a plugin recognising its own dependency."""

    def __init__(self, name: str, path: str, facts: Mapping[str, Any]) -> None:
        self.name, self.path, self.facts = name, path, facts

    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo(self.name, "1.0")

    @hookimpl
    def faster_describe_route(self, route: object, host: PluginHost) -> Mapping[str, Any] | None:
        assert isinstance(host, PluginHost)
        return self.facts if getattr(route, "path", None) == self.path else None


async def policies(app: FastAPI) -> dict[str, dict[str, Any]]:
    async with client_for(app) as client:
        routes = (await client.get("/-/routes")).json()
    return {route["path"]: route["policy"] for route in routes}


async def test_bearer_auth_is_found_in_route_and_router_dependencies(
    faster_app_factory: AppFactory,
) -> None:
    found = await policies(faster_app_factory(Routes(), debug=True))

    assert found["/open"] == {
        "auth": "none",
        "schemes": [],
        "roles": [],
        "rate_limit": None,
        "cache": None,
    }
    assert found["/maybe"]["auth"] == "optional"
    assert found["/orders"]["auth"] == "required"
    assert found["/orders"]["schemes"] == ["HTTPBearer"]
    assert found["/health"]["auth"] == "none"


async def test_plugins_add_roles_joined_and_other_facts(faster_app_factory: AppFactory) -> None:
    app = faster_app_factory(
        Routes(),
        Describer("a", "/orders", {"roles": ["clerk", "admin"], "rate_limit": "5/60s"}),
        Describer("b", "/orders", {"roles": ["admin", "auditor"], "cache": {"ttl": 30}}),
        debug=True,
    )
    found = await policies(app)

    assert found["/orders"]["roles"] == ["admin", "auditor", "clerk"]
    assert found["/orders"]["rate_limit"] == "5/60s"
    assert found["/orders"]["cache"] == {"ttl": 30}
    assert found["/open"]["roles"] == []


def _plugin_module(package: str) -> ModuleType:
    if importlib.util.find_spec(package) is None:
        pytest.skip(f"{package} is not installed")
    return importlib.import_module(f"{package}._console")


class Wrapped:
    """A plugin around a `_console` module's hook, for apps built before the package's own
    plugin registers it."""

    def __init__(self, name: str, module: ModuleType) -> None:
        self.name = name
        self.faster_describe_route = module.faster_describe_route

    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo(self.name, "1.0")


async def test_auth_reports_roles_and_permissions(faster_app_factory: AppFactory) -> None:
    module = _plugin_module("faster_auth")
    from faster_auth import require_roles
    from faster_auth.dependencies import BearerUser

    permissions = importlib.import_module("faster_auth.permissions")

    class AuthRoutes:
        @hookimpl
        def faster_plugin_info(self) -> PluginInfo:
            return PluginInfo("shop", "1.0")

        @hookimpl
        def faster_routers(self) -> list[APIRouter]:
            router = APIRouter()

            # A local import is invisible to FastAPI's look-up of string annotations: no
            # `CurrentUser` parameter here, the same dependency in `dependencies` instead.
            @router.get("/me", dependencies=[Depends(BearerUser(required=True))])
            async def me() -> None: ...

            @router.get("/reports", dependencies=[Depends(require_roles("finance", "admin"))])
            async def reports() -> None: ...

            @router.delete(
                "/invoices",
                dependencies=[Depends(permissions.require_permissions("invoices:delete"))],
            )
            async def delete_invoices() -> None: ...

            return [router]

    found = await policies(
        faster_app_factory(AuthRoutes(), Wrapped("auth-console", module), debug=True)
    )

    assert found["/me"]["auth"] == "required"
    assert found["/me"]["roles"] == []
    assert found["/reports"]["auth"] == "required"
    assert found["/reports"]["roles"] == ["admin", "finance"]
    assert found["/invoices"]["permissions"] == ["invoices:delete"]


async def test_redis_reports_rate_limits_and_cache(faster_app_factory: AppFactory) -> None:
    module = _plugin_module("faster_redis")
    from faster_redis.ratelimit import rate_limit
    from faster_redis.response_cache import cache_response

    class LimitedRoutes:
        @hookimpl
        def faster_plugin_info(self) -> PluginInfo:
            return PluginInfo("shop", "1.0")

        @hookimpl
        def faster_routers(self) -> list[APIRouter]:
            router = APIRouter()

            @router.post("/login", dependencies=[Depends(rate_limit("5/minute", login=True))])
            async def login() -> None: ...

            @router.get("/catalog")
            @cache_response(ttl=30, tags=["catalog"])
            async def catalog() -> list[str]:
                return []

            return [router]

    found = await policies(
        faster_app_factory(LimitedRoutes(), Wrapped("redis-console", module), debug=True)
    )

    assert found["/login"]["rate_limit"] == "5/60s"
    assert found["/catalog"]["cache"] == {
        "ttl": 30,
        "per_user": False,
        "tags": ["catalog"],
        "vary": [],
    }
    assert found["/catalog"]["rate_limit"] is None
