"""Thermometers without the station: `gate sim` (a simulated one on a pty), `gate read` (readings as they arrive),
`gate ports` (serial ports)."""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from serial.tools import list_ports

from domain.errors import UsageError
from drivers.registry import PROTOCOLS
from drivers.sensor import Sensor
from gate.cli.common import describe, json_option, positive_int
from gate.cli.sensors import options_for, port_options, protocol_options, stop_on_sigterm, until_interrupted
from sim.scenarios import SCENARIOS
from sim.simulator import Simulator

SIM_EXAMPLES = """
gate sim --protocol gy-mcu90614 --scenario fevers --link /tmp/gy
gate sim --protocol modbus-ir --slave 7 --link /tmp/ir --seconds 60
gate sim --protocol gy-mcu90614 --gain 0.97 --offset -1.2 --blackbody-control /tmp/bb --link /tmp/gy
"""
READ_EXAMPLES = """
gate read --url /dev/ttyUSB0 --protocol gy-mcu90614 --count 5
gate read --url /tmp/ir --protocol modbus-ir --slave 7 --json
"""
PORTS_EXAMPLES = """
gate ports
gate ports --json
"""


# -- gate sim --------------------------------------------------------------------------------------------------------
def add_sim(p: argparse.ArgumentParser) -> None:
    describe(p, "Simulate a thermometer on a pseudo-terminal (a real pty the driver cannot tell from USB).",
             SIM_EXAMPLES, sim)
    p.add_argument("--protocol", required=True, help=f"one of: {', '.join(PROTOCOLS)}")
    p.add_argument("--scenario", default="normal-morning", help=f"one of: {', '.join(SCENARIOS)}")
    p.add_argument("--link", help="keep a stable symlink to the device here (survives simulated unplugs)")
    p.add_argument("--seed", type=int)
    p.add_argument("--seconds", type=float, help="stop after this long (default: until Ctrl-C)")
    p.add_argument("--pace", type=float, default=1.0, help="people arrive this many times faster (default 1)")
    p.add_argument("--gain", type=float, help="the simulated sensor's gain error (e.g. 0.97)")
    p.add_argument("--offset", type=float, help="its offset error, °C (e.g. -1.2)")
    p.add_argument("--noise", type=float, help="its noise, °C (default 0.04)")
    p.add_argument("--drift", type=float, help="its drift, °C per hour")
    p.add_argument("--blackbody-control", help="a file holding a blackbody set point the sensor looks at")
    protocol_options(p)


def sim(args: argparse.Namespace) -> None:
    options = options_for(args, args.protocol) if args.protocol in PROTOCOLS else {}
    scenario = SCENARIOS.get(args.scenario)
    if scenario is None:
        raise UsageError(f"unknown scenario {args.scenario!r}; choose one of {', '.join(SCENARIOS)}")
    errors = {k: v for k, v in (("gain", args.gain), ("offset_c", args.offset), ("noise_c", args.noise),
                                ("drift_c_per_hour", args.drift)) if v is not None}
    try:
        simulator = Simulator(args.protocol, replace(scenario, **errors), link=args.link, seed=args.seed,
                              options=options, pace=args.pace)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    simulator.scene.blackbody_control = args.blackbody_control
    simulator.start()
    print(f"{args.protocol} ({args.scenario}) on {simulator.port.path}" + (f", link {args.link}" if args.link else ""),
          flush=True)
    stop = stop_on_sigterm()
    with until_interrupted(simulator.stop):
        while not stop.wait(0.5) and (args.seconds is None or simulator.now() < args.seconds):
            pass


# -- gate read -------------------------------------------------------------------------------------------------------
def add_read(p: argparse.ArgumentParser) -> None:
    describe(p, "Print readings from a sensor as they arrive (for maintenance staff).", READ_EXAMPLES, read)
    port_options(p, required=True)
    p.add_argument("--mode", choices=("continuous", "query"), help="default: the protocol's usual mode")
    p.add_argument("--sensor-id", default="sensor-1")
    protocol_options(p)
    p.add_argument("--count", type=positive_int, help="stop after N readings")
    json_option(p, "one JSON line per reading: object_c, ambient_c, sensor, ts, health")


def read(args: argparse.Namespace) -> None:
    try:
        sensor = Sensor(args.sensor_id, args.protocol, args.url, args.baud, mode=args.mode,
                        options=options_for(args, args.protocol))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    sensor.open()
    n = 0
    with until_interrupted(sensor.close):
        while args.count is None or n < args.count:
            samples, events = sensor.poll(0.2)
            for ev in events:
                print(f"# {ev.sensor}: {ev.health.value} ({ev.reason})", file=sys.stderr, flush=True)
            for s in samples:
                n += 1
                if args.json:
                    print(json.dumps({"object_c": s.object_c, "ambient_c": s.ambient_c, "sensor": args.sensor_id,
                                      "ts": s.ts, "health": sensor.health.value}), flush=True)
                else:
                    amb = "—" if s.ambient_c is None else f"{s.ambient_c:.2f}"
                    print(f"{time.strftime('%H:%M:%S', time.localtime(s.ts))} object {s.object_c:7.2f} °C  "
                          f"ambient {amb} °C  {sensor.health.value}", flush=True)
                if args.count is not None and n >= args.count:
                    break


# -- gate ports ------------------------------------------------------------------------------------------------------
def add_ports(p: argparse.ArgumentParser) -> None:
    describe(p, "List serial ports with vendor, product and by-id path.", PORTS_EXAMPLES, ports)
    json_option(p, "one JSON line per port")


def ports(args: argparse.Namespace) -> None:
    found = list(list_ports.comports(include_links=True))
    by_id = Path("/dev/serial/by-id")
    links = {p.resolve(): str(p) for p in by_id.iterdir()} if by_id.is_dir() else {}
    rows = [{"device": p.device, "vendor": p.manufacturer, "product": p.product, "vid": p.vid, "pid": p.pid,
             "serial": p.serial_number, "by_id": links.get(Path(p.device).resolve())} for p in found]
    if args.json:
        for r in rows:
            print(json.dumps(r, ensure_ascii=False))
    elif not rows:
        print("no serial ports found: plug the thermometer in, or use `gate sim` for a simulated one")
    else:
        for r in rows:
            print(f"{r['device']:<16} {r['vendor'] or '-':<20} {r['product'] or '-':<28} {r['by_id'] or ''}")


COMMANDS = {"sim": add_sim, "read": add_read, "ports": add_ports}
