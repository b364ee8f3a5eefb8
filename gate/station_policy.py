"""The screening policy lives in the log, not in whichever config file a command was given.

The keys that decide who walks in (threshold, mask mode, plausible range, calibration requirement, body-site offset and
the sensor list) are stored with the log when a station is first set up. From then on a config that says something
else is applied only by an admin (`gate config apply FILE --user ADMIN`, or `gate run` with an admin's sign-in),
audited from -> to; every other command given a differing config refuses and names the keys. A pupil who writes
`threshold_c = 39.0` into another file and points `--config` at it gets a refusal, not a fever walking in.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from domain.errors import CheckFailed, Refused
from storage import policy as stored_policy

if TYPE_CHECKING:
    from gate.policy_change import Change

POLICY_KEYS = ("threshold_c", "mask_mode", "plausible_min_c", "plausible_max_c", "calibration_required",
               "body_site_offset_c", "sensors", "lockout_failures", "lockout_minutes")
# The PIN lockout ([security]): a --config with 100 guesses a minute must not be an attacker's own rule. A policy
# stored before these keys were kept counts as the built-in defaults.
SECURITY_KEYS = ("lockout_failures", "lockout_minutes")
# What of a sensor changes a decision; its port, baud rate and mode are plumbing, free to change with the hardware.
SENSOR_KEYS = ("id", "protocol", "trigger", "ambient_min_c", "ambient_max_c", "warmup_s")


class PolicyMismatch(Refused):
    """The config given differs from the policy stored with the log; the message names the keys and what to do."""

    def __init__(self, source: str, changes: list[Change]):
        self.source = source
        self.changes = changes
        keys = "; ".join(str(c) for c in changes)
        if source.startswith("<"):  # no file: the built-in defaults
            super().__init__(f"the built-in defaults (no --config given) differ from the screening policy stored with "
                             f"this log in {keys}. Give the station's config with --config FILE.")
        else:
            super().__init__(
                f"{source} differs from the screening policy stored with this log in {keys}. An admin applies it "
                f"with `gate config apply {source} --user ADMIN --pin-stdin`, or give the station's own config.")


class PolicyNotStored(Refused):
    """The station has users (PINs on) and no policy is stored with its log yet: only an admin may store the first
    one, else whoever screened first (a duty user with another --config) would set the threshold and the mask rule."""

    def __init__(self, source: str):
        self.source = source
        super().__init__(
            "no screening policy is stored with this log yet: an admin applies the station's config first with "
            "`gate config apply FILE --user ADMIN --pin-stdin` (or `gate run --user ADMIN`); nothing was stored")


class PolicyTampered(CheckFailed):
    """The policy stored with the log does not match the audit trail: someone edited the file outside the station."""


def snapshot(config: Any) -> dict:
    """The policy keys of a config, as plain JSON-able values (the form stored and compared)."""
    out: dict[str, Any] = {}
    for key in POLICY_KEYS:
        if key in SECURITY_KEYS:
            out[key] = _plain(getattr(config.security, key))
        elif key == "sensors":
            out[key] = sorted(({k: _plain(getattr(s, k, None)) for k in SENSOR_KEYS} for s in config.sensors),
                              key=lambda s: str(s["id"]))
        else:
            out[key] = _plain(getattr(config, key))
    return out


def _plain(v: Any) -> Any:
    if isinstance(v, float):
        return round(v, 4)
    if hasattr(v, "value"):  # an enum
        return v.value
    return v


def differences(stored: dict, wanted: dict) -> list[Change]:
    """Keys whose value differs, in POLICY_KEYS order; a key missing on one side counts as a difference."""
    stored = {**_security_defaults(), **stored} if stored else stored
    differing = [k for k in POLICY_KEYS if stored.get(k) != wanted.get(k)]
    if not differing:
        return []
    from gate.policy_change import Change  # loaded when needed: gate screen's start-up (bench/cli_startup.py)

    return [Change(k, stored.get(k), wanted.get(k)) for k in differing]


def _security_defaults() -> dict:
    from gate.config import SecurityConfig
    return {k: _plain(getattr(SecurityConfig(), k)) for k in SECURITY_KEYS}


def lockout(config_security: Any, stored: dict | None) -> Any:
    """The lockout in force: the stored policy's, or the config's where that is stricter (fewer tries, a longer
    lock). A --config cannot loosen it; only an admin's `gate config apply` changes the stored one."""
    if not stored:
        return config_security
    rule = {**_security_defaults(), **{k: stored[k] for k in SECURITY_KEYS if k in stored}}
    return msgspec.structs.replace(config_security, **{
        "lockout_failures": min(config_security.lockout_failures, int(rule["lockout_failures"])),
        "lockout_minutes": max(config_security.lockout_minutes, float(rule["lockout_minutes"]))})


def enforce(config: Any, log: Any, *, actor: str | None = None, apply: bool = False) -> list[Change]:
    """Make sure ``config``'s policy is the log's: store it on a new log without users; with ``apply`` (an admin is
    signed in as ``actor``) store a first or a differing one, audited from -> to; otherwise refuse a differing one,
    and, once the station has users, a first one (PolicyNotStored). Returns what changed."""
    wanted = snapshot(config)
    problem, stored = stored_policy.checked(log)
    if problem and not apply:
        raise PolicyTampered(f"{problem}: run `gate verify`, and have an admin re-apply the station's config")
    if stored is None and not problem:
        if not apply and stored_policy.pins_on(log):
            raise PolicyNotStored(str(config.source))
        stored_policy.store(log, config.station_id, wanted, actor or "station", str(config.source), None)
        return []
    changes = differences(stored or {}, wanted)
    if changes and not apply:
        raise PolicyMismatch(str(config.source), changes)
    if changes or problem:  # an admin's apply also repairs a policy edited outside the station
        stored_policy.store(log, config.station_id, wanted, actor or "?", str(config.source), stored)
    return changes
