"""The core's pure ASGI middleware and the declaration plugins use to add their own."""

from faster_core.middleware.body_limit import BodyLimitMiddleware
from faster_core.middleware.cors import CORSMiddleware
from faster_core.middleware.errors import ServerErrorMiddleware
from faster_core.middleware.gzip import GZipMiddleware
from faster_core.middleware.observers import (
    ObserverMiddleware,
    RequestObserver,
    RequestWatch,
    observe_all,
)
from faster_core.middleware.request_id import (
    REQUEST_ID_HEADER,
    RequestIdMiddleware,
    current_request_id,
)
from faster_core.middleware.security_headers import SecurityHeaders, SecurityHeadersMiddleware
from faster_core.middleware.stack import MiddlewareSpec, Slot, install_middleware
from faster_core.middleware.trusted_hosts import TrustedHostMiddleware

__all__ = [
    "REQUEST_ID_HEADER",
    "BodyLimitMiddleware",
    "CORSMiddleware",
    "GZipMiddleware",
    "MiddlewareSpec",
    "ObserverMiddleware",
    "RequestIdMiddleware",
    "RequestObserver",
    "RequestWatch",
    "SecurityHeaders",
    "SecurityHeadersMiddleware",
    "ServerErrorMiddleware",
    "Slot",
    "TrustedHostMiddleware",
    "current_request_id",
    "install_middleware",
    "observe_all",
]
