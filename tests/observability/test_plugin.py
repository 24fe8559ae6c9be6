"""The plugin's contract: entry points, public API, documented hooks and settings
(faster_observability/plugin.py, hookspecs.py, settings.py, __init__.py)."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

import faster_observability
from faster_core import FasterSettings, create_app
from faster_core.testing import client_for
from faster_observability import ObservabilitySettings, hookspecs
from faster_observability.plugin import NAME

pytestmark = pytest.mark.anyio

README = (Path(__file__).parents[2] / "packages/faster-observability/README.md").read_text()


def test_entry_points_name_the_plugin_module_and_the_pytest_plugin() -> None:
    (faster,) = [ep for ep in entry_points(group="faster") if ep.name == NAME]
    assert faster.value == "faster_observability.plugin:ObservabilityPlugin"
    (pytest_plugin,) = [
        ep for ep in entry_points(group="pytest11") if ep.name == "faster_observability"
    ]
    assert pytest_plugin.value == "faster_observability.testing"


def test_public_api_is_pinned() -> None:
    assert sorted(faster_observability.__all__) == [
        "LogFormat",
        "MultiprocessMetricsError",
        "Observability",
        "ObservabilityConfigurationError",
        "ObservabilityError",
        "ObservabilityPlugin",
        "ObservabilitySettings",
        "REDACTED",
        "Redactor",
        "RequestContext",
        "SentryTransportError",
        "__version__",
        "capture_exception",
        "correlation_fields",
        "current_request_context",
        "current_trace_id",
        "set_user_id",
    ]
    for name in faster_observability.__all__:
        assert getattr(faster_observability, name) is not None


def test_importing_configures_nothing_and_reads_no_environment() -> None:
    code = (
        "import logging, structlog, sentry_sdk\n"
        "import faster_observability, faster_observability.plugin, faster_observability.testing\n"
        "assert logging.getLogger().handlers == []\n"
        "assert not structlog.is_configured()\n"
        "assert not sentry_sdk.get_client().is_active()\n"
    )
    env = {**os.environ, "FASTER_OBSERVABILITY_METRICS_ALLOW": "not-a-network"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_published_hooks_are_documented_in_docstring_and_readme() -> None:
    hooks = [name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction)]
    assert hooks == ["faster_observability_metrics"]
    for name in hooks:
        function = getattr(hookspecs, name)
        assert "Returns:" in (function.__doc__ or "")
        assert f"`{name}(" in README
        parameters = list(inspect.signature(function).parameters)
        assert f"`{name}({', '.join(parameters)})" in README


def test_every_setting_is_in_the_readme_table() -> None:
    for field in ObservabilitySettings.model_fields:
        assert f"`FASTER_OBSERVABILITY_{field.upper()}`" in README, field


def test_settings_parse_lists_and_status_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FASTER_OBSERVABILITY_SENTRY_CAPTURE_STATUSES", "429,500-503")
    monkeypatch.setenv("FASTER_OBSERVABILITY_METRICS_ALLOW", "10.0.0.0/8, ::1")
    monkeypatch.setenv("FASTER_OBSERVABILITY_REDACT_KEYS", '["ssn", "iban"]')
    settings = ObservabilitySettings(_env_prefix="FASTER_OBSERVABILITY_")
    assert settings.sentry_capture_statuses == {429, 500, 501, 502, 503}
    assert settings.metrics_allow == ["10.0.0.0/8", "::1"]
    assert settings.redact_keys == ["ssn", "iban"]


def test_a_bad_log_level_is_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FASTER_OBSERVABILITY_LOG_LEVEL", "loud")
    with pytest.raises(ValueError, match="FASTER_OBSERVABILITY_LOG_LEVEL"):
        ObservabilitySettings(_env_prefix="FASTER_OBSERVABILITY_")
    monkeypatch.setenv("FASTER_OBSERVABILITY_LOG_LEVEL", "warning")
    assert ObservabilitySettings(_env_prefix="FASTER_OBSERVABILITY_").log_level == "WARNING"


def test_a_bad_allow_list_entry_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FASTER_OBSERVABILITY_METRICS_ALLOW", "10.0.0.0/8,intranet")
    with pytest.raises(ValueError, match="FASTER_OBSERVABILITY_METRICS_ALLOW"):
        ObservabilitySettings(_env_prefix="FASTER_OBSERVABILITY_")


async def test_installed_plugin_loads_from_its_entry_point(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FASTER_OBSERVABILITY_CONFIGURE_LOGGING", "false")
    app = create_app(FasterSettings(_env_file=None, env="test", plugins=[NAME]))
    assert app.state.faster.is_enabled(NAME)
    async with client_for(app) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert re.search(r"^http_requests_total\{", response.text, re.MULTILINE) is None  # none yet
    assert "# TYPE http_requests_total counter" in response.text


def test_the_installed_plugin_refuses_a_public_metrics_endpoint_in_production() -> None:
    from faster_core import UnsafeSettingsError

    settings = FasterSettings(
        _env_file=None,
        env="production",
        plugin_settings={"observability": {"metrics_endpoint": True}},
    )
    with pytest.raises(UnsafeSettingsError, match="FASTER_OBSERVABILITY_METRICS_ENDPOINT"):
        create_app(
            settings, plugins=[faster_observability.ObservabilityPlugin()], load_entrypoints=False
        )
