"""The log's tables, one module per group (log, station, roster, cases, school, sync, records), on one ``METADATA``.

Plain SQLAlchemy Core tables (every query in storage is Core, no ORM). A command builds only the groups it uses:
`gate screen` needs the chained log and the station's settings, not the roster, the cases or the sync's tables
(about 20 M instructions of its start-up, bench/cli_startup.py). ``storage.models`` imports every group, so the
METADATA seen through it is complete: Alembic and the schema test (tests/unit/storage/test_schema.py) use it.
"""
from __future__ import annotations

from sqlalchemy import MetaData

METADATA = MetaData()
