"""Settings: schemes, the password kept out of the URL and out of every display
(faster_redis/settings.py)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from faster_core.testing import client_for
from faster_redis.settings import FailurePolicy, RedisSettings
from tests.redis.apps import build_app

pytestmark = pytest.mark.anyio


def test_defaults_are_embedded_and_short() -> None:
    settings = RedisSettings(_env_file=None)
    assert settings.url == "memory://"
    assert settings.memory
    assert settings.socket_timeout <= 1
    assert settings.connect_timeout <= 1
    assert settings.cache_failure is FailurePolicy.OPEN
    assert settings.ratelimit_failure is FailurePolicy.OPEN
    assert settings.ratelimit_login_failure is FailurePolicy.CLOSED
    assert settings.lock_failure is FailurePolicy.CLOSED


def test_password_moves_out_of_the_url() -> None:
    settings = RedisSettings(_env_file=None, url="rediss://default:s3cr3t-pw@cache.example:6380/0")
    assert settings.url == "rediss://default@cache.example:6380/0"
    assert settings.password is not None
    assert settings.password.get_secret_value() == "s3cr3t-pw"
    assert "s3cr3t" not in repr(settings)


def test_unknown_scheme_names_the_variable() -> None:
    with pytest.raises(ValidationError, match="FASTER_REDIS_URL"):
        RedisSettings(_env_file=None, url="http://localhost")


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FASTER_REDIS_PREFIX", "shop:")
    monkeypatch.setenv("FASTER_REDIS_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")
    settings = RedisSettings(_env_prefix="FASTER_REDIS_", _env_file=None)
    assert settings.prefix == "shop:"
    assert settings.trusted_proxies == ["10.0.0.0/8", "127.0.0.1"]
    assert settings.key("cache", "x") == "shop:cache:x"


async def test_password_is_never_shown_in_introspection() -> None:
    app = build_app({"url": "memory://", "password": "hunter2-hunter2"}, debug=True)
    async with client_for(app) as client:
        body = (await client.get("/-/settings")).text
    assert "hunter2" not in body
