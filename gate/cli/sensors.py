"""Sensor options shared by `gate run`, `gate read`, `gate sim` and `gate calibrate run`: the port and protocol, the
protocol's own options (checked against what the protocol accepts), and a clean stop on SIGTERM."""
from __future__ import annotations

import argparse
import signal
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

from domain.errors import UsageError
from drivers.registry import OPTIONS, PROTOCOLS
from gate.config import Config, SensorConfig


def port_options(p: argparse.ArgumentParser, *, required: bool = False) -> None:
    p.add_argument("--url", required=required,
                   help="sensor port URL (e.g. /dev/ttyUSB0, /dev/serial/by-id/..., socket://host:port)")
    p.add_argument("--protocol", required=required, choices=PROTOCOLS, help="the sensor's protocol")
    p.add_argument("--baud", type=int, help="baud rate (default: the protocol's)")


# -- protocol options ------------------------------------------------------------------------------------------------
def protocol_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("protocol options")
    g.add_argument("--slave", type=int, help="modbus-ir: slave address 1–255 (default 1)")
    g.add_argument("--register-map", help="modbus-ir: omega (default) or calex")
    g.add_argument("--address", type=int, help="optris-ct: RS-485 address 0–15 (default: none, RS-232)")
    g.add_argument("--pattern", help="text-line: melexis, arduino (default), simple, or a regex with (?P<object>...)")


def options_for(args: argparse.Namespace, protocol: str) -> dict:
    """The protocol options given on the command line, checked against what ``protocol`` accepts."""
    given = {k: getattr(args, k) for k in ("slave", "register_map", "address", "pattern")
             if getattr(args, k, None) is not None}
    allowed = OPTIONS.get(protocol, {})
    for key, value in given.items():
        flag = "--" + key.replace("_", "-")
        if key not in allowed:
            raise UsageError(f"{flag} does not apply to protocol {protocol}")
        _kind, what, ok = allowed[key]
        if not ok(value):
            raise UsageError(f"{flag} {value!r}: allowed: {what}")
    return given


@contextmanager
def until_interrupted(cleanup: Callable[[], object]) -> Iterator[None]:
    """A loop that runs until Ctrl-C (the ordinary way to stop it, not a failure), then ``cleanup``."""
    try:
        yield
    except KeyboardInterrupt:
        pass
    finally:
        cleanup()


def stop_on_sigterm() -> threading.Event:
    """An event set by SIGTERM, so a service manager stops a loop as cleanly as Ctrl-C does."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    return stop



def sensor_config(args: argparse.Namespace, cfg: Config) -> SensorConfig:
    """The sensor to use: --url and --protocol (over the config's first sensor), else the config's first sensor."""
    if getattr(args, "url", None) or getattr(args, "protocol", None):
        if not (args.url and args.protocol):
            raise UsageError("--url and --protocol go together, e.g. --url /dev/ttyUSB0 --protocol gy-mcu90614")
        base = cfg.sensors[0] if cfg.sensors else None
        return SensorConfig.from_options(id=base.id if base else "sensor-1", protocol=args.protocol, url=args.url,
                                         baud=getattr(args, "baud", None) or (base.baud if base else None),
                                         mode=getattr(args, "mode", None),
                                         trigger=getattr(args, "trigger", None) or "presence",
                                         options=options_for(args, args.protocol))
    if not cfg.sensors:
        raise UsageError("no sensor: give --url URL --protocol P, or a --config file with a [[sensors]] table")
    return cfg.sensors[0]
