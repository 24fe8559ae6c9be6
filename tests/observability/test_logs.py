"""Structured logs: format, correlation, redaction, access log, installation and restore
(faster_observability/logs.py, access_log.py)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import time
from pathlib import Path

import pytest
import structlog

from faster_core.testing import AppFactory, client_for
from faster_observability import ObservabilityPlugin
from faster_observability.logs import UtcClock, utc_iso
from faster_observability.testing import LogCapture
from tests.observability.apps import make_jwt
from tests.observability.conftest import MakeApp

pytestmark = pytest.mark.anyio

REQUIRED = {"time", "level", "logger", "message"}


def _mixed_request(i: int, secrets_seen: list[str]) -> tuple[str, str, dict[str, object]]:
    """Method, URL and httpx keyword arguments of request number `i` of the mixed load."""
    jwt = make_jwt()
    password = secrets.token_urlsafe(18)
    cookie = secrets.token_urlsafe(20)
    malformed = [f"Bearer {jwt[:25]}", f"Bearer {jwt}.{jwt}", "Bearer eyJ", f"Token {jwt[::-1]}"]
    secrets_seen += [jwt, password, cookie]
    headers = {
        "X-Request-ID": f"req-{i}",
        "Authorization": malformed[i % len(malformed)] if i % 3 else f"Bearer {jwt}",
        "Cookie": f"session={cookie}",
    }
    body = {"username": f"user{i}", "password": password, "refresh_token": jwt}
    kind = i % 6
    if kind == 0:
        return "GET", f"/items/{i}", {"headers": headers}
    if kind == 1:
        return "POST", "/login", {"headers": headers, "json": body}
    if kind == 2:
        return "GET", f"/nowhere/{i}?access_token={jwt}&password={password}", {"headers": headers}
    if kind == 3:
        return "GET", "/background", {"headers": headers}
    if kind == 4:
        return "GET", f"/items/x{i}", {"headers": headers}  # 422
    return "POST", "/refresh", {"headers": headers, "json": body}  # 500


async def test_a_thousand_mixed_requests_leave_no_secret_and_every_line_is_correlated(
    make_app: MakeApp, captured_logs: LogCapture
) -> None:
    app = make_app(core={"env": "production"})
    secrets_seen: list[str] = []
    statuses: dict[str, int] = {}
    async with client_for(app) as client:
        for i in range(1000):
            method, url, kwargs = _mixed_request(i, secrets_seen)
            response = await client.request(method, url, **kwargs)  # type: ignore[arg-type]
            statuses[f"req-{i}"] = response.status_code
        await asyncio.sleep(0.05)  # the last asyncio background task

    output = captured_logs.stream.getvalue()
    assert "eyJ" not in output
    fragments = {s[k : k + 16] for s in secrets_seen for k in range(len(s) - 15)}
    windows = {output[k : k + 16] for k in range(len(output) - 15)}
    assert fragments & windows == set()

    lines = captured_logs.json()  # every line parses as JSON
    assert all(line.keys() >= REQUIRED for line in lines)
    access = [line for line in lines if line["logger"] == "faster_observability.access"]
    assert {line["request_id"]: line["status"] for line in access} == statuses
    assert len(access) == 1000
    for line in lines:
        if line["message"].startswith("item ") and line["logger"].startswith("tests."):
            assert line["request_id"] == f"req-{line['message'].split()[1]}"
            assert line["route"] == "/items/{item_id}"
    background = [line for line in lines if line["message"] == "background job ran"]
    scheduled = sorted(f"req-{i}" for i in range(1000) if i % 6 == 3)
    assert sorted(line["request_id"] for line in background) == sorted(scheduled * 2)
    assert {line["kind"] for line in background} == {"starlette", "asyncio"}


async def test_concurrent_requests_keep_their_own_ids(
    make_app: MakeApp, captured_logs: LogCapture
) -> None:
    app = make_app(log_format="json")
    async with client_for(app) as client:
        await asyncio.gather(
            *(
                client.get(f"/items/{i}?pause=0.{i % 7}1", headers={"X-Request-ID": f"req-{i}"})
                for i in range(200)
            )
        )

    lines = [line for line in captured_logs.json() if line["message"].startswith("item ")]
    assert len(lines) == 200
    assert all(line["request_id"] == f"req-{line['message'].split()[1]}" for line in lines)
    access = [line for line in captured_logs.json() if line["logger"].endswith(".access")]
    assert sorted(line["request_id"] for line in access) == sorted(f"req-{i}" for i in range(200))


async def test_access_line_has_route_status_duration_and_user(
    make_app: MakeApp, captured_logs: LogCapture
) -> None:
    app = make_app(log_format="json")
    async with client_for(app) as client:
        await client.get("/me", headers={"X-Request-ID": "req-me"})
        await client.post("/refresh", json={"username": "a", "password": "p", "refresh_token": "r"})
        await client.get("/not/here")

    access = [line for line in captured_logs.json() if line["logger"].endswith(".access")]
    me, failed, missing = access
    assert me["request_id"] == "req-me"
    assert (me["method"], me["route"], me["path"], me["status"]) == ("GET", "/me", "/me", 200)
    assert me["user_id"] == "user-42"
    assert me["duration_ms"] >= 0
    assert me["level"] == "info"
    assert (failed["status"], failed["level"], failed["route"]) == (500, "error", "/refresh")
    assert (missing["status"], missing["route"]) == (404, None)
    handler_line = next(line for line in captured_logs.json() if line["message"] == "who am I")
    assert handler_line["user_id"] == "user-42"
    assert handler_line["request_id"] == "req-me"


async def test_traceparent_trace_id_is_in_every_line_of_the_request(
    make_app: MakeApp, captured_logs: LogCapture
) -> None:
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    app = make_app(log_format="json")
    async with client_for(app) as client:
        await client.get("/items/1", headers={"traceparent": f"00-{trace}-00f067aa0ba902b7-01"})
        await client.get("/items/2", headers={"traceparent": "00-zz-broken-01"})

    lines = [line for line in captured_logs.json() if line.get("route") == "/items/{item_id}"]
    assert [line.get("trace_id") for line in lines] == [trace, trace, None, None]


async def test_development_renders_for_the_console_and_production_hides_tracebacks(
    make_app: MakeApp, captured_logs: LogCapture
) -> None:
    async with client_for(make_app(core={"env": "development"})) as client:
        await client.get("/items/7", headers={"X-Request-ID": "req-console"})
    console = captured_logs.lines()
    assert any("item 7 read" in line and "req-console" in line for line in console)
    with pytest.raises(json.JSONDecodeError):
        json.loads(console[0])

    captured_logs.clear()
    async with client_for(make_app(core={"env": "production"})) as client:
        await client.post("/refresh", json={"username": "a", "password": "p", "refresh_token": "r"})
    error = next(line for line in captured_logs.json() if line["logger"] == "faster_core.errors")
    assert error["exception"].startswith("RuntimeError: refresh failed")
    assert "Traceback" not in error["exception"]


async def test_values_cannot_forge_lines(make_app: MakeApp, captured_logs: LogCapture) -> None:
    app = make_app(log_format="json")
    async with client_for(app) as client:
        await client.post(
            "/login",
            json={"username": 'x\n{"level": "critical", "message": "forged"}', "password": "p"},
        )
        await client.get("/items/1%0a%7B%22forged%22%3A1%7D")

    lines = captured_logs.lines()
    assert all(json.loads(line)["message"] != "forged" for line in lines)
    assert all("forged" not in json.loads(line) for line in lines)


async def test_third_party_and_uvicorn_loggers_go_through_the_pipeline(
    make_app: MakeApp, captured_logs: LogCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    uvicorn_error = logging.getLogger("uvicorn.error")
    monkeypatch.setattr(uvicorn_error, "level", logging.WARNING)  # as a server run earlier sets
    app = make_app(log_format="json")
    async with client_for(app):
        logging.getLogger("some.library").warning("token=%s leaked?", "abcdef")
        logging.getLogger("uvicorn.error").info("Started server process")
        assert logging.getLogger("uvicorn.access").disabled

    lines = {line["logger"]: line for line in captured_logs.json()}
    assert lines["some.library"]["message"] == "token=[REDACTED] leaked?"
    assert lines["some.library"]["level"] == "warning"
    assert lines["uvicorn.error"]["message"] == "Started server process"


async def test_shutdown_restores_logging_and_structlog(
    make_app: MakeApp, captured_logs: LogCapture
) -> None:
    root = logging.getLogger()
    marker = logging.NullHandler()
    root.addHandler(marker)
    handlers, level = list(root.handlers), root.level
    uvicorn_access = logging.getLogger("uvicorn.access")
    structlog.configure(processors=[structlog.processors.KeyValueRenderer()])
    config = structlog.get_config()
    try:
        async with client_for(make_app()):
            assert marker not in root.handlers
            assert uvicorn_access.disabled
        assert root.handlers == handlers
        assert root.level == level
        assert logging.getLogger("uvicorn.access").disabled is False
        assert structlog.get_config() == config
    finally:
        root.removeHandler(marker)
        structlog.reset_defaults()


async def test_two_apps_one_after_another_do_not_leak_into_each_other(
    make_app: MakeApp, captured_logs: LogCapture
) -> None:
    async with client_for(make_app(log_format="json")) as client:
        await client.get("/items/1")
    first = len(captured_logs.lines())
    logging.getLogger("after.shutdown").warning("not ours")
    assert len(captured_logs.lines()) == first


async def test_rotating_file_output(make_app: MakeApp, tmp_path: Path) -> None:
    path = tmp_path / "logs" / "app.log"
    path.parent.mkdir()
    app = make_app(log_file=str(path), log_file_max_bytes=4000, log_file_backups=2)
    async with client_for(app) as client:
        for i in range(60):
            await client.get(f"/items/{i}")

    files = sorted(p.name for p in path.parent.iterdir())
    assert files == ["app.log", "app.log.1", "app.log.2"]
    for file in path.parent.iterdir():
        assert all(json.loads(line)["time"] for line in file.read_text().splitlines())
        assert file.stat().st_size <= 4000


async def test_access_log_can_be_switched_off(make_app: MakeApp, captured_logs: LogCapture) -> None:
    async with client_for(make_app(access_log=False, log_format="json")) as client:
        await client.get("/items/1")
    assert [line["logger"] for line in captured_logs.json()].count(
        "faster_observability.access"
    ) == 0


async def test_overlapping_apps_restore_the_original_whatever_order_they_stop_in(
    faster_app_factory: AppFactory,
) -> None:
    root = logging.getLogger()
    original = list(root.handlers)
    first_logs, second_logs = LogCapture(), LogCapture()
    first = faster_app_factory(ObservabilityPlugin(log_stream=first_logs.stream))
    second = faster_app_factory(ObservabilityPlugin(log_stream=second_logs.stream))
    first_client, second_client = client_for(first), client_for(second)
    await first_client.__aenter__()
    await second_client.__aenter__()
    await first_client.__aexit__(None, None, None)  # the first one stops first

    logging.getLogger("still.running").warning("after the first stopped")
    assert "after the first stopped" in second_logs.stream.getvalue()
    assert "after the first stopped" not in first_logs.stream.getvalue()

    await second_client.__aexit__(None, None, None)
    assert root.handlers == original
    assert logging.getLogger("uvicorn.access").disabled is False


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_a_handler_added_to_the_access_logger_gets_the_same_line_as_a_record(
    make_app: MakeApp, captured_logs: LogCapture
) -> None:
    # The JSON handlers get the line pre-rendered; any other handler a record with its fields.
    extra = _Records()
    access_logger = logging.getLogger("faster_observability.access")
    access_logger.addHandler(extra)
    try:
        async with client_for(make_app(log_format="json")) as client:
            await client.get("/me?x=1", headers={"X-Request-ID": "req-both"})
            await client.get("/items/1", headers={"X-Request-ID": "req-fast"})
    finally:
        access_logger.removeHandler(extra)

    written = [line for line in captured_logs.json() if line["logger"].endswith(".access")]
    recorded = [record.msg for record in extra.records]
    assert [line["request_id"] for line in written] == ["req-both", "req-fast"]
    for line, fields in zip(written, recorded, strict=True):
        assert isinstance(fields, dict)
        assert line.keys() == fields.keys()
        assert {k: v for k, v in line.items() if k not in {"time", "duration_ms"}} == {
            k: v for k, v in fields.items() if k not in {"time", "duration_ms"}
        }


async def test_a_filter_on_the_access_logger_applies(
    make_app: MakeApp, captured_logs: LogCapture
) -> None:
    access_logger = logging.getLogger("faster_observability.access")

    def drop_health(record: logging.LogRecord) -> bool:
        return "/items/2" not in str(record.msg)

    access_logger.addFilter(drop_health)
    try:
        async with client_for(make_app(log_format="json")) as client:
            await client.get("/items/1")
            await client.get("/items/2")
    finally:
        access_logger.removeFilter(drop_health)

    paths = [line["path"] for line in captured_logs.json() if line["logger"].endswith(".access")]
    assert paths == ["/items/1"]


async def test_logging_changed_while_serving_applies_to_the_next_access_line(
    make_app: MakeApp, captured_logs: LogCapture
) -> None:
    # The access log checks the layout it last saw in a few comparisons: a change made after
    # the first line (a root handler, a level, a filter) must still apply from the next one.
    extra = _Records()
    root = logging.getLogger()
    async with client_for(make_app(log_format="json")) as client:
        await client.get("/items/1")
        (console,) = root.handlers
        root.addHandler(extra)
        try:
            await client.get("/items/2")
        finally:
            root.removeHandler(extra)
        console.setLevel(logging.ERROR)
        await client.get("/items/3")
        console.setLevel(logging.NOTSET)
        console.addFilter(lambda record: "/items/4" not in str(record.msg))
        await client.get("/items/4")
        await client.get("/items/5")

    paths = [line["path"] for line in captured_logs.json() if line["logger"].endswith(".access")]
    assert paths == ["/items/1", "/items/2", "/items/5"]
    assert [record.msg["path"] for record in extra.records if isinstance(record.msg, dict)] == [
        "/items/2"
    ]


def test_the_clock_writes_the_time_as_utc_iso_does() -> None:
    clock = UtcClock()
    for timestamp in (0.0, 1764309687.000001, 1764309687.851348, 1764309688.9999996, 1.5e9):
        assert clock(timestamp) == utc_iso(timestamp)
    for nanoseconds in (0, 1764309687_000001_000, 1764309687_851348_499, 1764309688_999999_999):
        assert clock.at_ns(nanoseconds) == utc_iso((nanoseconds // 1000) / 1e6)
    before = utc_iso(time.time())
    now = clock.at_ns(time.time_ns())
    assert before <= now <= utc_iso(time.time())
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", now)
