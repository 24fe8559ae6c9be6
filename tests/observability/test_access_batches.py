"""Access lines written in batches (StructuredStreamHandler, AccessLog): when a batch is written,
the order of lines in the stream, and that a batched line is the line a record would give."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from faster_core.testing import client_for
from faster_observability import Redactor
from faster_observability import access_log as access_log_module
from faster_observability import logs as logs_module
from faster_observability.access_log import ACCESS_LOGGER, AccessLog
from faster_observability.correlation import RequestContext
from faster_observability.logs import StructuredFormatter, StructuredStreamHandler, install_logging
from faster_observability.settings import LogFormat
from faster_observability.testing import LogCapture
from tests.observability.apps import make_jwt
from tests.observability.conftest import MakeApp

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def _quiet_client() -> Iterator[None]:
    """httpx logs each request at INFO, which would write the batch before it every time."""
    client_logger = logging.getLogger("httpx")
    level = client_logger.level
    client_logger.setLevel(logging.WARNING)
    yield
    client_logger.setLevel(level)


def _access_paths(text: str) -> list[str]:
    lines = [json.loads(line) for line in text.splitlines()]
    return [line["path"] for line in lines if line["logger"] == ACCESS_LOGGER]


def _context(path: str, status: int, **scope: object) -> RequestContext:
    context = RequestContext(
        "GET", path, {"headers": [], "client": ("10.0.0.7", 5000), "path": path, **scope}
    )
    context.status = status
    return context


@contextmanager
def json_logging() -> Iterator[tuple[io.StringIO, AccessLog]]:
    """The plugin's logging in JSON, batching over 10 s, to a stream; and an access log.
    Installed inside the test: pytest adds its own handler to the root logger for the test's
    call, which would turn batching off."""
    stream = io.StringIO()
    redactor = Redactor()
    installed = install_logging(
        redactor=redactor,
        fmt=LogFormat.JSON,
        level="INFO",
        tracebacks=False,
        stream=stream,
        batch_seconds=10.0,
    )
    try:
        yield stream, AccessLog(redactor)
    finally:
        installed.restore()


async def test_a_line_waits_for_its_batch_then_lines_come_in_order(
    make_app: MakeApp, captured_logs: LogCapture
) -> None:
    app = make_app(log_format="json", access_log_batch_seconds=0.2)
    async with client_for(app) as client:
        for path in ("/pid", "/missing", "/pid"):
            await client.get(path)
        assert _access_paths(captured_logs.stream.getvalue()) == []
        await asyncio.sleep(0.5)
        assert _access_paths(captured_logs.stream.getvalue()) == ["/pid", "/missing", "/pid"]


async def test_any_other_line_writes_the_batch_before_it(
    make_app: MakeApp, captured_logs: LogCapture
) -> None:
    app = make_app(log_format="json", access_log_batch_seconds=10)
    async with client_for(app) as client:
        await client.get("/pid")
        logging.getLogger("tests.elsewhere").warning("after the request")
        lines = [json.loads(line) for line in captured_logs.stream.getvalue().splitlines()]

    messages = [line["message"] if "message" in line else line["event"] for line in lines]
    assert messages[-2:] == ["GET /pid 200", "after the request"]


async def test_shutdown_writes_the_batch(make_app: MakeApp, captured_logs: LogCapture) -> None:
    app = make_app(log_format="json", access_log_batch_seconds=10)
    async with client_for(app) as client:
        await client.get("/pid")
        await client.get("/missing")
        assert _access_paths(captured_logs.stream.getvalue()) == []
    assert _access_paths(captured_logs.stream.getvalue()) == ["/pid", "/missing"]


async def test_a_full_batch_is_written_without_waiting(
    make_app: MakeApp, captured_logs: LogCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logs_module, "BATCH_LINES", 3)
    app = make_app(log_format="json", access_log_batch_seconds=10)
    async with client_for(app) as client:
        await client.get("/pid")
        await client.get("/pid")
        assert _access_paths(captured_logs.stream.getvalue()) == []
        await client.get("/missing")
        assert _access_paths(captured_logs.stream.getvalue()) == ["/pid", "/pid", "/missing"]


async def test_zero_seconds_writes_each_line_when_its_request_ends(
    make_app: MakeApp, captured_logs: LogCapture
) -> None:
    app = make_app(log_format="json", access_log_batch_seconds=0)
    async with client_for(app) as client:
        await client.get("/pid")
        assert _access_paths(captured_logs.stream.getvalue()) == ["/pid"]


async def test_a_5xx_line_is_written_at_once_after_the_batch() -> None:
    with json_logging() as (stream, access_log):
        access_log.emit(_context("/first", 200), "/first", 0.001, "req-1")
        access_log.emit(_context("/second", 404), None, 0.001, "req-2")
        assert stream.getvalue() == ""
        access_log.emit(_context("/broken", 503), "/broken", 0.001, "req-3")
        assert _access_paths(stream.getvalue()) == ["/first", "/second", "/broken"]


def test_without_a_running_event_loop_a_line_is_written_at_once() -> None:
    with json_logging() as (stream, access_log):
        access_log.emit(_context("/sync", 200), "/sync", 0.001, "req-sync")
        assert _access_paths(stream.getvalue()) == ["/sync"]


async def test_a_batch_the_stream_refuses_is_reported_not_raised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Refusing(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError("disk full")

    handler = StructuredStreamHandler(Refusing(), batch_seconds=10.0)
    reported: list[logging.LogRecord] = []
    monkeypatch.setattr(handler, "handleError", reported.append)
    handler.write_line(str, "a line\n", False)
    handler.write_line(str, "another\n", False)
    handler.flush()
    assert [record.getMessage() for record in reported] == ["2 batched log lines not written"]
    handler.flush()  # nothing is left to write, and nothing is reported twice
    assert len(reported) == 1


async def test_a_batched_line_is_the_line_its_record_renders_to() -> None:
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    context = _context(
        f"/orders/7/{make_jwt()}",
        201,
        headers=[(b"traceparent", f"00-{trace}-00f067aa0ba902b7-01".encode())],
    )
    context.user_id = 'line"\nbreak'
    formatter = StructuredFormatter(Redactor(), LogFormat.JSON, tracebacks=False)
    route = "/orders/{order_id}/{token}"
    with json_logging() as (stream, access_log):
        for duration in (0.0017904, 12.5, 0.0):
            access_log.emit(context, route, duration, "req-7")
            record = access_log._record(
                context, route, 201, logging.INFO, duration, request_id="req-7"
            )
            expected = json.loads(formatter.format(record))
            logging.getLogger().handlers[0].flush()
            (written,) = [json.loads(line) for line in stream.getvalue().splitlines()]
            stream.seek(0)
            stream.truncate()
            assert list(written) == list(expected)  # the same keys, in the same order
            assert {k: v for k, v in written.items() if k != "time"} == {
                k: v for k, v in expected.items() if k != "time"
            }
    assert written["trace_id"] == trace
    assert "eyJ" not in written["path"]
    assert written["user_id"].startswith('line"')


async def test_the_table_of_line_parts_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(access_log_module, "_KEPT_PARTS", 8)
    paths = [f"/random/{i}" for i in range(30)]
    with json_logging() as (stream, access_log):
        for path in paths:
            access_log.emit(_context(path, 404), None, 0.001, "req")
            logging.getLogger().handlers[0].flush()  # rendered now, while the table is small
            assert len(access_log._parts) <= 8
        assert _access_paths(stream.getvalue()) == paths
