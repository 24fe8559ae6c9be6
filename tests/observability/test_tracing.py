"""OpenTelemetry spans over OTLP/HTTP to a loopback receiver (faster_observability/tracing.py).

Skipped when the `otel` extra is not installed."""

from __future__ import annotations

import gzip
import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from faster_core import PluginStartupError
from faster_core.testing import client_for
from tests.observability.conftest import MakeApp

pytestmark = pytest.mark.anyio

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
ROOT = Path(__file__).parents[2]


class OtlpReceiver:
    """Collects the spans of every OTLP/HTTP trace export sent to it."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                receiver.bodies.append(body)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1/traces"

    def spans(self) -> list[Any]:
        trace_service = pytest.importorskip(
            "opentelemetry.proto.collector.trace.v1.trace_service_pb2"
        )
        found = []
        for body in self.bodies:
            request = trace_service.ExportTraceServiceRequest()
            request.ParseFromString(body)
            for resource_spans in request.resource_spans:
                for scope_spans in resource_spans.scope_spans:
                    found.extend(scope_spans.spans)
        return found


@pytest.fixture
def otlp() -> Iterator[OtlpReceiver]:
    pytest.importorskip("opentelemetry.sdk.trace")
    pytest.importorskip("opentelemetry.exporter.otlp.proto.http.trace_exporter")
    receiver = OtlpReceiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


async def test_requests_become_server_spans_named_by_route(
    make_app: MakeApp, otlp: OtlpReceiver
) -> None:
    app = make_app(configure_logging=False, otel_endpoint=otlp.endpoint)
    async with client_for(app) as client:
        await client.get("/items/3", headers={"traceparent": f"00-{TRACE}-00f067aa0ba902b7-01"})
        await client.post("/refresh", json={"username": "a", "password": "p", "refresh_token": "r"})
        await client.get("/nowhere")
    # Leaving the lifespan shut the provider down, flushing the batch.

    spans = {span.name: span for span in otlp.spans()}
    assert set(spans) == {"GET /items/{item_id}", "POST /refresh", "GET"}
    item = spans["GET /items/{item_id}"]
    assert item.trace_id.hex() == TRACE
    assert item.parent_span_id.hex() == "00f067aa0ba902b7"
    assert item.kind == 2  # SERVER
    attributes = {a.key: a.value for a in item.attributes}
    assert attributes["http.route"].string_value == "/items/{item_id}"
    assert attributes["http.response.status_code"].int_value == 200
    assert spans["POST /refresh"].status.code == 2  # ERROR


def test_without_an_endpoint_opentelemetry_is_not_imported() -> None:
    # FastAPI itself may import the OpenTelemetry API; the SDK and exporter are ours to load.
    code = (
        "import asyncio, sys\n"
        "from faster_core.testing import client_for\n"
        "from tests.observability.apps import multiprocess_app\n"
        "async def main():\n"
        "    app = multiprocess_app()\n"
        "    async with client_for(app) as client:\n"
        "        assert (await client.get('/items/1')).status_code == 200\n"
        "    assert app.state.observability.tracing is None\n"
        "asyncio.run(main())\n"
        "ours = ('opentelemetry.sdk', 'opentelemetry.exporter')\n"
        "assert not [m for m in sys.modules if m.startswith(ours)]\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("FASTER_")}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env)


async def test_a_missing_extra_is_a_clear_start_up_error(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk.trace", None)
    app = make_app(configure_logging=False, otel_endpoint="http://127.0.0.1:9/v1/traces")
    with pytest.raises(PluginStartupError, match=r"faster-observability\[otel\]"):
        async with client_for(app):
            pass
