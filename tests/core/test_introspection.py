"""Debug-only introspection: plugins, routes and redacted settings
(faster_core/introspection.py)."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from faster_core import PluginInfo, PluginSettings, hookimpl
from faster_core.testing import AppFactory, client_for

pytestmark = pytest.mark.anyio


class VaultSettings(PluginSettings):
    url: str = "https://vault.example"
    token: SecretStr = SecretStr("s.super-secret-token-value")
    signing_key: str = "plain-but-named-like-a-key"


class VaultPlugin:
    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("vault", "2.0.0", settings=VaultSettings)


@pytest.mark.parametrize("path", ["/-/plugins", "/-/routes", "/-/settings"])
async def test_introspection_is_absent_without_debug(
    faster_app_factory: AppFactory, path: str
) -> None:
    async with client_for(faster_app_factory(VaultPlugin())) as client:
        response = await client.get(path)
    assert response.status_code == 404


async def test_plugins_lists_each_plugin_with_redacted_settings(
    faster_app_factory: AppFactory,
) -> None:
    async with client_for(faster_app_factory(VaultPlugin(), debug=True)) as client:
        response = await client.get("/-/plugins")

    assert response.status_code == 200
    plugins = {p["name"]: p for p in response.json()}
    vault = plugins["vault"]
    assert vault["version"] == "2.0.0"
    assert vault["state"] == "enabled"
    assert vault["order"] == 4
    assert "faster_plugin_info" in vault["hooks"]
    assert vault["settings"]["url"] == "https://vault.example"
    assert vault["settings"]["token"] == "**********"
    assert vault["settings"]["signing_key"] == "**********"
    assert "super-secret" not in response.text
    assert plugins["errors"]["order"] == 0


async def test_routes_and_settings_are_listed(faster_app_factory: AppFactory) -> None:
    async with client_for(faster_app_factory(VaultPlugin(), debug=True)) as client:
        routes = await client.get("/-/routes")
        settings = await client.get("/-/settings")

    assert {"path": "/health/ready", "methods": ["GET"]}.items() <= next(
        r for r in routes.json() if r["path"] == "/health/ready"
    ).items()
    body = settings.json()
    assert body["core"]["debug"] is True
    assert "plugin_settings" not in body["core"]
    assert body["plugins"]["vault"]["token"] == "**********"
    assert "super-secret" not in settings.text
