"""Feature flags: declared in settings, per environment, overridden by env var, usable as a
dependency and in code (faster_core/flags.py)."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, Depends

from faster_core import Environment, FasterSettings, PluginInfo, create_app, hookimpl, require_flag
from faster_core.testing import AppFactory, client_for

FLAGS = '{"beta": {"default": false, "environments": {"staging": true}}, "legacy": true}'


def flags_for(env: str) -> dict[str, bool]:
    settings = FasterSettings(_env_file=None, env=env)
    flags: dict[str, bool] = create_app(
        settings, load_entrypoints=False
    ).state.faster.flags.as_dict()
    return flags


def test_flag_follows_its_environment_then_its_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FASTER_FLAGS", FLAGS)

    assert flags_for("staging") == {"beta": True, "legacy": True}
    assert flags_for("production") == {"beta": False, "legacy": True}


def test_an_env_var_overrides_a_declared_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FASTER_FLAGS", FLAGS)
    monkeypatch.setenv("FASTER_FLAGS__BETA__ENABLED", "true")
    monkeypatch.setenv("FASTER_FLAGS__LEGACY", "false")

    assert flags_for("development") == {"beta": True, "legacy": False}


def test_undeclared_flag_is_off() -> None:
    app = create_app(FasterSettings(_env_file=None), load_entrypoints=False)
    assert app.state.faster.flags.is_enabled("never-declared") is False


class BetaRoutes:
    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("beta-routes")

    @hookimpl
    def faster_routers(self) -> list[APIRouter]:
        router = APIRouter(dependencies=[Depends(require_flag("beta"))])

        @router.get("/beta")
        async def beta() -> dict[str, str]:
            return {"beta": "on"}

        return [router]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("env", "status"), [(Environment.STAGING, 200), (Environment.PRODUCTION, 404)]
)
async def test_disabled_flag_answers_404_problem_on_its_routes(
    faster_app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch, env: Environment, status: int
) -> None:
    monkeypatch.setenv("FASTER_FLAGS", FLAGS)
    async with client_for(faster_app_factory(BetaRoutes(), env=env)) as client:
        response = await client.get("/beta")

    assert response.status_code == status
    if status == 404:
        assert response.headers["content-type"] == "application/problem+json"
