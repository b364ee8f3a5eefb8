"""The log's tables, one module per group (log, station, roster, cases, school, sync, records), on one ``METADATA``.

Plain SQLAlchemy Core tables (every query in storage is Core, no ORM). A command builds only the groups it uses:
`gate screen` needs the chained log and the station's settings, not the roster, the cases or the sync's tables
(about 20 M instructions of its start-up, bench/cli_startup.py). ``storage.models`` imports every group, so the
METADATA seen through it is complete: Alembic and the schema test (tests/unit/storage/test_schema.py) use it.

The columns are declared by what they hold (an id, a record's uuid, a moment, a day, a digest ...), so that each kind
of value has its type and size written once; every column is required unless it says ``optional=True``.
"""
from __future__ import annotations

from sqlalchemy import Column, Float, Integer, MetaData, String, Text

from domain.identifiers import ID_MAX, NAME_MAX

METADATA = MetaData()
UUID_CHARS = 36  # str(uuid.uuid4())
HEX_CHARS = 64  # a SHA-256 or an HMAC-SHA256, in hex


def ident(name: str, *, optional: bool = False, **kw) -> Column:
    """An id or a user name as domain.identifiers checks it (entrant, station, operator): at most ID_MAX."""
    return Column(name, String(ID_MAX), nullable=optional, **kw)


def full_name(name: str, *, optional: bool = False, **kw) -> Column:
    """A person's name, a sensor's name: at most NAME_MAX."""
    return Column(name, String(NAME_MAX), nullable=optional, **kw)


def uuid(name: str, *, optional: bool = False, **kw) -> Column:
    """A record's uuid: its own id, or the record it points at."""
    return Column(name, String(UUID_CHARS), nullable=optional, **kw)


def digest(name: str, *, optional: bool = False, **kw) -> Column:
    """A hash or a MAC, in hex."""
    return Column(name, String(HEX_CHARS), nullable=optional, **kw)


def moment(name: str, *, optional: bool = False, **kw) -> Column:
    """A moment: seconds since the epoch (time.time())."""
    return Column(name, Float, nullable=optional, **kw)


def celsius(name: str, *, optional: bool = False, **kw) -> Column:
    """A temperature in °C."""
    return Column(name, Float, nullable=optional, **kw)


def count(name: str, **kw) -> Column:
    """How many of something (rows, cases, failures): a whole number, always known."""
    return Column(name, Integer, nullable=False, **kw)


def calendar_day(name: str, *, optional: bool = False, **kw) -> Column:
    """A local calendar day, YYYY-MM-DD."""
    return Column(name, String(10), nullable=optional, **kw)


def short(name: str, chars: int, *, optional: bool = False, **kw) -> Column:
    """A short string of at most ``chars``: a word from a known set (a decision, a role), a class, a session ..."""
    return Column(name, String(chars), nullable=optional, **kw)


def text(name: str, *, optional: bool = False, **kw) -> Column:
    """Free text or JSON, of any length."""
    return Column(name, Text, nullable=optional, **kw)


def chain_keys(id_chars: int = UUID_CHARS) -> tuple[Column, Column]:
    """The first columns of every hash-chained table (storage.chain): ``seq``, the row's place in its chain (the order
    the hashes link in), and ``id``, the record's own key, which the upstream and the outbox know it by."""
    return (Column("seq", Integer, primary_key=True, autoincrement=True),
            Column("id", String(id_chars), unique=True, nullable=False))


def chain_links() -> tuple[Column, Column]:
    """The columns that link a chained row to the one before it: what ``storage.chain`` writes and verifies."""
    return digest("prev_hash"), digest("row_hash")


def seal_mac() -> Column:
    """The last column of every sealed table (storage.seals): the row's HMAC under the station key, so that a row
    edited outside the station is seen."""
    return digest("mac", optional=True)
