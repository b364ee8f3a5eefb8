"""Upstream: only the database's owner makes a day partition (a16's H1, closed).

``gate_make_day`` (u0011, u0016) let a station's role have a missing day made, as the owner. A pupil with one
station's password who called it and kept the transaction open held the new day's table and the default partition
(ATTACH scans it under ACCESS EXCLUSIVE) for as long as it liked: every sync that met a new day, `gate sync verify`
and the bureau's export over days without a partition gave up behind it. The function is dropped, and every grant
on it with it: `gate upstream maintain` (the owner, daily from cron) makes the days ahead (14 by default), an
owner's sync still makes the day it needs, and a station role's rows of a day not made yet wait in the default
partition (nothing lost) until maintain files them. The README's station grants no longer name it.

Revision ID: u0017
Revises: u0016
"""
import importlib.util
from pathlib import Path

from alembic import op

revision = "u0017"
down_revision = "u0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # an SQLite upstream has no partitions
    op.execute("DROP FUNCTION IF EXISTS gate_make_day(date)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # u0016's function back, callable by nobody until granted again
        spec = importlib.util.spec_from_file_location("u0016", Path(__file__).with_name("u0016_station_role_limits.py"))
        u0016 = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(u0016)
        op.execute(u0016.MAKE_DAY)
        op.execute("REVOKE ALL ON FUNCTION gate_make_day(date) FROM PUBLIC")
