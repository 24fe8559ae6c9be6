"""An HTTP response cache for GET routes, served before routing and dependency resolution.

Mark a route with `@cache_response(ttl=..., tags=[...])`; `ResponseCacheMiddleware` (installed by
the plugin) answers hits without entering the route. It honours a client's
`Cache-Control: no-cache` (revalidate: recompute and store) and `no-store` (neither read nor
write), sets a strong `ETag` and answers a matching `If-None-Match` with 304. A request with
`Authorization` is never served from or stored in the cache unless the route says `per_user=True`
(then the credentials, hashed, are part of the key). Only 200 responses without `Set-Cookie` or
`Cache-Control: private/no-store` are stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from faster_redis.context import bind_redis, service_from_scope, unbind_redis
from faster_redis.exceptions import RedisUnavailableError
from faster_redis.middleware import render_problem
from faster_redis.service import RedisService

__all__ = ["ResponseCacheMiddleware", "ResponsePolicy", "cache_response"]

logger = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
MARK = "__faster_redis_response_cache__"
MAX_BODY = 1024 * 1024
UNCACHEABLE = ("no-store", "private")


@dataclass(frozen=True, slots=True)
class ResponsePolicy:
    ttl: float | None
    tags: tuple[str, ...]
    per_user: bool
    vary: tuple[str, ...]


def cache_response(
    ttl: float | None = None,
    *,
    tags: Sequence[str] = (),
    per_user: bool = False,
    vary: Sequence[str] = (),
) -> Callable[[F], F]:
    """Cache this GET route's 200 responses for `ttl` seconds.

    Args:
        ttl: seconds; default `FASTER_REDIS_CACHE_TTL`.
        tags: templates over the path parameters (`"user:{user_id}"`) for `invalidate_tags`.
        per_user: cache requests carrying `Authorization` too, one entry per credential.
        vary: request headers whose values select separate entries (e.g. `accept-language`).
    """
    policy = ResponsePolicy(ttl, tuple(tags), per_user, tuple(h.lower() for h in vary))

    def mark(endpoint: F) -> F:
        setattr(endpoint, MARK, policy)
        return endpoint

    return mark


def _etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def _etag_matches(if_none_match: str, etag: str) -> bool:
    candidates = {c.strip().removeprefix("W/") for c in if_none_match.split(",")}
    return "*" in candidates or etag in candidates


class ResponseCacheMiddleware:
    """Serves and stores the responses of routes marked with `@cache_response` (pure ASGI).

    It also binds the app's Redis service for the request (as `RedisContextMiddleware` does),
    so that the plugin costs every request one layer, not two.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._routes: list[tuple[BaseRoute, ResponsePolicy]] | None = None
        self._flights: dict[str, asyncio.Future[bytes | None]] = {}
        self._decoded = _DecodedEntries()

    def _marked(self, scope: Scope) -> list[tuple[BaseRoute, ResponsePolicy]]:
        if self._routes is None:
            routes = getattr(scope.get("app"), "routes", [])
            self._routes = [
                (route, getattr(route.endpoint, MARK))
                for route in routes
                if hasattr(getattr(route, "endpoint", None), MARK)
            ]
        return self._routes

    def _match(self, scope: Scope) -> tuple[ResponsePolicy, dict[str, Any]] | None:
        for route, policy in self._marked(scope):
            match, child = route.matches(scope)
            if match is Match.FULL:
                return policy, child.get("path_params", {})
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        service = service_from_scope(scope)
        token = bind_redis(service)
        try:
            if scope["method"] == "GET" and self._marked(scope):
                await self._serve_marked(scope, receive, send, service)
            else:
                await self.app(scope, receive, send)
        finally:
            unbind_redis(token)

    async def _serve_marked(
        self, scope: Scope, receive: Receive, send: Send, service: RedisService | None
    ) -> None:
        """A GET while some route is marked: served from the cache when it is one of them."""
        found = self._match(scope)
        headers = Headers(scope=scope)
        auth = headers.get("authorization")
        if found is None or service is None or (auth is not None and not found[0].per_user):
            await self.app(scope, receive, send)
            return
        policy, params = found
        key = _cache_key(scope, policy, headers, auth)
        directives = headers.get("cache-control", "").lower()
        store = "no-store" not in directives
        writer = _Capture(
            service,
            key,
            policy,
            [tag.format(**params) for tag in policy.tags],
            request_headers=headers,
            send=send,
            store=store,
        )
        if not store or "no-cache" in directives:
            await self._compute(scope, receive, writer)
            return
        local = service.cache.local
        if local is not None and local.usable:
            data = local.get(key)
            if data is not None:  # a hit in process memory: no flight, no round trip
                service.metrics.count("cache", "hit")
                await _send_entry(self._decoded(data), headers, send)
                return
        flight = self._flights.get(key)
        if flight is not None:
            entry = await self._join(flight, service)
            if entry is not None:
                await _send_entry(self._decoded(entry), headers, send)
                return
        await self._lookup(scope, receive, send, writer)

    async def _lookup(self, scope: Scope, receive: Receive, send: Send, writer: _Capture) -> None:
        """Read the entry, else run the route; concurrent requests for the key in this process
        wait for this one rather than read, so none of them sees a miss older than its write."""
        owner = writer.key not in self._flights
        flight: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()
        if owner:
            self._flights[writer.key] = flight
        try:
            try:
                entry, reachable = await _read(writer.service, writer.key)
            except RedisUnavailableError as exc:
                await render_problem(exc, scope, receive, send)
                return
            if entry is not None:
                flight.set_result(entry)
                await _send_entry(self._decoded(entry), writer.request_headers, send)
                return
            # While Redis is down, do not pay a second timeout to store the response.
            writer.store = reachable
            writer.flight = flight
            await self.app(scope, receive, writer)
        finally:
            if not flight.done():
                flight.set_result(None)
            if owner:
                del self._flights[writer.key]

    async def _compute(self, scope: Scope, receive: Receive, writer: _Capture) -> None:
        """Run the route without reading (the client asked to revalidate, or not to store);
        concurrent misses of the key in this process wait for this one."""
        if not writer.store or writer.key in self._flights:
            await self.app(scope, receive, writer)
            return
        flight: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()
        writer.flight = self._flights[writer.key] = flight
        try:
            await self.app(scope, receive, writer)
        finally:
            if not flight.done():
                flight.set_result(None)
            del self._flights[writer.key]

    @staticmethod
    async def _join(flight: asyncio.Future[bytes | None], service: RedisService) -> bytes | None:
        """The entry another request is computing, or `None` (not cacheable, or too slow)."""
        try:
            async with asyncio.timeout(service.settings.cache_stampede_timeout):
                return await asyncio.shield(flight)
        except TimeoutError:
            return None


def _cache_key(scope: Scope, policy: ResponsePolicy, headers: Headers, auth: str | None) -> str:
    parts = [scope["path"], scope.get("query_string", b"").decode("latin-1")]
    parts.extend(headers.get(name, "") for name in policy.vary)
    if auth is not None:
        parts.append(auth)
    digest = hashlib.blake2b("\n".join(parts).encode(), digest_size=20).hexdigest()
    return "response:" + digest


async def _read(service: RedisService, key: str) -> tuple[bytes | None, bool]:
    """The stored entry (or `None`), and whether Redis answered."""
    try:
        data = await service.cache.get_raw(key)
    except RedisUnavailableError:
        if not service.fails_open(service.settings.cache_failure, "cache"):
            raise
        return None, False
    service.metrics.count("cache", "miss" if data is None else "hit")
    return data, True


@dataclass(frozen=True, slots=True)
class _StoredResponse:
    """A cache entry decoded: what a hit sends."""

    status: int
    etag: str
    headers: tuple[tuple[bytes, bytes], ...]
    """The stored headers and `x-cache: hit`."""
    body: bytes

    @classmethod
    def decode(cls, entry: bytes) -> _StoredResponse:
        head, _, body = entry.partition(b"\n")
        stored = json.loads(head)
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in stored["headers"]]
        headers.append((b"x-cache", b"hit"))
        return cls(stored["status"], stored["etag"], tuple(headers), body)


class _DecodedEntries:
    """The last entries decoded, by their bytes: a hot entry is decoded once, not per hit (a
    hit from the process-local layer returns the same bytes object, hashed once). At most
    `size` entries of at most `largest` bytes are kept (16 MiB); larger ones are decoded each
    time, which costs little next to sending them."""

    def __init__(self, size: int = 256, largest: int = 64 * 1024) -> None:
        self.size = size
        self.largest = largest
        self._decoded: dict[bytes, _StoredResponse] = {}

    def __call__(self, entry: bytes) -> _StoredResponse:
        found = self._decoded.get(entry)
        if found is None:
            found = _StoredResponse.decode(entry)
            if len(entry) <= self.largest:
                if len(self._decoded) >= self.size:
                    self._decoded.clear()
                self._decoded[entry] = found
        return found


async def _send_entry(stored: _StoredResponse, request_headers: Headers, send: Send) -> None:
    # new header lists: a layer further out may add to the one it is sent
    if _etag_matches(request_headers.get("if-none-match", ""), stored.etag):
        kept = [(k, v) for k, v in stored.headers if k in (b"etag", b"cache-control", b"x-cache")]
        await send({"type": "http.response.start", "status": 304, "headers": kept})
        await send({"type": "http.response.body", "body": b""})
        return
    headers = list(stored.headers)
    await send({"type": "http.response.start", "status": stored.status, "headers": headers})
    await send({"type": "http.response.body", "body": stored.body})


class _Capture:
    """The `send` of a miss: buffers a cacheable response to add its ETag and store it."""

    def __init__(
        self,
        service: RedisService,
        key: str,
        policy: ResponsePolicy,
        tags: list[str],
        *,
        request_headers: Headers,
        send: Send,
        store: bool,
    ) -> None:
        self.service = service
        self.key = key
        self.policy = policy
        self.tags = tags
        self.request_headers = request_headers
        self.send = send
        self.store = store
        self.start: Message | None = None
        self.body: list[bytes] = []
        self.size = 0
        self.flight: asyncio.Future[bytes | None] | None = None

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            if self._cacheable(message):
                self.start = message
                return
            await self.send(message)
            return
        if self.start is None or message["type"] != "http.response.body":
            await self.send(message)
            return
        self.body.append(message.get("body", b""))
        self.size += len(self.body[-1])
        if self.size > MAX_BODY:
            await self._flush(message.get("more_body", False))
        elif not message.get("more_body", False):
            await self._finish()

    def _cacheable(self, start: Message) -> bool:
        if start["status"] != 200:
            return False
        headers = Headers(raw=start["headers"])
        control = headers.get("cache-control", "").lower()
        return "set-cookie" not in headers and not any(d in control for d in UNCACHEABLE)

    async def _flush(self, more_body: bool) -> None:
        """Too big to cache: pass through what is buffered and stop capturing."""
        start, self.start = self.start, None
        if start is None:
            return
        await self.send(start)
        body = b"".join(self.body)
        await self.send({"type": "http.response.body", "body": body, "more_body": more_body})

    async def _finish(self) -> None:
        start, self.start = self.start, None
        if start is None:
            return
        body = b"".join(self.body)
        etag = _etag(body)
        headers = MutableHeaders(scope=start)
        headers["etag"] = etag
        entry = _entry(start, body, etag)
        if self.flight is not None and not self.flight.done():
            self.flight.set_result(entry)
        if self.store:
            await self._write(entry)
        if _etag_matches(self.request_headers.get("if-none-match", ""), etag):
            kept = [(k, v) for k, v in start["headers"] if k in (b"etag", b"cache-control")]
            await self.send({"type": "http.response.start", "status": 304, "headers": kept})
            await self.send({"type": "http.response.body", "body": b""})
            return
        await self.send(start)
        await self.send({"type": "http.response.body", "body": body})

    async def _write(self, entry: bytes) -> None:
        ttl = self.policy.ttl if self.policy.ttl is not None else self.service.settings.cache_ttl
        try:
            await self.service.cache.set_raw(self.key, entry, ttl, self.tags)
        except RedisUnavailableError:
            if not self.service.fails_open(self.service.settings.cache_failure, "cache"):
                logger.warning("response for %s not stored: Redis is unavailable", self.key)


def _entry(start: Message, body: bytes, etag: str) -> bytes:
    """The stored form: one JSON line (status, ETag, headers), then the body as is."""
    head = {
        "status": start["status"],
        "etag": etag,
        "headers": [(k.decode("latin-1"), v.decode("latin-1")) for k, v in start["headers"]],
    }
    return json.dumps(head, separators=(",", ":")).encode() + b"\n" + body
