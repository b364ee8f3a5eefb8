"""`gate screen`: one screening through the same policy and log as the station, then the decision."""
from __future__ import annotations

import argparse
import json

import msgspec

from domain import MANUAL, ManualReason, MaskResult, MaskState, Screening
from domain.errors import UsageError
from domain.temperature import shown_c
from drivers.manual import ManualEntryError, manual_reading, parse_temperature
from gate.cli.common import (describe, ident, json_option, load_config, open_log, operator, person, sign_in,
                             signin_options, station_options)
from gate.station import Station

EXAMPLES = """
gate screen --temp 36.6 --mask yes --entrant S1024
gate screen --temp 36.6 --mask yes --entrant S1024 --user zhang --pin-stdin < pin.txt
gate screen --temp 37,8 --mask unknown --operator li --json
gate screen --temp 36.9 --ambient 21 --source gun-1 --db /var/lib/gate/gate.db
"""


def add_screen(p: argparse.ArgumentParser) -> None:
    describe(p, "Record one screening through the policy and the log, then print the decision.", EXAMPLES, screen)
    station_options(p)
    p.add_argument("--temp", required=True, help="the body temperature read, e.g. 36.6 (36,6 and 36.6C accepted)")
    p.add_argument("--ambient", help="ambient temperature °C, if known")
    p.add_argument("--mask", choices=[m.value for m in MaskState], default="unknown",
                   help="mask seen (default unknown: in must-wear mode staff must confirm)")
    p.add_argument("--entrant", type=ident("entrant id"),
                   help="entrant id (roster id or barcode); anonymous if absent (an empty one is refused: a scan "
                        "that read nothing is not an anonymous admit)")
    p.add_argument("--operator", type=person,
                   help="who is recording, while the station has no users (default: the login name); with PINs on "
                        "it is the signed-in --user, and another name is refused")
    signin_options(p, "the duty officer")
    p.add_argument("--source", default=MANUAL, type=ident("sensor id"),
                   help="manual (default) or the sensor id that read it")
    p.add_argument("--device-id", default="handheld", type=ident("thermometer id"),
                   help="manual readings: the thermometer used")
    p.add_argument("--reason", default=ManualReason.OTHER.value, choices=[r.value for r in ManualReason],
                   help="manual readings: why measured by hand")
    json_option(p)


def screen(args: argparse.Namespace) -> None:
    cfg = load_config(args)
    field, ambient = "--temp", None
    try:  # the typed values first: a mistake is a usage error before anyone is asked for a PIN
        if args.source == MANUAL:
            manual_reading(args.temp, operator="-", device_id=args.device_id, reason=args.reason)
        else:
            value, _ = parse_temperature(args.temp, allow_range=(-40.0, 125.0))
        if args.ambient is not None:
            field = "--ambient"
            ambient, _ = parse_temperature(args.ambient, allow_range=(-40.0, 85.0))
    except ManualEntryError as exc:
        raise UsageError(f"{field}: {exc}; nothing was stored") from None
    if args.source != MANUAL and cfg.sensor(args.source) is None:
        known = ", ".join(sc.id for sc in cfg.sensors) or "none: give --config with [[sensors]]"
        raise UsageError(f"--source {args.source!r} is not a sensor of this station (sensors: {known}); "
                         "a reading measured by hand is --source manual; nothing was stored")
    with open_log(args, cfg) as log:
        who = operator(args, sign_in(args, cfg, log, "screen"))  # with PINs on: the signed-in duty officer
        mask = MaskResult(MaskState(args.mask), source="cli", operator=who)
        station = Station(cfg, log, clock=args.clock)  # gate.cli.main's clock: the tests set the day
        if args.source == MANUAL:
            try:
                reading = manual_reading(args.temp, operator=who, device_id=args.device_id, reason=args.reason)
            except ManualEntryError as exc:
                raise UsageError(f"--operator: {exc}; nothing was stored") from None
            reading = msgspec.structs.replace(reading, ambient_c=ambient)
            s = station.screen([reading], mask, entrant_id=args.entrant or None, operator=who)
        else:  # calibrated, locked out and audited exactly like the live station's reading
            s = station.sensor_entry(args.source, value, ambient, mask=mask, entrant_id=args.entrant or None,
                                     operator=who)
    print_screening(s, args.json)


def screening_json(s: Screening) -> dict:
    r = s.reading
    return {
        "id": s.id,
        "decision": s.decision.value,
        "reasons": list(s.reasons),
        "message": s.message,
        "temperature_c": s.temperature_c,
        "object_c": r.object_c if r else None,
        "ambient_c": r.ambient_c if r else None,
        "source": r.source if r else None,
        "mask": s.mask.state.value,
        "entrant_id": s.entrant_id,
        "operator": s.operator,
        "follows": s.follows,
        "station_id": s.station_id,
        "created_at": s.created_at,
    }


def print_screening(s: Screening, as_json: bool) -> None:
    if as_json:
        print(json.dumps(screening_json(s), ensure_ascii=False), flush=True)
    else:
        temp = shown_c(s.temperature_c, s.threshold_c)
        print(f"{s.decision.value.upper():6} {temp:>8}  mask {s.mask.state.value:7}  {s.message}  [{s.id}]",
              flush=True)


COMMANDS = {"screen": add_screen}
