"""The testing-kit fixtures: a migrated database per session and a session per test rolled back
at teardown (faster_db/testing.py)."""

from __future__ import annotations

import textwrap

import pytest

INNER = """
import pytest
from sqlalchemy import func, select

from faster_db import ConfigEntry, ConfigStore

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.parametrize("round_", [1, 2])
async def test_each_test_starts_from_an_empty_store(faster_db_session, round_):
    store = ConfigStore(faster_db_session)
    assert await faster_db_session.scalar(select(func.count()).select_from(ConfigEntry)) == 0
    await store.set("round", "n", round_)
    await faster_db_session.commit()  # committed inside the test's transaction only
    assert await store.get("round", "n") == round_


async def test_database_fixture_is_migrated(faster_db_database):
    async with faster_db_database.session_scope() as session:
        assert await ConfigStore(session).categories() == []
"""


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_fixtures_roll_back_each_test_on_a_migrated_database(
    pytester: pytest.Pytester,
    backend: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if backend == "postgresql":
        monkeypatch.setenv("FASTER_DB_TEST_URL", request.getfixturevalue("pg_url"))
    pytester.makepyfile(test_inner=textwrap.dedent(INNER))
    result = pytester.runpytest_subprocess("-p", "anyio", "-p", "no:randomly")
    result.assert_outcomes(passed=3)
