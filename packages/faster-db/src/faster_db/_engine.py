"""Async engines from settings: SQLite pragmas and locking, asyncpg options, pool sizes."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, NullPool, PoolResetState, StaticPool

from faster_db._aiosqlite import OneHopConnection
from faster_db._aiosqlite import connect as one_hop_connect
from faster_db.settings import DBSettings

__all__ = ["WRITE_UNIT_OPTION", "build_engine", "writer_of"]

WRITE_UNIT_OPTION = "faster_db_write_unit"
"""Execution option marking a connection of a read-write unit (SQLite: BEGIN IMMEDIATE)."""


def build_engine(url: str, settings: DBSettings, *, pooled: bool = True) -> AsyncEngine:
    """An async engine for `url`, configured from `settings`.

    `pooled=False` opens a fresh connection per use (health probes: they must answer whether
    the database is up even while every pooled connection is busy).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, settings, pooled=pooled)
    options = _server_options(parsed, settings)
    if not pooled:
        options = _unpooled(options)
    return create_async_engine(parsed, **options)


def _unpooled(options: dict[str, Any]) -> dict[str, Any]:
    kept = {k: v for k, v in options.items() if k not in _pool_options_names()}
    return {**kept, "poolclass": NullPool, "pool_pre_ping": False}


def _pool_options_names() -> frozenset[str]:
    return frozenset({"pool_size", "max_overflow", "pool_timeout", "pool_recycle"})


def writer_of(engine: AsyncEngine) -> AsyncEngine:
    """The engine read-write units use: the same pool, marked so that on SQLite their
    transactions begin IMMEDIATE. Everything else (read-only units, health checks, your own
    connections) begins DEFERRED, as SQLite does by default."""
    return engine.execution_options(**{WRITE_UNIT_OPTION: True})


def _pool_options(settings: DBSettings) -> dict[str, Any]:
    return {
        "pool_size": settings.pool_size,
        "max_overflow": settings.max_overflow,
        "pool_timeout": settings.pool_timeout,
        "pool_recycle": settings.pool_recycle,
    }


def _server_options(url: URL, settings: DBSettings) -> dict[str, Any]:
    options: dict[str, Any] = {
        **_pool_options(settings),
        "echo": settings.echo,
        "pool_pre_ping": True if settings.pool_pre_ping is None else settings.pool_pre_ping,
    }
    if url.get_driver_name() == "asyncpg":
        options["connect_args"] = _asyncpg_args(settings)
    return options


COMMAND_TIMEOUT_MARGIN = 1.0
"""Seconds the client waits beyond the server's statement_timeout before giving up itself."""


def _asyncpg_args(settings: DBSettings) -> dict[str, Any]:
    args: dict[str, Any] = {"timeout": settings.connect_timeout, "command_timeout": None}
    if settings.statement_timeout is not None:
        args["server_settings"] = {"statement_timeout": str(int(settings.statement_timeout * 1000))}
        # The server enforces statement_timeout only while it can answer: a frozen server or a
        # silent network would hold the request for ever. The client gives up a little later,
        # with a TimeoutError that becomes the 503 problem.
        args["command_timeout"] = settings.statement_timeout + COMMAND_TIMEOUT_MARGIN
    if not settings.prepared_statements:
        # Transaction-mode poolers (PgBouncer, Supavisor) hand each transaction to any server
        # connection: no statement may be cached, and names must never repeat.
        args["statement_cache_size"] = 0
        args["prepared_statement_cache_size"] = 0
        args["prepared_statement_name_func"] = _unique_statement_name
    return args


def _unique_statement_name() -> str:
    import uuid  # noqa: PLC0415 - only transaction-pooler setups pay for it

    return f"__faster_{uuid.uuid4().hex}__"


def _sqlite_engine(url: URL, settings: DBSettings, *, pooled: bool) -> AsyncEngine:
    memory = url.database in (None, "", ":memory:")
    options: dict[str, Any] = {
        "echo": settings.echo,
        "pool_pre_ping": bool(settings.pool_pre_ping),
        # _reset below rolls back only a connection SQLite says is inside a transaction.
        "pool_reset_on_return": None,
    }
    if memory:
        # One shared connection: each new connection to :memory: would be a new, empty database.
        options.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    elif pooled:
        options.update(_pool_options(settings))
        # The pool keeps every connection it may open: one it opened beyond `pool_size` would be
        # closed when returned to a full pool, and a new SQLite connection costs a worker
        # thread and four pragmas. Under steady concurrency that churn cost each request more
        # than its query did.
        options.update(pool_size=settings.pool_size + settings.max_overflow, max_overflow=0)
    else:
        options = _unpooled(options)
    if url.get_driver_name() == "aiosqlite":
        options["async_creator"] = _one_hop_creator(url, options.get("connect_args", {}))
    engine = create_async_engine(url, **options)
    busy_ms = int(settings.sqlite_busy_timeout * 1000)

    @event.listens_for(engine.sync_engine, "connect")
    def _configure(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # _begin emits BEGIN itself; the driver's own implicit BEGIN would be DEFERRED.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            f"busy_timeout={busy_ms}",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    event.listen(engine.sync_engine, "begin", _begin)
    event.listen(engine.sync_engine, "reset", _reset)
    return engine


def _begin(connection: Connection) -> None:
    # A deferred transaction that reads and then writes cannot wait for the lock once
    # another writer committed (SQLite answers "database is locked" at once): read-write
    # units take it at BEGIN and so wait in busy_timeout instead.
    write_unit = connection.get_execution_options().get(WRITE_UNIT_OPTION, False)
    statement = "BEGIN IMMEDIATE" if write_unit else "BEGIN"
    driver = connection.connection.driver_connection
    if isinstance(driver, OneHopConnection):
        driver.begin(statement)  # runs with the first statement, in its hand-off
    else:
        connection.exec_driver_sql(statement)


def _reset(dbapi_connection: Any, _record: ConnectionPoolEntry, state: PoolResetState) -> None:
    # The pool's own reset rolls back every returned connection, also one whose unit just
    # committed: with aiosqlite, one more thread hand-off per request for nothing. SQLite
    # knows whether a transaction is open (no I/O): roll back only then.
    driver = getattr(dbapi_connection, "driver_connection", None)
    if isinstance(driver, OneHopConnection):
        driver.forget_begin()  # a unit that ran no statement began nothing
    if not state.terminate_only and state.asyncio_safe and _in_transaction(dbapi_connection):
        dbapi_connection.rollback()


def _one_hop_creator(url: URL, connect_args: dict[str, Any]) -> Callable[[], Any]:
    """aiosqlite connections that run each statement in one thread hand-off, not four
    (`faster_db._aiosqlite`), opened with the arguments the URL would give aiosqlite."""
    args, kwargs = url.get_dialect()().create_connect_args(url)
    kwargs = {**kwargs, **connect_args}

    async def create() -> Any:
        return await one_hop_connect(*args, **kwargs)

    return create


def _in_transaction(dbapi_connection: Any) -> bool:
    """Whether SQLite has a transaction open on the connection (True when it cannot say)."""
    try:
        return bool(dbapi_connection.driver_connection.in_transaction)
    except (AttributeError, ValueError, sqlite3.Error):  # closed: the rollback decides
        return True
