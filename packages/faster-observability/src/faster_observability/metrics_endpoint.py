"""`GET /metrics` (the path is a setting), guarded by a bearer token and/or an address allow-list.

The endpoint exists only when `ObservabilitySettings.metrics_endpoint_on` says so: off in
production unless protected. When both a token and an allow-list are set, a scrape must pass
both. Refusals are problem responses (401 with `WWW-Authenticate: Bearer`, or 403).
"""

from __future__ import annotations

import hmac
import ipaddress
from http import HTTPStatus

import anyio.to_thread
from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.responses import Response

from faster_core import problem_response
from faster_observability.settings import ObservabilitySettings

__all__ = ["metrics_router"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _client_allowed(request: Request, networks: list[Network]) -> bool:
    host = request.client.host if request.client else None
    if host is None:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in networks)


def _token_ok(request: Request, token: bytes) -> bool:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(credentials.strip().encode(), token)


def metrics_router(settings: ObservabilitySettings) -> APIRouter:
    """The router serving the metrics path with the protection `settings` asks for."""
    router = APIRouter()
    token = settings.metrics_token.get_secret_value().encode() if settings.metrics_token else None
    networks = [ipaddress.ip_network(item, strict=False) for item in settings.metrics_allow]

    @router.get(settings.metrics_path, include_in_schema=False)
    async def metrics(request: Request) -> Response:
        if networks and not _client_allowed(request, networks):
            return problem_response(
                request.scope, HTTPStatus.FORBIDDEN, detail="This client may not read metrics."
            )
        if token is not None and not _token_ok(request, token):
            return problem_response(
                request.scope,
                HTTPStatus.UNAUTHORIZED,
                detail="Reading metrics needs a bearer token.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        state = request.state.observability.metrics
        if state.multiprocess_dir is None:
            body = state.exposition()
        else:  # reads every worker's files: off the event loop
            body = await anyio.to_thread.run_sync(state.exposition)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return router
