"""The suite as users run it (issue 7): every plugin on, against bare FastAPI and each other.

`suite_full_stack` is `create_app` with every package's plugin on its embedded default: the
core's defaults (request id, security headers, body limit, errors, gzip, health), faster-db on
a SQLite file in a temporary directory, faster-redis on `memory://` (the in-process stand-in),
faster-auth with the local provider, and faster-observability (JSON logs and one access-log line
per request, written to /dev/null through the real handler as `benchmarks.observability` does,
and the HTTP metrics). Every request carries a valid bearer token minted with the local
provider's key; the authenticated routes take `CurrentUser`.

The comparisons (each variant names its baseline):

- the full stack on the trivial route (`CurrentUser`, valid token) against `fastapi-bare`;
- authenticated against unauthenticated: the same stack and route with and without
  `CurrentUser`;
- a DB route (one primary-key SELECT) under the full stack through `DBSession` against the same
  route in a plain `FastAPI()` with its own engine and a hand-written `AsyncSession` block;
- cached against uncached: the DB route with `@cache_response(per_user=True)` (a hit, served by
  the cache middleware) against the same route uncached;
- rate-limited against not: `@rate_limited(...)` (a limit never reached) on the trivial route;
- the DB session layer against a raw connection: `DBSession` against `db.primary.connect()`
  with a Core `SELECT`, both under the full stack.

The key is fixed (a constant Ed25519 seed, different from `benchmarks.auth`'s) so that the
uvicorn worker of `--server` / `--latency`, which imports this module again, verifies the token
minted here. It signs only benchmark tokens.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from fastapi import FastAPI
from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

import faster_auth.plugin
import faster_db.plugin
import faster_redis.plugin
from benchmarks.harness import BENCH_BODY, BENCH_PATH, Target, Variant
from faster_auth import AuthSettings, CurrentUser
from faster_auth.auth import Auth
from faster_core import create_app
from faster_core.settings import Environment, FasterSettings
from faster_db import DBSession
from faster_observability import ObservabilityPlugin
from faster_redis import cache_response, rate_limited

__all__ = ["LATENCY_VARIANTS", "variants"]

_KEY = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(100, 132)))
_PEM = _KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
_SUBJECT = "suite-bench-user"
_TOKEN_TTL = 24 * 3600


def _token() -> str:
    settings = AuthSettings(_env_file=None, private_key=_PEM, access_token_ttl=_TOKEN_TTL)
    return Auth.from_settings(settings, Environment.TEST).issuer.issue(_SUBJECT)


HEADERS = ((b"authorization", b"Bearer " + _token().encode()),)
"""Every suite request carries this token (the unauthenticated routes ignore it)."""

STACK_HEADERS = ("x-request-id", "x-content-type-options")
"""Response headers that prove the core's layers ran."""


# -- the data every DB route reads --------------------------------------------------------------


class _Base(DeclarativeBase):
    pass


class Item(_Base):
    __tablename__ = "suite_bench_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


def _sqlite_url() -> str:
    directory = tempfile.mkdtemp(prefix="faster-suite-bench-")
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return f"sqlite+aiosqlite:///{Path(directory) / 'suite.db'}"


def _found(item: Item | None) -> dict[str, str]:
    if item is None:
        raise RuntimeError("the benchmark row is missing")
    return dict(BENCH_BODY)


# -- the full default stack ---------------------------------------------------------------------


@asynccontextmanager
async def _seed(app: FastAPI) -> AsyncIterator[None]:
    """After every plugin's lifespan: the benchmark table and its one row."""
    async with app.state.db.primary.begin() as connection:
        await connection.run_sync(_Base.metadata.create_all)
    async with app.state.db.session_scope() as session:
        session.add(Item(id=1, name="one"))
    yield


def _full_stack(*, disabled: tuple[str, ...] = ()) -> FastAPI:
    """`create_app` with every plugin on its embedded default (no route added yet), but the
    `disabled` ones (as `FASTER_DISABLED_PLUGINS` would)."""
    settings = FasterSettings(
        _env_file=None,
        env=Environment.TEST,
        gc_freeze=True,  # the default outside the test environment, where users serve the app
        disabled_plugins=list(disabled),
        plugin_settings={
            "db": {"url": _sqlite_url(), "auto_migrate": True},
            "redis": {"url": "memory://", "prefix": "suite-bench:"},
            "auth": {"private_key": _PEM},
            "observability": {"log_format": "json", "log_level": "INFO", "access_log": True},
        },
    )
    observability = ObservabilityPlugin(log_stream=open(os.devnull, "w"))  # noqa: SIM115
    plugins = [faster_db.plugin, faster_redis.plugin, faster_auth.plugin, observability]
    return create_app(settings, plugins=plugins, load_entrypoints=False, lifespan=_seed)


def _checked(user: Any) -> None:
    if user.subject != _SUBJECT:
        raise RuntimeError("the benchmark token was not verified")


def _with_route(app: FastAPI, endpoint: Callable[..., Coroutine[Any, Any, Any]]) -> FastAPI:
    app.add_api_route(BENCH_PATH, endpoint, methods=["GET"])
    return app


def suite_full_stack() -> FastAPI:
    """The trivial route behind `CurrentUser`, every plugin on."""

    async def bench(user: CurrentUser) -> dict[str, str]:
        _checked(user)
        return dict(BENCH_BODY)

    return _with_route(_full_stack(), bench)


def suite_unauthenticated() -> FastAPI:
    """The same stack, the route without `CurrentUser`."""

    async def bench() -> dict[str, str]:
        return dict(BENCH_BODY)

    return _with_route(_full_stack(), bench)


def _unauthenticated_without(*plugins: str) -> FastAPI:
    async def bench() -> dict[str, str]:
        return dict(BENCH_BODY)

    return _with_route(_full_stack(disabled=plugins), bench)


def suite_without_observability() -> FastAPI:
    return _unauthenticated_without("observability")


def suite_without_redis() -> FastAPI:
    return _unauthenticated_without("redis")


def suite_without_auth() -> FastAPI:
    return _unauthenticated_without("auth")


def suite_rate_limited() -> FastAPI:
    """`suite_full_stack` with a route limit that a run never reaches (one check per request)."""

    @rate_limited("1000000000/minute", name="suite-bench")
    async def bench(user: CurrentUser) -> dict[str, str]:
        _checked(user)
        return dict(BENCH_BODY)

    return _with_route(_full_stack(), bench)


def suite_db_session() -> FastAPI:
    """A DB route: one PK SELECT through `DBSession`, behind `CurrentUser`, every plugin on."""

    async def bench(user: CurrentUser, session: DBSession) -> dict[str, str]:
        _checked(user)
        return _found(await session.get(Item, 1))

    return _with_route(_full_stack(), bench)


def suite_db_cached() -> FastAPI:
    """`suite_db_session` with `@cache_response(per_user=True)`: hits are served before routing."""

    @cache_response(ttl=3600, per_user=True)
    async def bench(user: CurrentUser, session: DBSession) -> dict[str, str]:
        _checked(user)
        return _found(await session.get(Item, 1))

    return _with_route(_full_stack(), bench)


def suite_db_raw_connection() -> FastAPI:
    """The DB route on a raw connection from the plugin's engine (Core SELECT, no ORM session)."""
    app = _full_stack()
    statement = select(Item.name).where(Item.id == 1)

    async def bench(user: CurrentUser) -> dict[str, str]:
        _checked(user)
        async with app.state.db.primary.connect() as connection:
            name = (await connection.execute(statement)).scalar_one_or_none()
        if name is None:
            raise RuntimeError("the benchmark row is missing")
        return dict(BENCH_BODY)

    return _with_route(app, bench)


def fastapi_db_plain() -> FastAPI:
    """The DB route without any plugin: `FastAPI()`, its own engine, a hand-written session."""
    url = _sqlite_url()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_async_engine(url)
        async with engine.begin() as connection:
            await connection.run_sync(_Base.metadata.create_all)
        async with AsyncSession(engine) as session, session.begin():
            session.add(Item(id=1, name="one"))
        app.state.engine = engine
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)

    async def bench() -> dict[str, str]:
        async with AsyncSession(app.state.engine, expire_on_commit=False) as session:
            return _found(await session.get(Item, 1))

    return _with_route(app, bench)


# -- the variants -------------------------------------------------------------------------------

NO_FULL_GC = 0.0
"""Full (generation 2) collections allowed per 10,000 requests in steady state."""

LATENCY_VARIANTS = ("fastapi-bare", "suite-full-stack", "fastapi-db-plain", "suite-db-session")
"""What `--latency` runs when no `--only` is given (each against its baseline)."""


def variants() -> list[Variant]:
    return [
        Variant(
            "suite-full-stack",
            suite_full_stack,
            "every plugin on (request id, access log, metrics, auth with a valid token, db,"
            " redis): the trivial route behind CurrentUser",
            Target(min_ratio=0.75, max_gen2_per_10k=NO_FULL_GC, note="naive stack: 0.41x"),
            headers=HEADERS,
            expect_headers=STACK_HEADERS,
        ),
        Variant(
            "suite-unauthenticated",
            suite_unauthenticated,
            "every plugin on; the trivial route without CurrentUser (token sent, not checked)",
            Target(max_gen2_per_10k=NO_FULL_GC),
            headers=HEADERS,
            expect_headers=STACK_HEADERS,
        ),
        Variant(
            "suite-authenticated",
            suite_full_stack,
            "suite-full-stack against suite-unauthenticated: what CurrentUser costs in the stack",
            None,
            baseline="suite-unauthenticated",
            headers=HEADERS,
            expect_headers=STACK_HEADERS,
            server=False,
        ),
        *(
            Variant(
                f"suite-without-{plugin}",
                factory,
                f"suite-unauthenticated with the {plugin} plugin disabled: above 1 is its share",
                None,
                baseline="suite-unauthenticated",
                headers=HEADERS,
                expect_headers=STACK_HEADERS,
                server=False,
            )
            for plugin, factory in (
                ("observability", suite_without_observability),
                ("redis", suite_without_redis),
                ("auth", suite_without_auth),
            )
        ),
        Variant(
            "suite-rate-limited",
            suite_rate_limited,
            "suite-full-stack + @rate_limited (never reached): one limit check per request",
            None,
            baseline="suite-full-stack",
            headers=HEADERS,
            expect_headers=(*STACK_HEADERS, "ratelimit"),
            server=False,
        ),
        Variant(
            "fastapi-db-plain",
            fastapi_db_plain,
            "the DB route without plugins: FastAPI(), own engine, hand-written AsyncSession",
            None,
            baseline="fastapi-db-plain",
        ),
        Variant(
            "suite-db-session",
            suite_db_session,
            "every plugin on; the DB route (one PK SELECT through DBSession, CurrentUser)",
            Target(min_ratio=0.90, max_gen2_per_10k=NO_FULL_GC, note="naive: 0.78x"),
            baseline="fastapi-db-plain",
            headers=HEADERS,
            expect_headers=STACK_HEADERS,
        ),
        Variant(
            "suite-db-cached",
            suite_db_cached,
            "suite-db-session + @cache_response(per_user=True): a hit, served before routing",
            Target(min_ratio=6.0, note="a cache hit: at least 6x the uncached DB route"),
            baseline="suite-db-session",
            headers=HEADERS,
            expect_headers=(*STACK_HEADERS, "etag"),
        ),
        Variant(
            "suite-db-raw-connection",
            suite_db_raw_connection,
            "every plugin on; the DB route on a raw connection (Core SELECT, no ORM session)",
            None,
            baseline="suite-db-raw-connection",
            headers=HEADERS,
            expect_headers=STACK_HEADERS,
            server=False,
        ),
        Variant(
            "suite-db-session-layer",
            suite_db_session,
            "suite-db-session against suite-db-raw-connection: the session layer's own cost",
            None,
            baseline="suite-db-raw-connection",
            headers=HEADERS,
            expect_headers=STACK_HEADERS,
            server=False,
        ),
    ]
