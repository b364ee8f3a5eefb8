"""Files a person names on the command line (a roster CSV, a config), read with their size checked first.

A path can be anything: a folder, a FIFO that never ends, /dev/zero, a 5 GB file. ``read_bounded`` opens without
blocking, refuses what is not a regular file, refuses a file over the limit by its size before reading a byte, and
never reads more than the limit even when the file grows meanwhile: memory stays bounded whatever is named.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from domain.errors import UsageError


class FileRefused(UsageError):
    """A named file that will not be read; the message says why and what to give instead."""


def file_kind(mode: int) -> str:
    """What a path that is not a regular file is, in words ("a folder", "a device" ...)."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n:,} bytes"


def read_bounded(path: str | os.PathLike, limit: int, what: str) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; FileRefused (one line) for anything else."""
    path = Path(path)
    try:
        # O_NONBLOCK: opening a FIFO nobody writes to returns at once (and is then refused) instead of hanging
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise FileRefused(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FileRefused(f"{path} is {file_kind(st.st_mode)}, not {what}: give a file")
        if st.st_size > limit:
            raise FileRefused(f"{path} is {_size(st.st_size)}: {what} is at most {_size(limit)}; nothing was read")
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:  # it grew while being read
            raise FileRefused(f"{path} grew past {_size(limit)} while being read: {what} is at most {_size(limit)}")
        return b"".join(chunks)
    except OSError as exc:
        raise FileRefused(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
