"""PINs: which are refused as too easy to guess, and how they are stored.

A PIN is 6 to 32 ASCII digits and not trivial: not one digit repeated (111111), not a run up or down (123456,
987654, 890123), not a short block repeated, with or without a
part of it as a tail (123123, 121212, 520520, 1212121), not digits doubled in a run (112233), and not
one of the PINs people choose most (a short list from published PIN studies, with the Chinese favourites 520/1314).

Stored as ``scrypt-hmac$n$r$p$salt$hash``: scrypt (n=2^14, r=8, p=1: 16 MiB, one hash ≈ 60 ms on the station) of
HMAC-SHA256(pepper, PIN), with a random 16-byte salt. The pepper is derived from the station key (storage.keys), which
is not in the log: a copied log alone gives an attacker nothing to test PINs against. With the log *and* the key, one
core needs about 10^6 x 60 ms ≈ 17 hours for every 6-digit PIN (the README states the figures). Hashes from before the
pepper (``scrypt$...``) still sign in and are replaced at that sign-in (``needs_rehash``).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1, "dklen": 32}
PREFIX = "scrypt-hmac"
LEGACY_PREFIX = "scrypt"
MIN_DIGITS, MAX_DIGITS = 6, 32
COMMON = frozenset({
    "123456", "000000", "111111", "123123", "121212", "654321", "112233", "520520", "888888", "666666", "123321",
    "147258", "159357", "159753", "147369", "258258", "369369", "131313", "520131", "521521", "5201314", "1314520",
    "123654", "100200", "123789", "789456", "456123", "112358", "696969", "101010", "202020", "110110", "168168",
    "518518", "142536", "102030", "12345678", "87654321", "11223344", "147852", "963852", "741852", "852963",
})
ADVICE = "choose 6 or more digits without a pattern (not a birthday either)"


def weakness(pin: str) -> str | None:
    """Why ``pin`` is refused, or None. Never repeats the PIN (the message may reach a log or a screen)."""
    if not pin or not pin.isascii() or not pin.isdigit() or not MIN_DIGITS <= len(pin) <= MAX_DIGITS:
        return f"a PIN is {MIN_DIGITS} to {MAX_DIGITS} digits"
    if len(set(pin)) == 1:
        return f"this PIN is one digit repeated, the first a thief tries: {ADVICE}"
    steps = {(int(b) - int(a)) % 10 for a, b in zip(pin, pin[1:])}
    if steps in ({1}, {9}):
        return f"this PIN is a run of digits (like 123456 or 987654): {ADVICE}"
    for size in range(2, len(pin) // 2 + 1):
        # A block repeated, whole or with a part of it as a tail (1212121, 1231231): as easy as 121212.
        if pin == (pin[:size] * (len(pin) // size + 1))[:len(pin)]:
            return f"this PIN repeats a short block (like 121212 or 123123): {ADVICE}"
    if len(pin) % 2 == 0 and pin[::2] == pin[1::2] and _run_or_one(pin[::2]):
        return f"this PIN doubles a run of digits (like 112233): {ADVICE}"
    if pin in COMMON:
        return f"this PIN is among the most common PINs: {ADVICE}"
    return None


def _run_or_one(digits: str) -> bool:
    """The digits of a doubled PIN (112233 -> 123) are themselves a run or one digit."""
    steps = {(int(b) - int(a)) % 10 for a, b in zip(digits, digits[1:])}
    return len(set(digits)) == 1 or steps in ({1}, {9})


def _peppered(pin: str, pepper: bytes) -> bytes:
    return hmac.new(pepper, pin.encode(), hashlib.sha256).digest()


def hash_pin(pin: str, pepper: bytes) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(_peppered(pin, pepper), salt=salt, **SCRYPT)
    return f"{PREFIX}${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${salt.hex()}${digest.hex()}"


def matches(pin: str, stored: str, pepper: bytes) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind not in (PREFIX, LEGACY_PREFIX) or int(n) > 2 ** 20 or int(r) > 32 or int(p) > 16:
            return False  # a hash edited to make scrypt run for minutes is not a hash of ours
        secret = _peppered(pin, pepper) if kind == PREFIX else pin.encode()
        got = hashlib.scrypt(secret, salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32,
                             maxmem=256 * 1024 * 1024)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


def needs_rehash(stored: str) -> bool:
    """A hash from before the pepper (or with other parameters): replaced at the next successful sign-in."""
    return not stored.startswith(f"{PREFIX}${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}$")
