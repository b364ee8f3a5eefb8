"""Private at rest: the station's folders 0700 and its files 0600 whatever the process umask.

The log holds the temperatures of children by name; no other local account may read it, its WAL, its exports or the
station key. SQLite creates the WAL and SHM files with the log file's own mode, so a log created 0600 keeps them 0600.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: str | os.PathLike, *, tighten: bool = False) -> Path:
    """Create ``path`` (and missing parents) as 0700. An existing folder is tightened only with ``tighten`` (the
    station's own data folder): a log given by the user in a shared folder keeps that folder as it is."""
    path = Path(path)
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue  # another process made it meanwhile
        os.chmod(d, DIR_MODE)  # mkdir's mode passes through the umask; chmod does not
    if tighten and not missing and path.is_dir():
        st = path.stat()
        if st.st_uid == os.getuid() and not st.st_mode & stat.S_ISVTX and stat.S_IMODE(st.st_mode) & 0o077:
            os.chmod(path, DIR_MODE)
    return path


def private_file(path: str | os.PathLike) -> None:
    """Make an existing file of ours 0600 (a log or export made by an older version, or under a loose umask).

    Only a regular file, never through a link; callers tighten a file once it is known to be the station's own (a
    file refused as not a log or not a key is left as it was)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISREG(st.st_mode) and st.st_uid == os.getuid() and stat.S_IMODE(st.st_mode) != FILE_MODE:
        os.chmod(path, FILE_MODE)


def create_private(path: str | os.PathLike) -> None:
    """Create ``path`` empty as 0600 if it does not exist yet (before SQLite or a writer opens it). An existing file
    is left as it is: it is tightened (``private_file``) only once it proved to be what the caller expects."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)


def write_private(path: str | os.PathLike, data: bytes, *, exclusive: bool = False) -> None:
    """Write ``data`` to ``path`` durably as 0600: a temporary file, fsync, then rename (or link, with
    ``exclusive``: refused with FileExistsError when ``path`` exists, so two processes never both create it)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        if exclusive:
            os.link(tmp, path)
        else:
            os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def log_files(db: str | os.PathLike) -> list[Path]:
    """The log and the files SQLite keeps beside it."""
    db = Path(db)
    return [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm"), db.with_name(db.name + "-journal")]
