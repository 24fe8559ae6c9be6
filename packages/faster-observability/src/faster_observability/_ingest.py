"""A Sentry ingest endpoint on loopback: what the real SDK sends, kept for assertions.

It answers `POST /api/<project>/envelope/` like Sentry does, decompresses the body (gzip, and
brotli when the `brotli` module is present), and keeps the raw bytes and every parsed item.
"""

from __future__ import annotations

import gzip
import http.server
import json
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Envelope", "SentryIngest"]


@dataclass(slots=True)
class Envelope:
    """One envelope: its header and its items as `(item header, payload)` pairs."""

    raw: bytes
    header: dict[str, Any]
    items: list[tuple[dict[str, Any], bytes]] = field(default_factory=list)

    @property
    def events(self) -> list[dict[str, Any]]:
        """The error events (type `event`) it carries, decoded."""
        return self.of_type("event")

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        """The JSON payloads of its items of type `kind` (`event`, `transaction`, ...)."""
        return [json.loads(payload) for head, payload in self.items if head.get("type") == kind]


def parse_envelope(raw: bytes) -> Envelope:
    header_line, _, rest = raw.partition(b"\n")
    envelope = Envelope(raw, json.loads(header_line or b"{}"))
    while rest.strip():
        item_line, _, rest = rest.partition(b"\n")
        head = json.loads(item_line)
        length = head.get("length")
        if length is None:
            payload, _, rest = rest.partition(b"\n")
        else:
            payload, rest = rest[:length], rest[length + 1 :]
        envelope.items.append((head, payload))
    return envelope


def _decompress(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding == "br":
        import brotli  # type: ignore[import-not-found]  # noqa: PLC0415  (only when sent)

        decoded: bytes = brotli.decompress(body)
        return decoded
    return body


class SentryIngest:
    """A threaded HTTP server on 127.0.0.1 standing in for Sentry; use as a context manager."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.requests = 0
        self._lock = threading.Lock()
        ingest = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                raw = _decompress(body, self.headers.get("Content-Encoding", ""))
                ingest.record(raw)
                answer = b"{}"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the test output is not the place for an access log."""

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def dsn(self) -> str:
        """A DSN whose ingest is this server (project 1, public key `public`)."""
        return f"http://public@127.0.0.1:{self.port}/1"

    def record(self, raw: bytes) -> None:
        with self._lock:
            self.requests += 1
            self.envelopes.append(parse_envelope(raw))

    @property
    def raw(self) -> bytes:
        """Every envelope received, decompressed, concatenated."""
        with self._lock:
            return b"\n".join(e.raw for e in self.envelopes)

    @property
    def events(self) -> list[dict[str, Any]]:
        return self.of_type("event")

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        """Every item of type `kind` received (`event`, `transaction`, ...), decoded."""
        with self._lock:
            return [item for envelope in self.envelopes for item in envelope.of_type(kind)]

    def wait_for_events(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """The events once at least `count` arrived (or whatever arrived by `timeout`)."""
        deadline = time.monotonic() + timeout
        while len(self.events) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.events

    def clear(self) -> None:
        with self._lock:
            self.envelopes.clear()
            self.requests = 0

    def start(self) -> SentryIngest:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SentryIngest:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
