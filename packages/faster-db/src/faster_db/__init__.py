"""faster-db: async SQLAlchemy sessions that cannot bind wrongly, for the Faster suite."""

from faster_db._version import __version__
from faster_db.config_store import ConfigEntry, ConfigStore
from faster_db.database import Database
from faster_db.dependencies import (
    DBBackgroundTasks,
    DBSession,
    DBTasks,
    ReadOnlyDBSession,
    RequestDatabase,
    db_session,
    get_database,
)
from faster_db.exceptions import (
    DatabaseUnavailableError,
    FasterDBError,
    MigrationError,
    PoolTimeoutError,
    RecordConflictError,
    RecordNotFoundError,
    SessionMisuseError,
)
from faster_db.middleware import RequestUnitMiddleware
from faster_db.migrations import MigrationSource
from faster_db.models import (
    NAMING_CONVENTION,
    Base,
    IntPrimaryKey,
    SoftDelete,
    Timestamps,
    UTCDateTime,
    UUIDPrimaryKey,
    utcnow,
)
from faster_db.repository import Repository
from faster_db.settings import DBSettings

__all__ = [
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
]
