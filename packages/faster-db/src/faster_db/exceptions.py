"""The db plugin's errors, rooted in the suite's hierarchy.

    FasterError
    ├── FasterDBError                      root of this package's own errors
    │   ├── SessionMisuseError             a session used where it cannot be (a programming error)
    │   └── MigrationError                 migrations cannot be found or run
    └── ProblemError
        ├── NotFoundError
        │   └── RecordNotFoundError        404: no row with that key
        ├── ConflictError
        │   └── RecordConflictError        409: a constraint refused the write
        └── ServiceUnavailableError
            └── DatabaseUnavailableError   503 + Retry-After: the database cannot be reached
                └── PoolTimeoutError       503 + Retry-After: no connection free in time

SQLAlchemy and driver errors are mapped to these at the boundary (the request unit, the
exception handlers the plugin installs, `session_scope()`), with the original as `__cause__`.
Their `detail` never carries SQL or a driver's message.
"""

from __future__ import annotations

from faster_core import (
    ConflictError,
    FasterError,
    NotFoundError,
    ServiceUnavailableError,
)

__all__ = [
    "DatabaseUnavailableError",
    "FasterDBError",
    "MigrationError",
    "PoolTimeoutError",
    "RecordConflictError",
    "RecordNotFoundError",
    "SessionMisuseError",
]


class FasterDBError(FasterError):
    """Root of the db plugin's own errors."""


class SessionMisuseError(FasterDBError):
    """A session, or an object bound to one, was used outside the unit of work that owns it."""


class MigrationError(FasterDBError):
    """Migrations cannot be found or run."""


class RecordNotFoundError(NotFoundError):
    """No row has the requested key."""

    type_slug = "db-not-found"


class RecordConflictError(ConflictError):
    """A unique, foreign-key or check constraint refused the write."""

    type_slug = "db-conflict"


class DatabaseUnavailableError(ServiceUnavailableError):
    """The database cannot be reached or refused to work; the client may retry."""

    type_slug = "db-unavailable"


class PoolTimeoutError(DatabaseUnavailableError):
    """Every pooled connection stayed busy for the whole pool timeout."""

    type_slug = "db-pool-timeout"
