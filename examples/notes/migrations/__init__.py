"""Alembic revisions of the `notes` branch (contributed through `faster_db_migrations`)."""
