"""The access log: one structured line per request, written by the observability middleware.

It replaces uvicorn's access log (switched off while the plugin's logging is installed) and
sees every response, 500s included, since the middleware sits outside the core's error
boundary.

The line is written for every request, so the usual case skips the logging machinery: when
every handler the access logger reaches is the plugin's own JSON stream handler (and no filter
is on the way), the line's fields are handed to those handlers, which render them straight to
JSON text in batches written at most `access_log_batch_seconds` later
(`StructuredStreamHandler`; a 5xx line is written at once). In any other case (the console
renderer in development, the rotating file, a handler or filter a user added) the line goes
through `Logger.handle` as a complete record, whose fields the formatter only renders: every
handler sees the same line either way.
"""

from __future__ import annotations

import logging
import threading
from json.encoder import encode_basestring
from time import time, time_ns

from faster_observability.correlation import RequestContext
from faster_observability.logs import StructuredStreamHandler, UtcClock
from faster_observability.redaction import Redactor

__all__ = ["ACCESS_LOGGER", "AccessLog"]

ACCESS_LOGGER = "faster_observability.access"

_LEVELS = {logging.INFO: "info", logging.ERROR: "error"}
_Entry = tuple[int, int, str, str, str | None, str, int, float, object, str | None, str | None]
"""What a line is rendered from: `time_ns()` at the end of the request, level, request id,
method, route, path, status, duration, client host, trace id, user id."""

_Parts = tuple[str, str]
"""A line's text from its method to the `duration_ms` key, and from its `message` to its end."""
_KEPT_PARTS = 1024

_LINE_HEADS = {
    level: f'", "level": "{name}", "logger": "{ACCESS_LOGGER}", "request_id": '
    for level, name in _LEVELS.items()
}
"""The line from the end of its time to the request id's value, by level."""


class AccessLog:
    """Writes the access-log line of a finished request to the `faster_observability.access`
    logger (INFO for 1xx-4xx, ERROR for 5xx)."""

    def __init__(self, redactor: Redactor) -> None:
        self.logger = logging.getLogger(ACCESS_LOGGER)
        self.redactor = redactor
        self.clock = UtcClock()
        # A record's constructor looks up the process, thread and caller for every line; these
        # are the same for every access line, so a record starts from this template instead.
        # The line itself is complete (`_faster_complete`): the formatter only renders it.
        template = logging.LogRecord(ACCESS_LOGGER, logging.INFO, __file__, 0, "", (), None)
        template._faster_complete = True
        self._template = template.__dict__
        self._parts: dict[tuple[str, str | None, str, int], _Parts] = {}
        self._root_handler: StructuredStreamHandler | None = None
        self._root_formatter: logging.Formatter | None = None

    def emit(
        self, context: RequestContext, route: str | None, duration: float, request_id: str
    ) -> None:
        """Write the line of the request `context` describes (`request_id`, or `""` when it has
        none), answered through `route` (its template) after `duration` seconds."""
        status = context.status or 0
        level = logging.ERROR if status >= 500 else logging.INFO
        logger = self.logger
        if logger.disabled or not logger.isEnabledFor(level):
            return
        handlers = None if logger.filters else self._json_handlers(level)
        if handlers is None:
            logger.handle(
                self._record(context, route, status, level, duration, request_id=request_id)
            )
            return
        client = context.scope.get("client")
        entry = (
            time_ns(),
            level,
            request_id,
            context.method,
            route,
            context.path,
            status,
            duration,
            client[0] if client else None,
            context.trace_id,
            context.user_id,
        )
        for handler in handlers:
            handler.write_line(self._render, entry, level >= logging.ERROR)  # 5xx: at once

    def _render(self, entry: _Entry) -> str:
        """The JSON line of `entry` (`emit`'s fields, taken when the request ended)."""
        (
            nanoseconds, level, request_id, method, route, path, status, duration, client,
            trace_id, user_id,
        ) = entry  # fmt: skip
        parts = self._parts.get((method, route, path, status))
        if parts is None:
            parts = self._parts_of(method, route, path, status)
        extra = ""
        if trace_id is not None:
            extra = f', "trace_id": {encode_basestring(trace_id)}'
        if user_id is not None:
            extra += f', "user_id": {encode_basestring(self.redactor.text(user_id))}'
        micros = round(duration * 1_000_000)
        # Every value goes through `encode_basestring` (as `json.dumps` escapes it) or is a
        # number or a constant.
        return (
            f'{{"time": "{self.clock.at_ns(nanoseconds)}{_LINE_HEADS[level]}'
            f"{encode_basestring(request_id) if request_id else 'null'}{parts[0]}"
            f"{micros // 1000}.{self.clock.thousands[micros % 1000]}, "
            f'"client": {"null" if client is None else encode_basestring(str(client))}'
            f"{extra}{parts[1]}"
        )

    def _parts_of(self, method: str, route: str | None, path: str, status: int) -> _Parts:
        """The parts of a line set by its request's method, route, path and status, kept for
        the next lines of the same (the keys are bounded: the table is emptied when full)."""
        shown = self.redactor.text(path)
        parts = (
            f', "method": {encode_basestring(method)}, '
            f'"route": {"null" if route is None else encode_basestring(route)}, '
            f'"path": {encode_basestring(shown)}, "status": {status}, "duration_ms": ',
            f', "message": {encode_basestring(f"{method} {shown} {status}")}}}\n',
        )
        if len(self._parts) >= _KEPT_PARTS:
            self._parts.clear()
        self._parts[method, route, path, status] = parts
        return parts

    def _json_handlers(self, level: int) -> list[StructuredStreamHandler] | None:
        """`_json_handlers(self.logger, level)`. The layout the plugin installs is checked first,
        in a few comparisons rather than a walk: the access logger has no handler and no
        child of the root between them, and the root's only handler is the one the last walk
        found, with the same formatter, no filter and a level the line passes."""
        logger = self.logger
        handler = self._root_handler
        root = logger.parent
        if (
            handler is not None
            and not logger.handlers
            and logger.propagate
            and root is not None
            and root.parent is None
            and len(handlers := root.handlers) == 1
            and handlers[0] is handler
            and handler.formatter is self._root_formatter
            and not handler.filters
        ):
            return [handler] if handler.level <= level else None
        found = _json_handlers(logger, level)
        root = logger.parent
        layout = not logger.handlers and logger.propagate and root is not None and not root.parent
        single = found[0] if found is not None and len(found) == 1 and layout else None
        self._root_handler = single
        self._root_formatter = single.formatter if single is not None else None
        return found

    def _record(
        self,
        context: RequestContext,
        route: str | None,
        status: int,
        level: int,
        duration: float,
        *,
        request_id: str,
    ) -> logging.LogRecord:
        """The line as a complete record: the formatter renders its fields as they are."""
        created = time()
        path = self.redactor.text(context.path)
        client = context.scope.get("client")
        line: dict[str, object] = {
            "time": self.clock(created),
            "level": _LEVELS[level],
            "logger": ACCESS_LOGGER,
            "request_id": request_id or None,
            "method": context.method,
            "route": route,
            "path": path,
            "status": status,
            "duration_ms": round(duration * 1000, 3),
            "client": str(client[0]) if client else None,
        }
        if (trace_id := context.trace_id) is not None:
            line["trace_id"] = trace_id
        if (user_id := context.user_id) is not None:
            line["user_id"] = self.redactor.text(user_id)
        line["message"] = f"{context.method} {path} {status}"
        record = logging.LogRecord.__new__(logging.LogRecord)
        record.__dict__.update(self._template)
        record.created, record.msecs = created, (created - int(created)) * 1000
        record.levelno, record.levelname = level, logging.getLevelName(level)
        record.thread = threading.get_ident()
        record.msg = line
        return record


def _json_handlers(logger: logging.Logger, level: int) -> list[StructuredStreamHandler] | None:
    """The handlers a record of `logger` at `level` reaches, walked as `Logger.callHandlers`
    walks them, if each takes a pre-rendered JSON line; `None` otherwise (or if there are none,
    so that the last-resort handler applies)."""
    found: list[StructuredStreamHandler] = []
    current: logging.Logger | None = logger
    while current is not None:
        for handler in current.handlers:
            if level < handler.level:
                continue
            if not isinstance(handler, StructuredStreamHandler) or not handler.takes_json_lines():
                return None
            found.append(handler)
        if not current.propagate:
            break
        current = current.parent
    return found or None
