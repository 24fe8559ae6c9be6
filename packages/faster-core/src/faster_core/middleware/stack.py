"""Middleware declarations and their installation in slot order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from fastapi import FastAPI
from starlette.middleware.base import BaseHTTPMiddleware

from faster_core.exceptions import ConfigurationError

__all__ = ["MiddlewareSpec", "Slot", "install_middleware"]


class Slot(IntEnum):
    """Where a middleware sits: a lower slot wraps outside a higher one.

    The core's own occupy the named slots; plugins usually take `DEFAULT` or a value between two
    named slots (an access log that must see 500s goes between `SECURITY_HEADERS` and `ERRORS`).
    """

    OUTERMOST = 0
    REQUEST_ID = 100
    SECURITY_HEADERS = 200
    CORS = 250
    ERRORS = 300
    HEALTH = 350
    TRUSTED_HOSTS = 400
    BODY_LIMIT = 500
    GZIP = 600
    DEFAULT = 1000
    INNERMOST = 2000


@dataclass(frozen=True, slots=True)
class MiddlewareSpec:
    """One pure ASGI middleware class, its constructor options and its slot."""

    cls: type[Any]
    slot: int = Slot.DEFAULT
    options: Mapping[str, Any] = field(default_factory=dict)


def install_middleware(app: FastAPI, specs: Iterable[tuple[str, MiddlewareSpec]]) -> None:
    """Add `(plugin name, spec)` pairs to `app`, the lowest slot outermost.

    Pairs arrive in plugin order; within a slot that order is kept.
    """
    ordered = sorted(enumerate(specs), key=lambda item: (item[1][1].slot, item[0]))
    for _, (plugin, spec) in ordered:
        if issubclass(spec.cls, BaseHTTPMiddleware):
            raise ConfigurationError(
                f"plugin {plugin!r} declares {spec.cls.__name__}, a BaseHTTPMiddleware; "
                "write it as pure ASGI middleware"
            )
    # add_middleware puts each new middleware outermost, so add the innermost first.
    for _, (_, spec) in reversed(ordered):
        app.add_middleware(spec.cls, **spec.options)  # type: ignore[arg-type]
