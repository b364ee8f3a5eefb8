"""The station key: the secrets that must never sit in the log itself.

One small JSON file (0600), made on a log's first run, beside the log by default (``<log>.key``) or where the config's
``[station] key_file`` says. It holds a random 32-byte master secret and the pseudonymisation key (kept as its own
value so the pseudonyms of a log made before the key file stay the same). Every other key is derived from the master
by HMAC-SHA256 with a label (one purpose, one key):

- ``chain_key``: the chains (screenings, audit, clearances) are HMACs under it;
- ``seal_key``: the MACs on users, roster, calibrations, the stored policy and the chain seals;
- ``pin_pepper``: every PIN is HMAC'd with it before scrypt, so a copied log alone cannot be cracked offline;
- ``export_key``: signs export manifests (``sign``/``signature_ok``).

``fingerprint`` is public: the first 16 hex of the SHA-256 of a value derived from the master. It names the key
(upstream registration, `gate verify`) and says nothing about it.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
import time
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from storage.errors import StorageError
from storage.private import private_dir, private_file, write_private

FORMAT = "gate-station station key"
VERSION = 1


class StationKeyError(StorageError):
    """The station key is missing, damaged or belongs to another log; the message says what to restore."""




def key_path_for(db: str | os.PathLike) -> Path:
    """The default place of a log's key: beside it, ``<log>.key``."""
    db = Path(db)
    return db.with_name(db.name + ".key")


def _derive(master: bytes, label: str) -> bytes:
    return hmac.new(master, f"gate-station/{label}/v1".encode(), hashlib.sha256).digest()


def _derived(label: str) -> property:
    """The key of one purpose (``label``), derived from the master on each use (see the module's list)."""
    return property(lambda key: _derive(key.master, label), doc=f"the key derived from the master for {label!r}")


@dataclass(frozen=True)
class StationKey:
    """The station's secrets (see the module). Never printed: ``repr`` shows the fingerprint only."""

    master: bytes = field(repr=False)
    pseudonym_key: bytes = field(repr=False)
    created_at: float = 0.0
    path: Path | None = None
    # Set while a log made before key files is being upgraded to keyed chains (cleared once the upgrade committed).
    upgrade_pending: bool = False
    # Set once the log's chains are HMACs under this key: a log found with plain chains after that was rolled back.
    keyed_chains: bool = False

    @classmethod
    def new(cls, pseudonym_key: bytes | None = None, path: Path | None = None,
            upgrade_pending: bool = False) -> "StationKey":
        return cls(secrets.token_bytes(32), pseudonym_key or secrets.token_bytes(32), time.time(), path,
                   upgrade_pending)

    # -- derived keys ---------------------------------------------------------------------------------------------
    @cached_property
    def chain_key(self) -> bytes:
        # derived once per key object (a key is immutable): every row appended or checked is one HMAC, not two
        return _derive(self.master, "chain")

    seal_key = _derived("seal")
    pin_pepper = _derived("pin-pepper")
    export_key = _derived("export-manifest")

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(_derive(self.master, "fingerprint")).hexdigest()[:16]

    # -- using them -----------------------------------------------------------------------------------------------
    def chain_digest(self, message: bytes) -> str:
        """The chains' digest (storage.chain.Digest): HMAC-SHA256 under the chain key, 64 hex."""
        return hmac.digest(self.chain_key, message, "sha256").hex()  # one C call: no HMAC object per row

    def seal(self, message: bytes) -> str:
        return hmac.new(self.seal_key, message, hashlib.sha256).hexdigest()

    def sign(self, message: bytes) -> str:
        """An export manifest's signature: HMAC-SHA256 under the export key, 64 hex."""
        return hmac.new(self.export_key, message, hashlib.sha256).hexdigest()

    def signature_ok(self, message: bytes, signature: str) -> bool:
        return hmac.compare_digest(self.sign(message), signature or "")

    # -- the file -------------------------------------------------------------------------------------------------
    def to_json(self) -> bytes:
        content = {"format": FORMAT, "version": VERSION, "fingerprint": self.fingerprint,
                   "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.created_at)),
                   "created_ts": self.created_at, "master": self.master.hex(), "pseudonym": self.pseudonym_key.hex()}
        if self.upgrade_pending:
            content["upgrade"] = "pending"
        if self.keyed_chains:
            content["chains"] = "hmac-sha256"
        return (json.dumps(content, indent=1) + "\n").encode()

    def save(self, path: Path | None = None, *, exclusive: bool = False) -> "StationKey":
        path = Path(path or self.path)
        private_dir(path.parent)
        write_private(path, replace(self, path=path).to_json(), exclusive=exclusive)
        return replace(self, path=path)

    def upgraded(self) -> "StationKey":
        """The same key, its log upgraded to keyed chains (the file rewritten: no pending mark, chains keyed)."""
        if not self.upgrade_pending and self.keyed_chains:
            return self
        return replace(self, upgrade_pending=False, keyed_chains=True).save()


def load(path: str | os.PathLike) -> StationKey:
    """The key in ``path``; StationKeyError when it is missing or damaged (restore it from the backup: never a new one)."""
    path = Path(path)
    raw = _read_key_file(path)
    try:
        content = json.loads(raw)
        if content.get("format") != FORMAT or content.get("version") != VERSION:
            raise ValueError("not a station key")
        master, pseudonym = bytes.fromhex(content["master"]), bytes.fromhex(content["pseudonym"])
        if len(master) != 32 or len(pseudonym) < 16:
            raise ValueError("wrong key length")
        key = StationKey(master, pseudonym, float(content.get("created_ts", 0.0)), path,
                         content.get("upgrade") == "pending", content.get("chains") == "hmac-sha256")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise StationKeyError(f"the station key {path} is damaged ({exc}): restore it from backup") from None
    if content.get("fingerprint") not in (None, key.fingerprint):
        raise StationKeyError(f"the station key {path} is damaged (its fingerprint does not match): restore it from backup")
    private_file(path)  # verified as our key: one copied back from a backup under a loose umask is tightened
    return key


# A key file is about 300 bytes; anything much larger is not one (and is never read whole).
MAX_KEY_BYTES = 4096


def _read_key_file(path: Path) -> bytes:
    """The bytes of the key file at ``path``, checked before a byte is read or a mode changed: a symlink, a folder,
    a device (/dev/zero), a FIFO or a large file (/etc/passwd is no key either, refused when parsed) is refused in
    one line and left as it was."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise StationKeyError(f"the station key for this log is missing ({path}): restore it from backup "
                              "(without it the log's records cannot be proved)") from None
    except OSError as exc:
        raise StationKeyError(f"the station key {path} cannot be read ({exc.strerror}): check its owner and "
                              "permissions (the station's own user, 0600)") from None
    if not stat.S_ISREG(st.st_mode):
        what = ("a symbolic link" if stat.S_ISLNK(st.st_mode) else "a folder" if stat.S_ISDIR(st.st_mode)
                else "a FIFO" if stat.S_ISFIFO(st.st_mode) else "a device or socket")
        raise StationKeyError(f"the station key {path} is {what}, not a key file: give the key file itself "
                              "([station] key_file)")
    if st.st_size > MAX_KEY_BYTES:
        raise StationKeyError(f"{path} is not a station key ({st.st_size} bytes; a key file is under 1 KB): give "
                              "the key file itself ([station] key_file)")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise StationKeyError(f"the station key {path} cannot be read ({exc.strerror}): check its owner and "
                              "permissions (the station's own user, 0600)") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped between the check and the open
            raise StationKeyError(f"the station key {path} is not a regular file: give the key file itself")
        raw = os.read(fd, MAX_KEY_BYTES + 1)
    except OSError as exc:
        raise StationKeyError(f"the station key {path} cannot be read ({exc.strerror})") from None
    finally:
        os.close(fd)
    if len(raw) > MAX_KEY_BYTES:
        raise StationKeyError(f"{path} is not a station key (too large): give the key file itself")
    return raw


def load_or_create(path: str | os.PathLike, *, pseudonym_key: bytes | None = None,
                   upgrade_pending: bool = False) -> StationKey:
    """The key in ``path``, made (0600, in a 0700 folder if the folder is new) when there is none yet.

    Only for a log that has no key yet (a new log, or one made before key files): a log whose key went missing is
    refused by the caller, never given a new key. Two processes creating it at once get the same key.
    """
    path = Path(path)
    if os.path.lexists(path):
        return load(path)
    key = StationKey.new(pseudonym_key, path, upgrade_pending)
    try:
        return key.save(path, exclusive=True)
    except FileExistsError:
        return load(path)
