"""Alembic's environment for faster-db: runs on the connection `faster_db.migrations` passes."""

from __future__ import annotations

from typing import Any

from alembic import context

config = context.config
connection = config.attributes["connection"]
target_metadata = config.attributes["target_metadata"]


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    # Autogenerate for one plugin sees every plugin's tables: leave the others' alone.
    return not (type_ == "table" and reflected and compare_to is None)


context.configure(
    connection=connection,
    target_metadata=target_metadata,
    include_object=include_object,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
