"""The public API is pinned: what `faster_db` exports and that each name exists."""

from __future__ import annotations

import faster_db

EXPECTED = {
    "NAMING_CONVENTION",
    "Base",
    "ConfigEntry",
    "ConfigStore",
    "DBBackgroundTasks",
    "DBSession",
    "DBSettings",
    "DBTasks",
    "Database",
    "DatabaseUnavailableError",
    "FasterDBError",
    "IntPrimaryKey",
    "MigrationError",
    "MigrationSource",
    "PoolTimeoutError",
    "ReadOnlyDBSession",
    "RecordConflictError",
    "RecordNotFoundError",
    "Repository",
    "RequestDatabase",
    "RequestUnitMiddleware",
    "SessionMisuseError",
    "SoftDelete",
    "Timestamps",
    "UTCDateTime",
    "UUIDPrimaryKey",
    "__version__",
    "db_session",
    "get_database",
    "utcnow",
}


def test_all_is_pinned() -> None:
    assert set(faster_db.__all__) == EXPECTED


def test_every_exported_name_exists() -> None:
    missing = [name for name in faster_db.__all__ if not hasattr(faster_db, name)]
    assert missing == []


def test_errors_belong_to_the_suite_hierarchy() -> None:
    from faster_core import FasterError, ServiceUnavailableError

    assert issubclass(faster_db.FasterDBError, FasterError)
    assert issubclass(faster_db.PoolTimeoutError, ServiceUnavailableError)
    assert faster_db.RecordConflictError.status == 409
    assert faster_db.DatabaseUnavailableError.status == 503


def test_the_plugin_is_installed_as_the_db_entry_point() -> None:
    from importlib.metadata import entry_points

    (found,) = [ep for ep in entry_points(group="faster") if ep.name == "db"]
    assert found.value == "faster_db.plugin"
    (fixtures,) = [ep for ep in entry_points(group="pytest11") if ep.name == "faster_db"]
    assert fixtures.value == "faster_db.testing"
