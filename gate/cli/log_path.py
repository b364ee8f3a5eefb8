"""The log's path (from --db, [station] db or the default), checked before anything is opened or made beside it.

SQLite and the station key would otherwise make files next to whatever was named: a key `/dev/null.key` and SQLite's
`/dev/null-journal` for a device (or a link to one), a `gate verify` that hangs opening a FIFO, an OSError for a name
too long for the file system. One check, called by ``common.open_log`` for every command that opens the log.
"""
from __future__ import annotations

import argparse
import errno
import os
import stat
from pathlib import Path

from domain.errors import StorageFailure, UsageError
from gate.input_files import file_kind

# The longest suffix of a file made beside the log: SQLite's "-journal" (the key's ".key", "-wal", "-shm" are shorter)
BESIDE = "-journal"


def a_path(what: str):
    """Argument type for a path: an empty one (a script's unset variable) is refused, never taken as "the default"."""
    def path(text: str) -> str:
        if not text.strip():
            raise argparse.ArgumentTypeError(f"{what} is empty: give the path (nothing was read or stored)")
        return text
    path.__name__ = what
    return path


def _shown(path: Path) -> str:
    text = str(path)
    return text if len(text) <= 80 else f"{text[:40]}…{text[-20:]} ({len(text):,} characters)"


def check_log_path(path: Path, given: bool) -> bool:
    """Whether a log file is at ``path`` (False: a new log will be made there). Anything else is refused in one line:
    a folder, a device, a FIFO or a socket (StorageFailure), a name or path too long for the file system, a path
    through a file (UsageError). ``given``: the path came from --db (named in the advice)."""
    where = "give --db the log file" if given else "check [station] db in the config"
    try:
        st = os.stat(path)  # follows a link: a link to /dev/null is a device
    except FileNotFoundError:
        st = None
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise UsageError(f"the log's path {_shown(path)} is too long for the file system: {where} "
                             "(nothing was created)") from None
        if exc.errno == errno.ENOTDIR:
            raise UsageError(f"{_shown(path)}: a part of the path is a file, not a folder: {where} "
                             "(nothing was created)") from None
        raise StorageFailure(f"cannot open the log at {_shown(path)}: {exc.strerror or exc}") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise StorageFailure(f"{path} is a folder, not a log: {where} (e.g. {path / 'gate.db'})")
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise StorageFailure(f"{_shown(path)} is {file_kind(st.st_mode)}, not a log: {where} (nothing was created)")
    try:
        name_max = os.pathconf(path.parent if path.parent.is_dir() else ".", "PC_NAME_MAX")
    except (OSError, ValueError):
        name_max = 255
    if len(os.fsencode(path.name + BESIDE)) > name_max:  # the log fits, but not the files made beside it
        raise UsageError(f"the log's name {_shown(Path(path.name))} is too long for the file system (at most "
                         f"{name_max - len(BESIDE)} bytes, with the files made beside it): {where} "
                         "(nothing was created)")
    return st is not None
