"""The station's local log: SQLite through SQLAlchemy 2.x, hash-chained, migrated with Alembic. Never decides."""
from storage.log import LogError, ScreeningLog

__all__ = ["LogError", "ScreeningLog"]
