"""Bring a log (or an upstream database) to the newest schema with Alembic, in place.

Opening a log whose schema is current does not import Alembic (a third of `gate screen`'s start-up): the stored
revision is read with one query and compared with the newest migration file's revision. The migrations form one
linear chain whose files start with their revision ("0007_upstream_identity.py" is revision "0007"); a test checks
that this reading of the folder agrees with Alembic's head.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from storage.db import writer
from storage.errors import StorageError

if TYPE_CHECKING:
    from alembic.config import Config

    from storage.keys import StationKey

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"


def alembic_config() -> "Config":
    from alembic.config import Config  # Alembic: only when a schema changes (or a test asks)

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory  # Alembic: only when a schema changes (or a test asks)

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def newest_file_revision(folder: Path = MIGRATIONS) -> str:
    """The revision of the newest migration file in ``folder`` (the log's, or the upstream's), read from the file
    names alone (no Alembic)."""
    return max(p.name.split("_", 1)[0] for p in (folder / "versions").glob("[0-9u]*_*.py"))


def file_revisions(folder: Path = MIGRATIONS) -> set[str]:
    """Every revision this station's migrations know, read from the file names alone (no Alembic)."""
    return {p.name.split("_", 1)[0] for p in (folder / "versions").glob("[0-9u]*_*.py")}


def unknown_revision(revision: str | None, path: object) -> str | None:
    """Why a log at ``revision`` cannot be opened by this station (None: it can). A revision no migration knows was
    edited in the file or written by a newer station: neither can be upgraded or read with today's tables."""
    if revision is None or revision in file_revisions():
        return None
    return (f"{path} has schema {revision[:40]!r}, which this station does not know (edited in the file, or written "
            "by a newer version of the station): restore the log and its key from backup")


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: a new, empty database)."""
    with engine.connect() as conn:
        try:
            return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
        except OperationalError:  # no version table yet
            return None


def upgrade(engine: Engine, key: "StationKey | None" = None) -> None:
    """Migrate to the newest revision; ``key`` (the log's station key) is needed by the revisions that move secrets
    out of the log and key its chains."""
    revision = current_revision(engine)
    if revision == newest_file_revision():
        return
    if (problem := unknown_revision(revision, engine.url.database)) is not None:
        raise StorageError(problem)
    from alembic import command  # Alembic: only when the schema really changes

    if current_revision(engine) == head_revision():
        return
    cfg = alembic_config()
    with writer(engine).begin() as conn:  # the write lock first: two stations opening a new log migrate in turn
        cfg.attributes["connection"] = conn
        cfg.attributes["station_key"] = key
        command.upgrade(cfg, "head")
