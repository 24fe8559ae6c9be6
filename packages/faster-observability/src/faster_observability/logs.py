"""Structured logs: structlog over the standard library, installed for an app's lifetime.

Every record, from structlog loggers, `logging.getLogger(__name__)` or a third-party library,
goes through one formatter: time (UTC ISO), level, logger, message, the request's correlation
fields, extras, then redaction, then JSON or the console renderer. `install_logging` changes the
root logger, uvicorn's loggers and structlog's configuration, and returns a handle whose
`restore()` puts every one of them back, so two apps (or two tests) never leak into each other.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
import traceback
from asyncio import _get_running_loop
from collections import deque
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO, TypeVar

import structlog

from faster_core import current_request_id
from faster_observability.correlation import current_request_context
from faster_observability.redaction import Redactor
from faster_observability.settings import LogFormat

__all__ = [
    "SAFE_KEYS",
    "LoggingInstallation",
    "StructuredFormatter",
    "StructuredStreamHandler",
    "UtcClock",
    "install_logging",
]

EventDict = MutableMapping[str, Any]
T = TypeVar("T")

SAFE_KEYS = frozenset(
    {"time", "level", "logger", "request_id", "trace_id", "method", "route", "status"}
    | {"duration_ms", "exception"}
)
"""Fields the pipeline itself fills with values that cannot carry a secret or a line break
(`exception` is redacted when it is rendered)."""

_STANDARD_RECORD_KEYS = frozenset(
    {"name", "msg", "args", "levelname", "levelno", "pathname", "filename", "module"}
    | {"exc_info", "exc_text", "stack_info", "lineno", "funcName", "created", "msecs"}
    | {"relativeCreated", "thread", "threadName", "processName", "process", "taskName"}
    | {"message", "asctime", "_logger", "_name", "_from_structlog", "_record"}
)


def utc_iso(timestamp: float) -> str:
    """A POSIX timestamp as UTC ISO 8601 with microseconds and a `Z`."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class UtcClock:
    """`utc_iso`, formatting the date and time once per second (lines come many per second).

    The fraction is two lookups in a table of `000`-`999`: cheaper per line than formatting a
    number with a width, which matters for the access line, written for every request.
    """

    __slots__ = ("_cached", "thousands")

    def __init__(self) -> None:
        self._cached: tuple[int, str] = (-1, "")
        self.thousands = [f"{i:03d}" for i in range(1000)]
        """`000`-`999`, by value (the access line writes its duration's decimals with it)."""

    def __call__(self, timestamp: float) -> str:
        second = int(timestamp)
        micro = round((timestamp - second) * 1_000_000)  # as `datetime` rounds it
        if micro == 1_000_000:
            return self._format(second + 1, 0)
        return self._format(second, micro)

    def at_ns(self, nanoseconds: int) -> str:
        """`nanoseconds` since the epoch (as `time.time_ns()` gives them), in `utc_iso`'s form."""
        second, rest = divmod(nanoseconds, 1_000_000_000)
        micro = rest // 1000
        cached_second, prefix = self._cached  # `_format`, inlined: it runs for every request
        if second != cached_second:
            return self._format(second, micro)
        digits = self.thousands
        return f"{prefix}{digits[micro // 1000]}{digits[micro % 1000]}Z"

    def _format(self, second: int, micro: int) -> str:
        cached_second, prefix = self._cached  # one tuple: threads never see half an update
        if second != cached_second:
            prefix = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
            self._cached = (second, prefix)
        digits = self.thousands
        return f"{prefix}{digits[micro // 1000]}{digits[micro % 1000]}Z"


def _structlog_context() -> dict[str, Any]:
    # Walking the whole context costs microseconds per line; skip it until something is bound.
    known = getattr(structlog.contextvars, "_CONTEXT_VARS", None)
    if isinstance(known, dict) and not known:
        return {}
    return structlog.contextvars.get_contextvars()


class StructuredFormatter(logging.Formatter):
    """Formats any log record as one redacted structured line (JSON or console)."""

    def __init__(self, redactor: Redactor, fmt: LogFormat, *, tracebacks: bool) -> None:
        super().__init__()
        self.redactor = redactor
        self.tracebacks = tracebacks
        self.json = fmt is LogFormat.JSON
        self.clock = UtcClock()
        self.encode = json.JSONEncoder(default=str, ensure_ascii=False).encode
        self.console = structlog.dev.ConsoleRenderer(colors=False)

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "_faster_complete", False):
            return self._complete(record.msg)
        event = self._event(record)
        for key, value in _structlog_context().items():
            event.setdefault(key, value)
        _add_correlation(event)
        self._render_exception(event, record)
        self.redactor.mapping_in_place(event, SAFE_KEYS)
        if self.json:
            event["message"] = event.pop("event", "")
            return self.encode(event)
        return str(self.console(None, record.levelname.lower(), event))

    def _complete(self, line: Any) -> str:
        """A line built whole (time to message, redacted) by its writer, such as the access log."""
        if self.json:
            return self.encode(line)
        event = dict(line)
        event["event"] = event.pop("message", "")
        return str(self.console(None, str(event.get("level", "info")), event))

    def _event(self, record: logging.LogRecord) -> EventDict:
        head: dict[str, Any] = {
            "time": self.clock(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        if isinstance(record.msg, dict):
            # structlog (wrap_for_formatter) or a pre-built line such as the access log.
            body = dict(record.msg)
            body.pop("level", None)
            return head | body
        head["event"] = record.getMessage()
        for key, value in record.__dict__.items():
            if key not in _STANDARD_RECORD_KEYS and not key.startswith("_"):
                head.setdefault(key, value)
        return head

    def _render_exception(self, event: EventDict, record: logging.LogRecord) -> None:
        exc_info = event.pop("exc_info", None) or record.exc_info
        if exc_info is True:
            exc_info = sys.exc_info()
        if isinstance(exc_info, BaseException):
            exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
        if not isinstance(exc_info, tuple) or exc_info[0] is None:
            return
        if self.tracebacks:
            text = "".join(traceback.format_exception(*exc_info)).rstrip()
        else:
            text = "".join(traceback.format_exception_only(exc_info[0], exc_info[1])).rstrip()
        event["exception"] = self.redactor.text(text) if self.json else self._multiline(text)

    def _multiline(self, text: str) -> str:
        # The console renderer prints `exception` below the line: keep its line breaks.
        return "\n".join(self.redactor.text(line) for line in text.splitlines())


BATCH_LINES = 64
"""A batch of deferred lines is written once it holds this many, whatever its age. Writing a
batch holds the event loop for its rendering (a few µs a line): 64 bounds that pause to about
a quarter of a millisecond under any load, while the write call is still shared by 64 lines."""


class StructuredStreamHandler(logging.StreamHandler[TextIO]):
    """The console handler. Besides records, it takes lines rendered by their writer (the
    access log's, one per request), and can defer them into batches.

    A deferred line is queued with the function that renders it and is rendered and written
    with its batch: at most `batch_seconds` later, as soon as the batch holds `BATCH_LINES`,
    before any other line this handler writes (so the stream keeps the order lines were
    logged in), and on `flush()` and `close()` (the app's shutdown, and `logging.shutdown`
    at exit). Rendering a batch in one go and writing it in one call costs a request much less
    than a line rendered and written on its own; what is given up is that a process killed
    outright loses the lines of its last `batch_seconds`.
    """

    def __init__(self, stream: TextIO, *, batch_seconds: float = 0.0) -> None:
        super().__init__(stream)
        self.batch_seconds = batch_seconds
        self._batch: deque[tuple[Callable[[Any], str], Any]] = deque()
        self._timer_set = False
        """Whether a timer to write the batch has been set since the batch was last written."""

    def takes_json_lines(self) -> bool:
        """Whether a pre-rendered JSON line is what this handler would write for its record:
        its formatter is the structured one in JSON mode and no filter could drop the line."""
        formatter = self.formatter
        return isinstance(formatter, StructuredFormatter) and formatter.json and not self.filters

    def write_line(self, render: Callable[[T], str], entry: T, at_once: bool) -> None:
        """Write the line (ending with a line break) `render(entry)` returns: in the next
        batch, or now, after the lines batched before it, when `at_once`, when batching is
        off or when no event loop runs in this thread (its timer would have nowhere to run).
        `render` must not fail: it runs when the batch is written."""
        batch = self._batch
        batch.append((render, entry))
        if at_once or not self.batch_seconds:
            self.flush()
        elif not self._timer_set:  # the loop is looked up only then: it costs a system call
            loop = _get_running_loop()
            if loop is None:
                self.flush()
            else:
                self._timer_set = True
                loop.call_later(self.batch_seconds, self.flush)
        elif len(batch) >= BATCH_LINES:
            self.flush()

    def _write_batch(self) -> None:
        """Render and write the batch (the caller holds the lock). Lines are taken one by one:
        the event loop's thread may be adding to the batch meanwhile."""
        batch = self._batch
        lines: list[str] = []
        try:
            while True:
                render, entry = batch.popleft()
                lines.append(render(entry))
        except IndexError:
            pass
        if lines:
            try:
                self.stream.write("".join(lines))
            except (OSError, ValueError):  # a failing or closed stream, a character it can't encode
                self.handleError(_batch_record(len(lines)))

    def emit(self, record: logging.LogRecord) -> None:
        if self._batch:  # `handle` holds the lock
            self._write_batch()
        super().emit(record)

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            # The next deferred line sets a new timer (a timer still set is harmless: it finds
            # an empty or younger batch). A timer whose loop was closed before it fired is
            # forgotten here too.
            self._timer_set = False
            if self._batch:
                self._write_batch()
            super().flush()

    def close(self) -> None:
        self.flush()
        super().close()


def _batch_record(count: int) -> logging.LogRecord:
    """A record describing a batch that could not be written, for `handleError`."""
    return logging.makeLogRecord({"msg": "%d batched log lines not written", "args": (count,)})


def _add_correlation(event: EventDict) -> None:
    request_id = current_request_id()
    if request_id is None:
        return
    event.setdefault("request_id", request_id)
    context = current_request_context()
    if context is None:
        return
    if context.trace_id is not None:
        event.setdefault("trace_id", context.trace_id)
    event.setdefault("method", context.method)
    if context.route is not None:
        event.setdefault("route", context.route)
    if context.user_id is not None:
        event.setdefault("user_id", context.user_id)


@dataclass(slots=True)
class _LoggerState:
    handlers: list[logging.Handler]
    level: int
    propagate: bool
    disabled: bool

    @classmethod
    def of(cls, logger: logging.Logger) -> _LoggerState:
        return cls(list(logger.handlers), logger.level, logger.propagate, logger.disabled)

    def apply(self, logger: logging.Logger) -> None:
        logger.handlers[:] = [h for h in self.handlers if _installation_of(h) is not _WITHDRAWN]
        logger.level, logger.propagate, logger.disabled = self.level, self.propagate, self.disabled


_WITHDRAWN = "withdrawn"
"""Marks a handler whose installation was restored: never put back on a logger."""


def _installation_of(handler: logging.Handler) -> Any:
    return getattr(handler, "_faster_installation", None)


@dataclass(slots=True)
class LoggingInstallation:
    """What `install_logging` changed; `restore()` puts it back (once)."""

    handlers: list[logging.Handler]
    saved: dict[str, _LoggerState]
    structlog_config: dict[str, Any] | None
    restored: bool = field(default=False)

    def restore(self) -> None:
        """Put back what was there before, or, when another app installed its logging on top
        of this one and is still running, hand this one's snapshot to it and step aside."""
        if self.restored:
            return
        self.restored = True
        root = logging.getLogger()
        above = self._installed_on_top(root)
        if above is None:
            for name, state in self.saved.items():
                state.apply(logging.getLogger(name or None))
            if self.structlog_config is None:
                structlog.reset_defaults()
            else:
                structlog.configure(**self.structlog_config)
        else:
            above.saved, above.structlog_config = self.saved, self.structlog_config
            root.handlers[:] = [h for h in root.handlers if h not in self.handlers]
        for handler in self.handlers:
            handler._faster_installation = _WITHDRAWN  # type: ignore[attr-defined]
            handler.close()

    def _installed_on_top(self, root: logging.Logger) -> LoggingInstallation | None:
        """The installation made right after this one, if one is still active."""
        current = next((_installation_of(h) for h in root.handlers), None)
        while isinstance(current, LoggingInstallation) and current is not self:
            below = current.saved[""].handlers
            if below == self.handlers:
                return current
            current = next((_installation_of(h) for h in below), None)
        return None


def _handlers(
    formatter: StructuredFormatter,
    stream: TextIO | None,
    file_formatter: StructuredFormatter,
    file: tuple[str, int, int] | None,
    batch_seconds: float,
) -> list[logging.Handler]:
    console = StructuredStreamHandler(
        stream if stream is not None else sys.stderr, batch_seconds=batch_seconds
    )
    console.setFormatter(formatter)
    handlers: list[logging.Handler] = [console]
    if file is not None:
        path, max_bytes, backups = file
        rotating = logging.handlers.RotatingFileHandler(
            path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8", delay=True
        )
        rotating.setFormatter(file_formatter)
        handlers.append(rotating)
    return handlers


def install_logging(
    *,
    redactor: Redactor,
    fmt: LogFormat,
    level: str,
    tracebacks: bool,
    stream: TextIO | None = None,
    file: tuple[str, int, int] | None = None,
    batch_seconds: float = 0.0,
) -> LoggingInstallation:
    """Route every logger through the structured pipeline until `restore()` is called.

    The root logger gets only our handlers (console, and a rotating JSON file when `file` is
    `(path, max_bytes, backups)`); uvicorn's loggers propagate to it and its access log is
    switched off, since the access-log middleware writes one line per request instead. The
    console handler batches the lines it is given to defer over `batch_seconds`
    (`StructuredStreamHandler`).
    """
    saved = {
        name: _LoggerState.of(logging.getLogger(name or None))
        for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access")
    }
    previous = structlog.get_config() if structlog.is_configured() else None
    formatter = StructuredFormatter(redactor, fmt, tracebacks=tracebacks)
    file_formatter = StructuredFormatter(redactor, LogFormat.JSON, tracebacks=tracebacks)
    handlers = _handlers(formatter, stream, file_formatter, file, batch_seconds)
    root = logging.getLogger()
    root.handlers[:] = handlers
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        # Whatever uvicorn (or an earlier server in this process) set, the plugin's level rules.
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
        uvicorn_logger.disabled = False
        uvicorn_logger.setLevel(logging.NOTSET)
    logging.getLogger("uvicorn.access").disabled = True
    structlog.configure(
        processors=[structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    installation = LoggingInstallation(handlers, saved, previous)
    for handler in handlers:
        handler._faster_installation = installation  # type: ignore[attr-defined]
    return installation
