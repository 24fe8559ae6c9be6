"""The console's server side: where it exists, what it is served with, and the overview JSON
(faster_core/console.py)."""

from __future__ import annotations

import re
from importlib import resources

import pytest
from fastapi import APIRouter

from faster_core import PluginInfo, PluginSettings, UnsafeSettingsError, hookimpl
from faster_core.console import CONTENT_SECURITY_POLICY
from faster_core.introspection import describe_routes
from faster_core.testing import AppFactory, client_for

pytestmark = pytest.mark.anyio

ASSETS = resources.files("faster_core") / "console_assets"


class MetricsSettings(PluginSettings):
    metrics_path: str = "/stats"


class FakeObservability:
    """Stands in for faster-observability: a plugin named `observability` serving its path."""

    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("observability", "1.0", settings=MetricsSettings)

    @hookimpl
    def faster_routers(self) -> list[APIRouter]:
        router = APIRouter()

        @router.get("/stats")
        async def stats() -> str:
            return "up 1\n"

        return [router]


class AuthLikeSettings(PluginSettings):
    routes_prefix: str = "/accounts"


class FakeAuth:
    """Stands in for faster-auth with only some of its admin API, under another prefix."""

    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("auth", "1.0", settings=AuthLikeSettings)

    @hookimpl
    def faster_routers(self) -> list[APIRouter]:
        router = APIRouter(prefix="/accounts")

        @router.post("/login")
        async def login() -> None: ...

        @router.get("/me")
        async def me() -> None: ...

        @router.get("/admin/users/{user_id}")
        async def get_user(user_id: str) -> None: ...

        @router.post("/admin/users/{user_id}/ban")
        async def ban(user_id: str) -> None: ...

        return [router]


@pytest.mark.parametrize(
    "settings",
    [{}, {"debug": False, "env": "development"}, {"env": "production"}],
    ids=["defaults", "debug-off", "production"],
)
async def test_console_does_not_exist_without_debug_surfaces(
    faster_app_factory: AppFactory, settings: dict[str, str]
) -> None:
    async with client_for(faster_app_factory(**settings)) as client:
        for path in ["/-/console", "/-/console/assets/console.js", "/-/console/api/overview"]:
            response = await client.get(path)
            assert response.status_code == 404, path
            assert response.headers["content-type"] == "application/problem+json"


async def test_production_cannot_turn_the_console_on(faster_app_factory: AppFactory) -> None:
    app = faster_app_factory(env="staging", debug=True)
    assert "/-/console" in {route["path"] for route in describe_routes(app)}
    with pytest.raises(UnsafeSettingsError, match="FASTER_DEBUG is true in production"):
        faster_app_factory(env="production", debug=True)


async def test_page_is_served_with_a_same_origin_only_policy(
    faster_app_factory: AppFactory,
) -> None:
    async with client_for(faster_app_factory(debug=True)) as client:
        page = await client.get("/-/console")
        other = await client.get("/-/plugins")

    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert page.headers["cache-control"] == "no-store"
    # The core's security headers still apply to the page, and the policy stays on the console.
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in other.headers


async def test_page_references_only_its_own_assets() -> None:
    html = (ASSETS / "index.html").read_text()
    references = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert references
    assert all(ref.startswith(("console/assets/", "#")) for ref in references)
    # No inline script or style: the policy would block them.
    assert "<style" not in html
    assert "style=" not in html
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None
    scripts = [item.name for item in ASSETS.iterdir() if item.name.endswith(".js")]
    assert "console.js" in scripts
    for asset in [*scripts, "console.css"]:
        text = (ASSETS / asset).read_text()
        text = text.replace("http://www.w3.org/2000/svg", "")  # a namespace name, never fetched
        assert re.search(r"https?://", text) is None, f"{asset} names an absolute URL"
        assert "innerHTML" not in text


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("console.js", "text/javascript; charset=utf-8"),
        ("console.css", "text/css; charset=utf-8"),
        ("favicon.svg", "image/svg+xml"),
    ],
)
async def test_assets_are_served_from_the_package(
    faster_app_factory: AppFactory, name: str, media_type: str
) -> None:
    async with client_for(faster_app_factory(debug=True)) as client:
        response = await client.get(f"/-/console/assets/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.content == (ASSETS / name).read_bytes()


async def test_every_shipped_asset_is_served(faster_app_factory: AppFactory) -> None:
    names = [item.name for item in ASSETS.iterdir() if item.name != "index.html"]
    async with client_for(faster_app_factory(debug=True)) as client:
        for name in names:
            response = await client.get(f"/-/console/assets/{name}")
            assert response.status_code == 200, name
            assert response.content == (ASSETS / name).read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/-/console/assets/index.html",
        "/-/console/assets/..%2fconsole.py",
        "/-/console/assets/%2e%2e%2f%2e%2e%2fapp.py",
        "/-/console/assets/nope.js",
    ],
)
async def test_only_shipped_assets_are_served(faster_app_factory: AppFactory, path: str) -> None:
    async with client_for(faster_app_factory(debug=True)) as client:
        response = await client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_overview_of_a_core_only_app(faster_app_factory: AppFactory) -> None:
    async with client_for(faster_app_factory(debug=True, title="Shop")) as client:
        body = (await client.get("/-/console/api/overview")).json()
    assert body["title"] == "Shop"
    assert body["env"] == "test"
    assert body["health"] == "/health"
    assert body["docs"] == "/docs"
    assert body["metrics"] is None
    assert body["auth"] is None


async def test_overview_without_the_health_plugin(faster_app_factory: AppFactory) -> None:
    app = faster_app_factory(debug=True, disabled_plugins=["health"])
    async with client_for(app) as client:
        body = (await client.get("/-/console/api/overview")).json()
    assert body["health"] is None


async def test_overview_finds_the_metrics_path_and_auth_endpoints(
    faster_app_factory: AppFactory,
) -> None:
    app = faster_app_factory(FakeObservability(), FakeAuth(), debug=True)
    async with client_for(app) as client:
        body = (await client.get("/-/console/api/overview")).json()
    assert body["metrics"] == {"path": "/stats", "token_required": False}
    assert body["auth"]["prefix"] == "/accounts"
    assert body["auth"]["endpoints"] == {
        "login": True,
        "logout": False,
        "me": True,
        "list_users": False,
        "get_user": True,
        "set_roles": False,
        "ban": True,
        "unban": False,
        "audit": False,
    }
