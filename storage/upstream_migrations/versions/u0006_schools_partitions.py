"""Upstream for a province: schools and stations tables, ``school_id`` first in every primary key, screenings
partitioned by day on PostgreSQL (one range partition per day, plus a default one for days not created yet).

Existing rows have no school: each station was its own school, so ``school_id`` = ``station_id`` (as for a station
whose config names no school), and each station id already seen is registered with no key fingerprint, to be claimed
by the first station that syncs under that id. Existing screenings are moved
into day partitions (one per day they cover). Frozen: restates the schema instead of importing it.

Revision ID: u0006
Revises: u0005
"""
import datetime as dt
import time

import sqlalchemy as sa
from alembic import op

revision = "u0006"
down_revision = "u0005"
branch_labels = None
depends_on = None

SMALL = ("daily_reports", "audit_events", "calibrations", "clearances")
SCREENING_COLUMNS = ("id", "station_id", "seq", "created_at", "day", "entrant_id", "operator", "follows", "decision",
                     "reasons", "message", "threshold_c", "temperature_c", "mask", "readings", "prev_hash", "row_hash",
                     "session")


def _screening_columns(day_type):
    return [
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("day", day_type, nullable=False),
        sa.Column("entrant_id", sa.String(64)),
        sa.Column("operator", sa.String(64)),
        sa.Column("follows", sa.String(36)),
        sa.Column("decision", sa.String(8), nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("threshold_c", sa.Float, nullable=False),
        sa.Column("temperature_c", sa.Float),
        sa.Column("mask", sa.Text, nullable=False),
        sa.Column("readings", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
        sa.Column("session", sa.String(64)),
        sa.PrimaryKeyConstraint("school_id", "day", "id", name="pk_up_screenings"),
        sa.UniqueConstraint("school_id", "station_id", "seq", "day", name="uq_up_screenings_station_seq"),
    ]


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "schools",
        sa.Column("school_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False, server_default=""),
        sa.Column("expected_stations", sa.Integer),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "stations",
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(128)),
        sa.Column("registered_at", sa.Float, nullable=False),
        sa.Column("last_sync_at", sa.Float),
        sa.Column("last_seq", sa.Integer, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("school_id", "station_id", name="pk_up_stations"),
    )
    for name in SMALL:
        op.add_column(name, sa.Column("school_id", sa.String(64)))
        op.execute(f"UPDATE {name} SET school_id = station_id")
        if pg:
            op.execute(f"ALTER TABLE {name} ALTER COLUMN school_id SET NOT NULL")
            op.execute(f"ALTER TABLE {name} DROP CONSTRAINT {name}_pkey")
            op.execute(f"ALTER TABLE {name} ADD CONSTRAINT pk_up_{name} PRIMARY KEY (school_id, id)")
        else:
            with op.batch_alter_table(name, recreate="always") as batch:
                batch.alter_column("school_id", existing_type=sa.String(64), nullable=False)
                batch.create_primary_key(f"pk_up_{name}", ["school_id", "id"])
    op.create_index("ix_up_daily_reports_day", "daily_reports", ["day", "school_id"])

    op.drop_index("ix_up_screenings_station_seq", "screenings")
    op.rename_table("screenings", "screenings_u0005")
    if pg:
        op.execute("ALTER TABLE screenings_u0005 RENAME CONSTRAINT screenings_pkey TO screenings_u0005_pkey")
        op.create_table("screenings", *_screening_columns(sa.Date()), postgresql_partition_by="RANGE (day)")
        op.execute("CREATE TABLE screenings_default PARTITION OF screenings DEFAULT")
        days = [r[0] for r in op.get_bind().execute(sa.text("SELECT DISTINCT day FROM screenings_u0005"))]
        for day in days:
            first = dt.date.fromisoformat(day)
            op.execute(f"CREATE TABLE screenings_p{first:%Y%m%d} PARTITION OF screenings "
                       f"FOR VALUES FROM ('{first}') TO ('{first + dt.timedelta(days=1)}')")
        cast = "day::date"
    else:
        op.create_table("screenings", *_screening_columns(sa.String(10)))
        cast = "day"
    names = ", ".join(SCREENING_COLUMNS)
    picked = ", ".join(cast if c == "day" else c for c in SCREENING_COLUMNS)
    op.execute(f"INSERT INTO screenings (school_id, {names}) SELECT station_id, {picked} FROM screenings_u0005")
    op.drop_table("screenings_u0005")

    # Station ids already seen: registered without a fingerprint; the next station to sync under the id claims it.
    now = time.time()
    op.execute(f"INSERT INTO stations (school_id, station_id, registered_at, last_seq) "
               f"SELECT station_id, station_id, {now!r}, MAX(seq) FROM screenings GROUP BY station_id")
    op.execute(f"INSERT INTO schools (school_id, name, created_at) SELECT school_id, station_id, {now!r} FROM stations")


def downgrade() -> None:
    raise NotImplementedError("u0006 is not reversible: keep a dump of the upstream from before the upgrade")
