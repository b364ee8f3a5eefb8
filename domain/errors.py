"""The kinds of failure the station reports to a person, one class per kind.

Every layer raises these (or its own subclass of one), so a caller handles a kind of failure, not a library's
exception. The command line maps each kind to its exit code in one place (`gate/cli/__init__.py`); the duty screen
shows the message. A message says what was wrong and what to do; when there are several problems (a config file, a
roster CSV) ``problems`` names each one.
"""
from __future__ import annotations

from typing import Sequence


class GateError(Exception):
    """A failure a person can act on."""

    problems: Sequence[str] = ()

    def __init__(self, message: str = "", problems: Sequence[str] = ()):
        super().__init__(message)
        if problems:
            self.problems = tuple(problems)


class CheckFailed(GateError):
    """A check ran and found a problem: a broken chain, a changed export, a failed calibration, an unreadable image."""


class UsageError(GateError, ValueError):
    """Bad input: an argument, a typed value, a file or a config; nothing was changed. Fix it and try again."""


class StorageFailure(GateError):
    """The log could not be written or read (disk full, read-only, damaged): nobody is admitted on its word."""


class Refused(GateError):
    """Not allowed: a wrong PIN, a locked user, a role that may not do this, or the policy forbids it."""


class DeviceFailure(GateError):
    """A thermometer, its port, the camera or the mask detector is missing or not answering."""


class UpstreamFailure(GateError):
    """The district's database could not be reached or did not take the batch; the station keeps screening."""
