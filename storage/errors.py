"""One error type for every storage failure: the station catches it and admits nobody while it lasts."""
from __future__ import annotations

from domain.errors import StorageFailure


class StorageError(StorageFailure):
    """The log could not be written or read; the message is one line saying what and what to do."""


class LogEdited(StorageError):
    """The log was edited outside the station (a row changed, removed or slipped in): nobody whose history it might
    hide is admitted on its word until an auditor has checked (``gate verify``)."""


# The name the station, the CLI and the UI have always caught; the same class, so nothing slips between the two.
LogError = StorageError


def why(exc: BaseException) -> str:
    """One line for the operator from a database or OS error, with what to do about the usual causes."""
    text = (str(getattr(exc, "orig", None) or exc).splitlines() or [type(exc).__name__])[0]
    low = text.lower()
    if "disk" in low and "full" in low or "no space" in low:
        return f"the disk is full ({text}); free space on the station"
    if "readonly" in low or "read-only" in low or "permission" in low:
        return f"the log file is read-only ({text}); check the file and its folder permissions"
    if "unable to open" in low:
        return f"the log file cannot be opened ({text}); check the path and its folder"
    if "locked" in low or "busy" in low:
        return f"the log is busy ({text}); another program holds it: close it and try again"
    if "no such table" in low or "no such column" in low or "malformed" in low:
        return f"the log file is damaged ({text}); run `gate verify` and restore it from a backup"
    return text
