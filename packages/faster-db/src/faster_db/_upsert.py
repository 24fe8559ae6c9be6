"""`INSERT ... ON CONFLICT` statements for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

__all__ = ["upsert_statement"]


def upsert_statement(
    dialect: str,
    table: Table,
    values: Mapping[str, Any],
    conflict_on: Sequence[str],
    update: Sequence[str] | None,
) -> Insert:
    """Insert `values`; when a row with the same `conflict_on` columns exists, update the
    `update` columns (default: every given column but those; with none, the row is left as
    it is but still returned) — or do nothing at all with `update=[]`.

    Columns with an `onupdate` (such as `updated_at`) are refreshed on the update path too.
    """
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(table).values(**values)
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).values(**values)
    else:
        raise NotImplementedError(f"upsert supports sqlite and postgresql, not {dialect}")
    if update is not None and not update:
        return stmt.on_conflict_do_nothing(index_elements=list(conflict_on))  # type: ignore[no-any-return]
    columns = [c for c in values if c not in conflict_on] if update is None else list(update)
    if not columns:
        # Nothing to change, but RETURNING must still give the existing row: a no-op update.
        return stmt.on_conflict_do_update(  # type: ignore[no-any-return]
            index_elements=list(conflict_on), set_={c: stmt.excluded[c] for c in conflict_on}
        )
    assignments: dict[str, Any] = {name: stmt.excluded[name] for name in columns}
    for column in table.columns:
        onupdate = column.onupdate
        if onupdate is not None and column.name not in assignments:
            arg = getattr(onupdate, "arg", None)
            assignments[column.name] = arg(None) if callable(arg) else arg
    return stmt.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=list(conflict_on), set_=assignments
    )
