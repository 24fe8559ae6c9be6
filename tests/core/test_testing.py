"""The pytest plugin users get with faster-core, run as they would run it
(faster_core/testing.py)."""

from __future__ import annotations

import pytest

USER_TESTS = """
import pytest
from fastapi import APIRouter
from faster_core import PluginInfo, hookimpl

pytestmark = pytest.mark.anyio


class Hello:
    @hookimpl
    def faster_plugin_info(self):
        return PluginInfo("hello")

    @hookimpl
    def faster_routers(self):
        router = APIRouter()

        @router.get("/hello")
        async def hello():
            return {"hello": "world"}

        return [router]


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def faster_app(faster_app_factory):
    return faster_app_factory(Hello(), debug=True)


async def test_client_runs_the_lifespan_and_serves(faster_client):
    assert (await faster_client.get("/hello")).json() == {"hello": "world"}
    assert (await faster_client.get("/health/ready")).status_code == 200
    assert (await faster_client.get("/-/plugins")).status_code == 200


def test_settings_fixture_is_the_test_environment(faster_settings):
    assert faster_settings.env == "test"


def test_factory_applies_settings_overrides(faster_app_factory):
    app = faster_app_factory(title="Mine")
    assert app.title == "Mine"
"""


def test_users_fixtures_work_through_the_installed_pytest_plugin(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)

    result = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider")

    result.assert_outcomes(passed=3)


OVERRIDDEN_SETTINGS = """
import pytest
from faster_core import FasterSettings


@pytest.fixture
def faster_settings():
    return FasterSettings(_env_file=None, env="test", title="From the fixture")


def test_factory_builds_on_the_settings_fixture(faster_app_factory):
    assert faster_app_factory().title == "From the fixture"
    overridden = faster_app_factory(debug=True)
    assert overridden.title == "From the fixture"
    assert overridden.state.faster.settings.debug is True
"""


def test_the_factory_builds_on_an_overridden_settings_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=OVERRIDDEN_SETTINGS)

    result = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider")

    result.assert_outcomes(passed=1)
