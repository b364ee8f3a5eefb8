"""`gate calibrate run | fit | check | list | show`: sensors against a blackbody, for maintenance staff."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from domain.errors import CheckFailed, UsageError
from gate.calibration import calibrate, daily_check, parse_point
from gate.calibration_procedure import BlackbodyProcedure, measure, parse_set_points
from gate.cli.common import (actions, ident, json_option, load_config, open_log, operator, person, positive_int,
                             sign_in, signed_in, signin_options, station_options)
from gate.cli.sensors import port_options
from storage import calibrations

RUN = """
gate calibrate run --url /dev/ttyUSB0 --protocol gy-mcu90614 --points 35,37,40 --reference-id BB-7 --user li
gate calibrate run --url /tmp/gy --protocol gy-mcu90614 --points 35,40 --reference-id BB-7 \\
    --blackbody-control /tmp/bb --operator li          # a simulated blackbody: gate sim ... --blackbody-control
"""
FIT = """
gate calibrate fit --sensor gy-mcu90614:gun-1 --reference-id BB-7 --operator li \\
    --point 35.0:34.6,34.7,34.6 --point 37:36.6,36.7,36.6 --point 40:39.5,39.6,39.6 --json
"""
CHECK = """
gate calibrate check --sensor gy-mcu90614:gun-1 --point 37:36.9,37.0,36.9 --reference-id BB-7 --user li
"""
LIST = """
gate calibrate list
gate calibrate list --sensor gy-mcu90614:gun-1 --json
"""
SHOW = """
gate calibrate show 5b0f6c1e-...
"""
SENSOR = "the sensor, as protocol:id (e.g. gy-mcu90614:gun-1)"
SENSOR_KEY = ident("sensor", max_len=128)  # protocol:id, as calibration records name it


def reference_options(p: argparse.ArgumentParser, full: bool = True) -> None:
    p.add_argument("--reference-id", required=full, default="", type=ident("reference id", empty=True),
                   help="the blackbody's / reference thermometer's certificate id")
    if full:
        p.add_argument("--reference-uncertainty", type=float, default=0.1, help="°C (default 0.1)")
    p.add_argument("--tolerance", type=float, help="°C per residual (default: the config's, 0.3)")
    p.add_argument("--operator", type=person,
                   help="who calibrates (when the station has no users; default: the login name)")
    signin_options(p, "maintenance staff")
    json_option(p, "print the record as JSON: id, sensor, kind, fit, residuals, result, due, note")


def add_calibrate(p: argparse.ArgumentParser) -> None:
    add = actions(p, every=station_options)
    r = add("run", "The blackbody procedure on a live sensor: for each set point, set the blackbody (Enter when "
                   "stable), the station takes readings until they are stable, then fits. A failed calibration "
                   "exits 1.", RUN, run)
    port_options(r, required=True)
    r.add_argument("--sensor-id", default="sensor-1", type=ident("sensor id"),
                   help="the sensor's id in the config (default sensor-1)")
    r.add_argument("--points", required=True, help="blackbody set points, e.g. 35,37,40 (2 to 5, within 35–42 °C, "
                                                    "at least 2 °C apart)")
    r.add_argument("--samples", type=positive_int, default=5, help="readings per set point (default 5)")
    r.add_argument("--blackbody-control", metavar="FILE", help="write each set point to this file instead of asking "
                                                               "(a simulated blackbody: gate sim --blackbody-control)")
    reference_options(r)
    f = add("fit", "Fit written readings (SET:READING,... per set point); a residual over tolerance fails (exit 1).",
            FIT, fit)
    f.add_argument("--sensor", required=True, type=SENSOR_KEY, help=SENSOR)
    f.add_argument("--point", required=True, action="append", metavar="SET:R,R,...",
                   help="a set point and the readings at it; repeat for each point")
    reference_options(f)
    c = add("check", "The daily check: one point through the current calibration; out of tolerance locks the "
                     "sensor out (exit 1) until a full calibration passes.", CHECK, check)
    c.add_argument("--sensor", required=True, type=SENSOR_KEY, help=SENSOR)
    c.add_argument("--point", required=True, metavar="SET:R,R,...", help="the set point and the readings at it")
    reference_options(c, full=False)
    li = add("list", "Calibration records, newest first: when, sensor, kind, result, due, operator, id.", LIST,
             list_records)
    li.add_argument("--sensor", type=SENSOR_KEY, help=SENSOR + "; default: every sensor")
    json_option(li, "one JSON line per record")
    s = add("show", "One record in full: points, readings, fit, residuals.", SHOW, show)
    s.add_argument("id", metavar="ID", type=ident("record id"), help="the record's id (gate calibrate list)")
    json_option(s, "the record as one JSON line")


def list_records(args: argparse.Namespace) -> None:
    with open_log(args, load_config(args), existing=True) as log:
        records = calibrations.records(log, args.sensor)
    for r in records:
        due = time.strftime("%Y-%m-%d", time.localtime(r.due)) if r.due else "—"
        print(json.dumps({"id": r.id, "sensor": r.sensor, "kind": r.kind, "result": r.result,
                          "at": r.at, "due": r.due, "operator": r.operator}) if args.json else
              f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(r.at))}  {r.sensor:<28} {r.kind:<11} "
              f"{r.result:<4}  due {due}  {r.operator}  {r.id}")


def show(args: argparse.Namespace) -> None:
    with open_log(args, load_config(args), existing=True) as log:
        r = calibrations.get(log, args.id)
    if r is None:
        raise UsageError(f"no calibration record {args.id!r} (gate calibrate list)")
    print(r.to_json() if args.json else json.dumps(json.loads(r.to_json()), ensure_ascii=False, indent=2))


def fit(args: argparse.Namespace) -> None:
    points = [parse_point(p) for p in args.point]  # checked before the log is opened: nothing is stored
    cfg = load_config(args)
    with open_log(args, cfg) as log:
        save(args, cfg, log, calibrate(args.sensor, points, **settings(args, cfg, log)))


def check(args: argparse.Namespace) -> None:
    point = parse_point(args.point)
    with signed_in(args, "calibrate") as (cfg, log, user):
        who = operator(args, user)
        current, _ = calibrations.latest(log, args.sensor)
        record = daily_check(args.sensor, point, current, reference_id=args.reference_id, operator=who,
                             tolerance_c=args.tolerance or cfg.calibration_tolerance_c)
        save(args, cfg, log, record)


def run(args: argparse.Namespace) -> None:
    from drivers.sensor import Sensor  # the serial drivers: only `calibrate run` talks to a sensor

    set_points = parse_set_points(args.points)
    cfg = load_config(args)
    with open_log(args, cfg) as log:
        procedure = BlackbodyProcedure(f"{args.protocol}:{args.sensor_id}", set_points, samples=args.samples,
                                       **settings(args, cfg, log))
        try:
            sensor = Sensor(args.sensor_id, args.protocol, args.url, args.baud)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        sensor.open()
        control = Path(args.blackbody_control) if args.blackbody_control else None
        try:
            for n, set_c in enumerate(set_points, 1):
                if control:
                    control.write_text(f"{set_c}\n", encoding="ascii")
                    time.sleep(0.5)  # the simulated blackbody settles; a person waits for it instead
                else:
                    input(f"[{n}/{len(set_points)}] set the blackbody to {set_c:.1f} °C, wait until it is stable, "
                          "press Enter ")
                point = measure(procedure, sensor.next_value, on_again=lambda p: print(
                    f"  not stable yet (spread {p.spread:.2f} °C > 0.1): measuring again", file=sys.stderr))
                print(f"  {set_c:.1f} °C: " + ", ".join(f"{v:.2f}" for v in point.readings), file=sys.stderr)
        finally:
            sensor.close()
            if control:
                control.write_text("", encoding="ascii")
        save(args, cfg, log, procedure.record())


def settings(args: argparse.Namespace, cfg, log) -> dict:
    """A full calibration's settings: the signed-in operator, the reference, the configured tolerance and interval."""
    return dict(reference_id=args.reference_id, operator=operator(args, sign_in(args, cfg, log, "calibrate")),
                reference_uncertainty_c=args.reference_uncertainty,
                tolerance_c=args.tolerance or cfg.calibration_tolerance_c,
                interval_days=cfg.calibration_interval_days, body_site_offset_c=cfg.body_site_offset_c,
                max_correction_c=cfg.calibration_max_correction_c)


def save(args: argparse.Namespace, cfg, log, record) -> None:
    """Store the record, print it; a failed calibration or check exits 1."""
    calibrations.save(log, record, cfg.station_id)
    if args.json:
        print(json.dumps({"id": record.id, "sensor": record.sensor, "kind": record.kind,
                          "fit": {"gain": record.gain, "offset_c": record.offset_c},
                          "residuals": record.residuals, "result": record.result, "due": record.due,
                          "note": record.note}))
    elif record.kind == "daily-check":
        print(f"daily check {record.result.upper()}: {record.note} (tolerance ±{record.tolerance_c} °C)  [{record.id}]")
    else:
        print(f"{record.kind} {record.result.upper()}: gain {record.gain:.4f}, offset {record.offset_c:+.3f} °C, "
              f"residuals {', '.join(f'{r:+.2f}' for r in record.residuals)} °C  [{record.id}]")
    if record.result != "pass":
        raise CheckFailed(f"{record.kind} failed: {record.note or 'out of tolerance'}; the sensor is not used for "
                          "screening until a calibration passes")


COMMANDS = {"calibrate": add_calibrate}
