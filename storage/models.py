"""Tables of the local log. Schema changes go through Alembic revisions in storage/migrations."""
from __future__ import annotations

from sqlalchemy import Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class ScreeningRow(Base):
    __tablename__ = "screenings"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    station_id: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[float] = mapped_column(Float, nullable=False)
    day: Mapped[str] = mapped_column(String(10), nullable=False)  # local calendar day, for daily reports
    entrant_id: Mapped[str | None] = mapped_column(String(64))
    operator: Mapped[str | None] = mapped_column(String(64))
    follows: Mapped[str | None] = mapped_column(String(36))
    decision: Mapped[str] = mapped_column(String(8), nullable=False)
    reasons: Mapped[str] = mapped_column(Text, nullable=False)  # JSON list
    message: Mapped[str] = mapped_column(Text, nullable=False)
    threshold_c: Mapped[float] = mapped_column(Float, nullable=False)
    temperature_c: Mapped[float | None] = mapped_column(Float)
    mask: Mapped[str] = mapped_column(Text, nullable=False)  # JSON object
    readings: Mapped[str] = mapped_column(Text, nullable=False)  # JSON list
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    row_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    # Derived from readings / mask for fast exports and reports; not hashed, but verify checks they agree.
    source: Mapped[str | None] = mapped_column(String(64))
    mask_state: Mapped[str | None] = mapped_column(String(8))
    session: Mapped[str | None] = mapped_column(String(64))  # the check of the day (hashed when set)

    __table_args__ = (Index("ix_screenings_day", "day"), Index("ix_screenings_entrant", "entrant_id"),
                      Index("ix_screenings_day_session", "day", "session"))


class OutboxRow(Base):
    """Records waiting to go upstream; written in the same transaction as the record itself."""

    __tablename__ = "outbox"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    record_id: Mapped[str] = mapped_column(String(36), nullable=False)
    created_at: Mapped[float] = mapped_column(Float, nullable=False)


class EntrantRow(Base):
    __tablename__ = "entrants"

    roster_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    group: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="pupil")


class SyncStateRow(Base):
    __tablename__ = "sync_state"

    upstream: Mapped[str] = mapped_column(String(64), primary_key=True)  # a hash of the URL without password
    identity: Mapped[str | None] = mapped_column(String(36))  # the upstream database's own id: whose checkpoint
    last_seq: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_success: Mapped[float | None] = mapped_column(Float)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[float | None] = mapped_column(Float)


class QuarantineRow(Base):
    """Records the upstream refused, with its reason; the rest of the outbox goes on."""

    __tablename__ = "quarantine"

    outbox_seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    upstream: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    record_id: Mapped[str] = mapped_column(String(36), nullable=False)
    error: Mapped[str] = mapped_column(Text, nullable=False)
    at: Mapped[float] = mapped_column(Float, nullable=False)


class DailyReportRow(Base):
    __tablename__ = "daily_reports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    station_id: Mapped[str] = mapped_column(String(64), nullable=False)
    day: Mapped[str] = mapped_column(String(10), nullable=False)
    created_at: Mapped[float] = mapped_column(Float, nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)


class AuditEventRow(Base):
    """Who did what (exports, purges, roster changes, overrides ...), hash-chained like screenings."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    station_id: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[float] = mapped_column(Float, nullable=False)
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    detail: Mapped[str] = mapped_column(Text, nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    row_hash: Mapped[str] = mapped_column(String(64), nullable=False)


class ChainAnchorRow(Base):
    """After a purge: the last purged row of a chain, so the rows that remain still verify."""

    __tablename__ = "chain_anchors"

    chain: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_purged_seq: Mapped[int] = mapped_column(Integer, nullable=False)
    last_purged_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[float] = mapped_column(Float, nullable=False)


class VisitorRow(Base):
    __tablename__ = "visitors"

    visitor_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    phone: Mapped[str] = mapped_column(String(32), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    host: Mapped[str] = mapped_column(String(128), nullable=False)
    day: Mapped[str | None] = mapped_column(String(10))
    approved_by: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[float] = mapped_column(Float, nullable=False)


class SealRow(Base):
    """A MAC'd summary under the station key: a chain's row count and head, a sealed table's rows and digest, and the
    fingerprint of the log's station key (``station-key``). See storage.seals."""

    __tablename__ = "seals"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    rows: Mapped[int] = mapped_column(Integer, nullable=False)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    mac: Mapped[str] = mapped_column(String(64), nullable=False)


class UserRow(Base):
    """Station users. The PIN is stored only as a salted scrypt hash; failures and lockouts persist."""

    __tablename__ = "users"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    pin_hash: Mapped[str] = mapped_column(String(200), nullable=False)
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[float | None] = mapped_column(Float)
    disabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[float] = mapped_column(Float, nullable=False)
    classes: Mapped[str] = mapped_column(Text, nullable=False, default="")  # a teacher's classes, JSON list


class CalibrationRow(Base):
    """A calibration record (full or daily check); the whole record is kept as JSON in ``content``."""

    __tablename__ = "calibrations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    station_id: Mapped[str] = mapped_column(String(64), nullable=False)
    sensor: Mapped[str] = mapped_column(String(128), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    at: Mapped[float] = mapped_column(Float, nullable=False)
    due: Mapped[float | None] = mapped_column(Float)
    result: Mapped[str] = mapped_column(String(8), nullable=False)
    operator: Mapped[str] = mapped_column(String(64), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)

    __table_args__ = (Index("ix_calibrations_sensor_at", "sensor", "at"),)


class ClearanceRow(Base):
    """A clearance of one confirmed fever (doctor's note seen by the health officer), hash-chained like the audit."""

    __tablename__ = "clearances"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    station_id: Mapped[str] = mapped_column(String(64), nullable=False)
    entrant_id: Mapped[str] = mapped_column(String(64), nullable=False)
    fever_screening_id: Mapped[str] = mapped_column(String(36), nullable=False)
    fever_at: Mapped[float] = mapped_column(Float, nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False)
    cleared_by: Mapped[str] = mapped_column(String(64), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    at: Mapped[float] = mapped_column(Float, nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    row_hash: Mapped[str] = mapped_column(String(64), nullable=False)

    __table_args__ = (Index("ix_clearances_entrant", "entrant_id"),)


class StationPolicyRow(Base):
    """The screening policy in force (one row); each change is also an audit event, which `gate verify` compares."""

    __tablename__ = "station_policy"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content: Mapped[str] = mapped_column(Text, nullable=False)  # canonical JSON of gate.station_policy.snapshot
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    applied_by: Mapped[str] = mapped_column(String(64), nullable=False)
    applied_at: Mapped[float] = mapped_column(Float, nullable=False)
    source: Mapped[str] = mapped_column(Text, nullable=False)


class CaseRow(Base):
    """A follow-up case event (因病缺勤追踪): a case is opened by one row and closed by a later one; hash-chained."""

    __tablename__ = "cases"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    case_id: Mapped[str] = mapped_column(String(36), nullable=False)  # the opening row's id
    event: Mapped[str] = mapped_column(String(8), nullable=False)  # open | close
    station_id: Mapped[str] = mapped_column(String(64), nullable=False)
    entrant_id: Mapped[str] = mapped_column(String(64), nullable=False)
    class_name: Mapped[str] = mapped_column(String(64), nullable=False)
    day: Mapped[str] = mapped_column(String(10), nullable=False)
    session: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(16), nullable=False)  # absent | fever | no-mask | retest-open
    screening_id: Mapped[str | None] = mapped_column(String(36))
    outcome: Mapped[str | None] = mapped_column(String(16))
    symptoms: Mapped[str] = mapped_column(Text, nullable=False, default="[]")  # JSON list
    onset: Mapped[str | None] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    by: Mapped[str] = mapped_column(String(64), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False, default="")
    at: Mapped[float] = mapped_column(Float, nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    row_hash: Mapped[str] = mapped_column(String(64), nullable=False)

    __table_args__ = (Index("ix_cases_case", "case_id"), Index("ix_cases_entrant", "entrant_id"))


class SessionClosureRow(Base):
    """A session of one day whose cases were opened (so that a session is closed out once)."""

    __tablename__ = "session_closures"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    session: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[float] = mapped_column(Float, nullable=False)
    cases: Mapped[int] = mapped_column(Integer, nullable=False)
