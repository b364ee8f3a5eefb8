"""Tables of the local log. Schema changes go through Alembic revisions in storage/migrations.

Plain SQLAlchemy Core tables (every query in storage is Core): not importing the ORM saves about a third of the
start-up of a command that opens the log, such as `gate screen` (bench/cli_startup.py). A new table is a
``Table(...)`` here plus a migration; tests/storage/test_schema.py checks that the two agree.
"""
from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Index, Integer, MetaData, String, Table, Text

METADATA = MetaData()

SCREENINGS = Table(
    "screenings", METADATA,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(36), unique=True, nullable=False),
    Column("station_id", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("day", String(10), nullable=False),  # local calendar day, for daily reports
    Column("entrant_id", String(64)),
    Column("operator", String(64)),
    Column("follows", String(36)),
    Column("decision", String(8), nullable=False),
    Column("reasons", Text, nullable=False),  # JSON list
    Column("message", Text, nullable=False),
    Column("threshold_c", Float, nullable=False),
    Column("temperature_c", Float),
    Column("mask", Text, nullable=False),  # JSON object
    Column("readings", Text, nullable=False),  # JSON list
    Column("prev_hash", String(64), nullable=False),
    Column("row_hash", String(64), nullable=False),
    # Derived from readings / mask for fast exports and reports; not hashed, but verify checks they agree.
    Column("source", String(64)),
    Column("mask_state", String(8)),
    Column("session", String(64)),  # the check of the day (hashed when set)
    # The entrant id with case and compatibility forms folded (domain.identifiers.id_key): P42, p42 and Ｐ４２ are one
    # person for the fever memory. Derived like source: not hashed; verify checks it agrees with entrant_id.
    Column("entrant_key", String(64)),
    Index("ix_screenings_day", "day"),
    Index("ix_screenings_entrant", "entrant_id"),
    Index("ix_screenings_day_session", "day", "session"),
    Index("ix_screenings_entrant_key", "entrant_key"),
)

# Records waiting to go upstream; written in the same transaction as the record itself.
OUTBOX = Table(
    "outbox", METADATA,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("record_id", String(36), nullable=False),
    Column("created_at", Float, nullable=False),
)

ENTRANTS = Table(
    "entrants", METADATA,
    Column("roster_id", String(64), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("group", String(64), nullable=False, default=""),
    Column("kind", String(16), nullable=False, default="pupil"),
    Column("mac", String(64)),  # storage.seals: HMAC of the row under the station key
)

SYNC_STATE = Table(
    "sync_state", METADATA,
    Column("upstream", String(64), primary_key=True),  # a hash of the URL without password
    Column("identity", String(36)),  # the upstream database's own id: whose checkpoint
    Column("last_seq", Integer, nullable=False, default=0),
    Column("last_success", Float),
    Column("last_error", Text),
    Column("last_error_at", Float),
)

# Records the upstream refused, with its reason; the rest of the outbox goes on.
QUARANTINE = Table(
    "quarantine", METADATA,
    Column("outbox_seq", Integer, primary_key=True),
    Column("upstream", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("record_id", String(36), nullable=False),
    Column("error", Text, nullable=False),
    Column("at", Float, nullable=False),
)

DAILY_REPORTS = Table(
    "daily_reports", METADATA,
    Column("id", String(36), primary_key=True),
    Column("station_id", String(64), nullable=False),
    Column("day", String(10), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("content", Text, nullable=False),
    Column("mac", String(64)),  # storage.seals: the row's MAC under the station key
)

# Who did what (exports, purges, roster changes, overrides ...), hash-chained like screenings.
AUDIT_EVENTS = Table(
    "audit_events", METADATA,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(36), unique=True, nullable=False),
    Column("station_id", String(64), nullable=False),
    Column("at", Float, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("row_hash", String(64), nullable=False),
)

# After a purge: the last purged row of a chain, so the rows that remain still verify.
CHAIN_ANCHORS = Table(
    "chain_anchors", METADATA,
    Column("chain", String(32), primary_key=True),
    Column("last_purged_seq", Integer, nullable=False),
    Column("last_purged_hash", String(64), nullable=False),
    Column("at", Float, nullable=False),
)

VISITORS = Table(
    "visitors", METADATA,
    Column("visitor_id", String(64), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("phone", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("host", String(128), nullable=False),
    Column("day", String(10)),
    Column("approved_by", String(64), nullable=False),
    Column("at", Float, nullable=False),
)

# A MAC'd summary under the station key: a chain's row count and head, a sealed table's rows and digest, and the
# fingerprint of the log's station key (``station-key``). See storage.seals.
SEALS = Table(
    "seals", METADATA,
    Column("name", String(64), primary_key=True),
    Column("rows", Integer, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("mac", String(64), nullable=False),
)

# Station users. The PIN is stored only as a peppered scrypt hash (gate.pins); failures and lockouts persist.
USERS = Table(
    "users", METADATA,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("pin_hash", String(200), nullable=False),
    Column("failures", Integer, nullable=False, default=0),
    Column("locked_until", Float),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
    Column("classes", Text, nullable=False, default=""),  # a teacher's classes, JSON list
    Column("mac", String(64)),  # storage.seals: HMAC of the row under the station key
)

# A calibration record (full or daily check); the whole record is kept as JSON in ``content``.
CALIBRATIONS = Table(
    "calibrations", METADATA,
    Column("id", String(36), primary_key=True),
    Column("station_id", String(64), nullable=False),
    Column("sensor", String(128), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("at", Float, nullable=False),
    Column("due", Float),
    Column("result", String(8), nullable=False),
    Column("operator", String(64), nullable=False),
    Column("content", Text, nullable=False),
    Column("mac", String(64)),  # storage.seals: HMAC of the row under the station key
    Index("ix_calibrations_sensor_at", "sensor", "at"),
)

# A clearance of one confirmed fever (doctor's note seen by the health officer), hash-chained like the audit.
CLEARANCES = Table(
    "clearances", METADATA,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(36), unique=True, nullable=False),
    Column("station_id", String(64), nullable=False),
    Column("entrant_id", String(64), nullable=False),
    Column("fever_screening_id", String(36), nullable=False),
    Column("fever_at", Float, nullable=False),
    Column("note", Text, nullable=False),
    Column("cleared_by", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("at", Float, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("row_hash", String(64), nullable=False),
    Index("ix_clearances_entrant", "entrant_id"),
)

# The screening policy in force (one row); each change is also an audit event, which `gate verify` compares.
STATION_POLICY = Table(
    "station_policy", METADATA,
    Column("id", Integer, primary_key=True),
    Column("content", Text, nullable=False),  # canonical JSON of gate.station_policy.snapshot
    Column("sha256", String(64), nullable=False),
    Column("applied_by", String(64), nullable=False),
    Column("applied_at", Float, nullable=False),
    Column("source", Text, nullable=False),
    Column("mac", String(64)),  # storage.seals: HMAC of the row under the station key
)

# A follow-up case event (因病缺勤追踪): a case is opened by one row and closed by a later one; hash-chained.
CASES = Table(
    "cases", METADATA,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(36), unique=True, nullable=False),
    Column("case_id", String(36), nullable=False),  # the opening row's id
    Column("event", String(8), nullable=False),  # open | close
    Column("station_id", String(64), nullable=False),
    Column("entrant_id", String(64), nullable=False),
    Column("class_name", String(64), nullable=False),
    Column("day", String(10), nullable=False),
    Column("session", String(64)),
    Column("reason", String(16), nullable=False),  # absent | fever | no-mask | retest-open
    Column("screening_id", String(36)),
    Column("outcome", String(16)),
    Column("symptoms", Text, nullable=False, default="[]"),  # JSON list
    Column("onset", String(10)),
    Column("note", Text, nullable=False, default=""),
    Column("by", String(64), nullable=False),
    Column("role", String(16), nullable=False, default=""),
    Column("at", Float, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("row_hash", String(64), nullable=False),
    Index("ix_cases_case", "case_id"),
    Index("ix_cases_entrant", "entrant_id"),
)

# A session of one day whose cases were opened (so that a session is closed out once).
SESSION_CLOSURES = Table(
    "session_closures", METADATA,
    Column("day", String(10), primary_key=True),
    Column("session", String(64), primary_key=True),
    Column("at", Float, nullable=False),
    Column("cases", Integer, nullable=False),
)

# The school's fevers, certificate cases and clearances that OTHER gates recorded, pulled from the upstream by the
# sync (storage.school_records): one hash chain, keyed and sealed like the log's own chains.
SCHOOL_RECORDS = Table(
    "school_records", METADATA,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(160), unique=True, nullable=False),  # "<origin station>/<kind>/<origin seq>": pulled once
    Column("origin", String(64), nullable=False),  # the station id of the gate that recorded it
    Column("origin_seq", Integer, nullable=False),
    Column("kind", String(16), nullable=False),  # fever | certificate | clearance | held | lifted (storage.held)
    Column("entrant_id", String(64), nullable=False, index=True),
    Column("at", Float, nullable=False),
    Column("content", Text, nullable=False),  # the record as the upstream holds it (JSON)
    Column("pulled_at", Float, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("row_hash", String(64), nullable=False),
)

# The follow-up case events (opens and closes) that the school's OTHER gates recorded, pulled from the upstream by
# the sync (storage.pulled_cases, storage.school_cases): one hash chain, keyed and sealed like the log's own chains.
SCHOOL_CASES = Table(
    "school_cases", METADATA,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(160), unique=True, nullable=False),  # "<origin station>/<origin seq>": pulled once
    Column("origin", String(64), nullable=False),  # the station id of the gate that recorded the event
    Column("origin_seq", Integer, nullable=False),
    Column("case_id", String(36), nullable=False),
    Column("entrant_id", String(64), nullable=False),
    Column("at", Float, nullable=False),
    Column("content", Text, nullable=False),  # the event as the upstream holds it (JSON)
    Column("pulled_at", Float, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("row_hash", String(64), nullable=False),
    Index("ix_school_cases_case_id", "case_id"),
)
