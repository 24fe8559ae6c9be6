"""`FASTER_AUTH_*`: defaults, bounds, and the refusals of unsafe production settings."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from faster_auth import AuthSettings
from faster_core import UnsafeSettingsError
from faster_core.testing import client_for


def test_defaults() -> None:
    settings = AuthSettings(_env_file=None)
    assert settings.provider == "local"
    assert settings.algorithm == "EdDSA"
    assert settings.leeway == 30
    assert settings.audience == ["faster"]
    assert settings.issuer == "urn:faster:local"
    assert settings.private_key is None


def test_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FASTER_AUTH_LEEWAY", "10")
    monkeypatch.setenv("FASTER_AUTH_AUDIENCE", "api,billing")
    monkeypatch.setenv("FASTER_AUTH_ISSUER", "https://id.example")
    settings = AuthSettings(_env_prefix="FASTER_AUTH_", _env_file=None)
    assert settings.leeway == 10
    assert settings.audience == ["api", "billing"]
    assert settings.issuer == "https://id.example"


def test_a_leeway_over_300_seconds_is_refused_naming_the_variable() -> None:
    assert AuthSettings(leeway=300).leeway == 300
    with pytest.raises(ValidationError, match="FASTER_AUTH_LEEWAY must be at most 300"):
        AuthSettings(leeway=301)


def test_an_empty_audience_is_refused() -> None:
    with pytest.raises(ValidationError, match="FASTER_AUTH_AUDIENCE"):
        AuthSettings(audience="")


def test_an_unknown_algorithm_is_refused() -> None:
    with pytest.raises(ValidationError):
        AuthSettings(algorithm="HS256")


def test_production_without_a_private_key_refuses_to_start(auth_app_factory: Any) -> None:
    with pytest.raises(UnsafeSettingsError, match="FASTER_AUTH_PRIVATE_KEY"):
        auth_app_factory(env="production")


@pytest.mark.anyio
async def test_production_with_a_private_key_starts(
    auth_app_factory: Any, private_pem: str
) -> None:
    app = auth_app_factory(env="production", private_key=private_pem)
    async with client_for(app, base_url="https://testserver") as client:
        response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200, response.text
    assert response.json()["keys"][0]["kid"] == app.state.auth.signing_key.kid


def test_both_key_settings_at_once_are_refused(auth_app_factory: Any, private_pem: str) -> None:
    with pytest.raises(UnsafeSettingsError, match="FASTER_AUTH_PRIVATE_KEY_FILE"):
        auth_app_factory(private_key=private_pem, private_key_file="key.pem")


def test_the_private_key_never_shows_in_repr(private_pem: str) -> None:
    assert "PRIVATE" not in repr(AuthSettings(private_key=private_pem))
