"""The package README documents every setting and fixture (packages/faster-redis/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from faster_redis import testing
from faster_redis.settings import RedisSettings

README = (Path(__file__).parents[2] / "packages" / "faster-redis" / "README.md").read_text()


@pytest.mark.parametrize("field", sorted(RedisSettings.model_fields))
def test_every_setting_is_in_the_settings_table(field: str) -> None:
    assert f"| `{field}` | `FASTER_REDIS_{field.upper()}` |" in README


def fixture_names() -> list[str]:
    return [
        name
        for name, value in vars(testing).items()
        if type(value).__name__ == "FixtureFunctionDefinition"
        or hasattr(value, "_pytestfixturefunction")
    ]


def test_the_testing_kit_has_fixtures() -> None:
    assert {"redis_server", "redis_down", "redis_frozen"} <= set(fixture_names())


@pytest.mark.parametrize("fixture", fixture_names())
def test_every_fixture_is_documented(fixture: str) -> None:
    assert f"| `{fixture}` |" in README
