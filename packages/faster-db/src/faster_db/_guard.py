"""The guard against handing a unit of work's session, or its objects, to another unit."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstanceState, Session

from faster_db.exceptions import SessionMisuseError

__all__ = ["refuse_bound_arguments"]


def refuse_bound_arguments(
    fn: Callable[..., Any], args: Iterable[Any], kwargs: Mapping[str, Any]
) -> None:
    """Raise `SessionMisuseError` if an argument (or an item of a list, tuple, set or dict
    argument) is a session or an ORM object attached to one."""
    name = getattr(fn, "__qualname__", repr(fn))
    for position, value in [*enumerate(args), *kwargs.items()]:
        for item in _with_items(value):
            reason = _bound(item)
            if reason is not None:
                raise SessionMisuseError(
                    f"argument {position!r} of background task {name} is {reason}: the task "
                    "gets its own session, so pass ids or plain values and load the rows there"
                )


def _with_items(value: Any) -> Iterable[Any]:
    yield value
    if isinstance(value, list | tuple | set | frozenset):
        yield from value
    elif isinstance(value, dict):
        yield from value.values()


def _bound(value: Any) -> str | None:
    if isinstance(value, AsyncSession | Session):
        return "a session"
    state = inspect(value, raiseerr=False)
    if isinstance(state, InstanceState) and state.session_id is not None:
        return f"a {type(value).__name__} attached to a session"
    return None
