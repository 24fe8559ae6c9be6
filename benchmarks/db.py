"""faster-db's variants: the per-request session cost.

- `db-session-pk` and `db-readonly-session-pk` against `db-hand-session-pk`: the same app and
  route (`GET`) doing one primary-key SELECT, through `DBSession`, `ReadOnlyDBSession`, and a
  hand-written `async with AsyncSession(...)` block.
- `db-session-unused` against `db-no-session`: a route that declares `DBSession` and never
  touches it, against the same route without it (the session must be created lazily: the
  dependency hands out a `LazySession`, built on first use); `db-noop-depends` shows what
  FastAPI itself charges for any async dependency.

`ReadOnlyDBSession` is `DBSession(readonly=True)` (the spelling type checkers accept).

Every app runs the db plugin on a SQLite file (a fresh temporary directory per app) holding
one row, created by the app's own lifespan.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI
from sqlalchemy import String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

import faster_db.plugin
from benchmarks.harness import BENCH_BODY, BENCH_PATH, Target, Variant
from faster_core import create_app
from faster_core.settings import Environment, FasterSettings
from faster_db import DBSession, ReadOnlyDBSession

__all__ = ["variants"]


class _Base(DeclarativeBase):
    pass


class Item(_Base):
    __tablename__ = "bench_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


@asynccontextmanager
async def _seed(app: FastAPI) -> AsyncIterator[None]:
    async with app.state.db.primary.begin() as connection:
        await connection.run_sync(_Base.metadata.create_all)
    async with app.state.db.session_scope() as session:
        session.add(Item(id=1, name="one"))
    yield


def _app() -> FastAPI:
    url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='faster-db-bench-')) / 'b.db'}"
    settings = FasterSettings(
        _env_file=None, env=Environment.TEST, plugin_settings={"db": {"url": url}}
    )
    return create_app(settings, plugins=[faster_db.plugin], load_entrypoints=False, lifespan=_seed)


def _found(item: Item | None) -> dict[str, str]:
    if item is None:
        raise RuntimeError("the benchmark row is missing")
    return dict(BENCH_BODY)


def db_hand_session_pk() -> FastAPI:
    app = _app()

    async def bench() -> dict[str, str]:
        async with AsyncSession(app.state.db.primary, expire_on_commit=False) as session:
            return _found(await session.get(Item, 1))

    app.add_api_route(BENCH_PATH, bench, methods=["GET"])
    return app


def db_session_pk() -> FastAPI:
    app = _app()

    async def bench(session: DBSession) -> dict[str, str]:
        return _found(await session.get(Item, 1))

    app.add_api_route(BENCH_PATH, bench, methods=["GET"])
    return app


def db_readonly_session_pk() -> FastAPI:
    app = _app()

    async def bench(session: ReadOnlyDBSession) -> dict[str, str]:
        return _found(await session.get(Item, 1))

    app.add_api_route(BENCH_PATH, bench, methods=["GET"])
    return app


def db_no_session() -> FastAPI:
    app = _app()

    async def bench() -> dict[str, str]:
        return dict(BENCH_BODY)

    app.add_api_route(BENCH_PATH, bench, methods=["GET"])
    return app


async def _noop() -> None:
    return None


def db_noop_depends() -> FastAPI:
    app = _app()

    async def bench(_: Annotated[None, Depends(_noop)]) -> dict[str, str]:
        return dict(BENCH_BODY)

    app.add_api_route(BENCH_PATH, bench, methods=["GET"])
    return app


def db_session_unused() -> FastAPI:
    app = _app()

    async def bench(session: DBSession) -> dict[str, str]:
        return dict(BENCH_BODY)

    app.add_api_route(BENCH_PATH, bench, methods=["GET"])
    return app


def variants() -> list[Variant]:
    return [
        Variant(
            "db-hand-session-pk",
            db_hand_session_pk,
            "db plugin; one PK SELECT in a hand-written AsyncSession block (the baseline)",
            None,
            baseline="db-hand-session-pk",
        ),
        Variant(
            "db-session-pk",
            db_session_pk,
            "db plugin; one PK SELECT through DBSession (commit before the response)",
            Target(min_ratio=0.95, note="at most 5% slower than by hand"),
            baseline="db-hand-session-pk",
        ),
        Variant(
            "db-readonly-session-pk",
            db_readonly_session_pk,
            "db plugin; one PK SELECT through ReadOnlyDBSession (BEGIN DEFERRED on SQLite)",
            Target(min_ratio=0.95, note="at most 5% slower than by hand"),
            baseline="db-hand-session-pk",
        ),
        Variant(
            "db-no-session",
            db_no_session,
            "db plugin; the route without a session (the baseline)",
            None,
            baseline="db-no-session",
            server=False,
        ),
        Variant(
            "db-noop-depends",
            db_noop_depends,
            "db plugin; an async no-op Depends: FastAPI's own cost of any dependency",
            None,
            baseline="db-no-session",
            server=False,
        ),
        Variant(
            "db-session-unused",
            db_session_unused,
            "db plugin; the route declares DBSession and never uses it",
            Target(max_overhead_us=10),
            baseline="db-no-session",
            server=False,
        ),
    ]
