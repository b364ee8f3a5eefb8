"""A pseudo-terminal that looks like a USB serial adapter, with a stable link (like /dev/serial/by-id) and unplug."""
from __future__ import annotations

import os
import pty
import threading
import tty
from pathlib import Path


class PtyPort:
    """The device side of a pty: the driver opens ``path`` (or ``link``); the simulator writes and reads here."""

    def __init__(self, link: str | os.PathLike | None = None):
        self.link = Path(link) if link else None
        self.master: int | None = None
        self._slave: int | None = None
        self.path: str | None = None
        self.bytes_dropped = 0
        # The sim thread and a test may unplug while the other writes: a closed fd number must never be reused.
        self._lock = threading.RLock()
        self.plug()

    @property
    def plugged(self) -> bool:
        return self.master is not None

    def plug(self) -> None:
        with self._lock:
            self._plug()

    def _plug(self) -> None:
        if self.master is not None:
            return
        master, slave = pty.openpty()
        tty.setraw(slave)  # a UART passes bytes untouched: no echo, no CR/LF translation
        os.set_blocking(master, False)
        self.master, self._slave = master, slave
        self.path = os.ttyname(slave)
        if self.link:
            tmp = self.link.with_name(self.link.name + ".tmp")
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(self.path)
            os.replace(tmp, self.link)  # atomic: a driver never sees a half-made link

    def unplug(self) -> None:
        """The cable is pulled: the device node and its link vanish, an open driver gets an I/O error."""
        with self._lock:
            self._unplug()

    def _unplug(self) -> None:
        if self.link:
            self.link.unlink(missing_ok=True)
        for fd in (self._slave, self.master):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.master = self._slave = None
        self.path = None

    def write(self, data: bytes) -> int:
        """Send bytes to the host; like a UART with nobody listening, what does not fit is lost."""
        with self._lock:
            if self.master is None:
                return 0
            try:
                n = os.write(self.master, data)
            except (BlockingIOError, OSError):
                n = 0
        self.bytes_dropped += len(data) - n
        return n

    def read(self, size: int = 4096) -> bytes:
        """Bytes the host sent (commands); empty when there are none."""
        with self._lock:
            if self.master is None:
                return b""
            try:
                return os.read(self.master, size)
            except (BlockingIOError, OSError):
                return b""

    def close(self) -> None:
        self.unplug()
