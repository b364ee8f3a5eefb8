"""Tables of the local log. Schema changes go through Alembic revisions in storage/migrations."""
from __future__ import annotations

from sqlalchemy import Float, Index, Integer, String, Text
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

    __table_args__ = (Index("ix_screenings_day", "day"), Index("ix_screenings_entrant", "entrant_id"))


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
