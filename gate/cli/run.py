"""`gate run` (the station on a real sensor, with the duty screen or headless) and `gate demo` (on a simulated one)."""
from __future__ import annotations

import argparse
import getpass
import json
import sys
import tempfile
from pathlib import Path

from gate.cli.common import (describe, load_config, open_log, operator, positive_int, sign_in, signin_options,
                             station_options)
from gate.cli.scanned import LinePins, ScannedIds
from gate.cli.screen import print_screening
from gate.cli.sensors import port_options, protocol_options, sensor_config, stop_on_sigterm, until_interrupted
from gate.config import Config, SensorConfig
from gate.station import Station

RUN_EXAMPLES = """
gate run --config /etc/gate/station.toml
gate run --url /dev/ttyUSB0 --protocol gy-mcu90614 --camera 0
gate run --url /tmp/gy --protocol gy-mcu90614 --headless --count 10 --db /tmp/gate.db
"""
DEMO_EXAMPLES = """
gate demo
gate demo --scenario cold-morning --language en --seed 7
"""


def add_run(p: argparse.ArgumentParser) -> None:
    describe(p, "Run the station: the duty screen (or, with --headless, one JSON line per decision after its "
                "commit).", RUN_EXAMPLES, run)
    station_options(p)
    port_options(p)
    p.add_argument("--mode", choices=("continuous", "query"), help="sensor mode")
    p.add_argument("--trigger", choices=("presence", "each-reading"),
                   help="presence (a fixed sensor, default) or each-reading (a handheld gun)")
    protocol_options(p)
    p.add_argument("--camera", help="mask camera: device index (0), stream URL, video file or image folder")
    p.add_argument("--headless", action="store_true", help="no UI: one JSON line per decision, after its commit")
    p.add_argument("--count", type=positive_int, help="with --headless: stop after N decisions")
    p.add_argument("--entrants-stdin", action="store_true",
                   help="with --headless: entrant ids from standard input, one per line (a barcode scanner types the "
                        "id and Enter); each goes with the next screening, in order")
    signin_options(p, "an admin, to apply a config whose screening policy differs from the stored one")


def run(args: argparse.Namespace) -> None:
    cfg = load_config(args)
    sc = sensor_config(args, cfg)
    sensor = Station(cfg, None).sensor_for(sc)  # type: ignore[arg-type]
    sensor.open()  # fail fast with a clear message when the port is not there at start
    mask_source = camera(args.camera) if args.camera else None
    log = open_log(args, cfg)
    ids = ScannedIds(sys.stdin) if args.headless and args.entrants_stdin else None
    if args.user:  # an admin starts the station with a new policy: applied and audited, or refused
        from gate.station_policy import enforce

        pins = LinePins(ids) if ids is not None and args.pin_stdin else None
        enforce(cfg, log, actor=operator(args, sign_in(args, cfg, log, "policy", pins)), apply=True)
    if args.config:
        from storage import audit  # the audit trail: only when a config file is in force

        audit.record_config(log, cfg.station_id, str(Path(args.config).resolve()), Path(args.config).read_bytes(),
                            getpass.getuser())
    if not args.headless:
        from gate.ui.app import build_app  # Textual: only for the duty screen, never for --headless

        try:
            build_app(cfg, log, sensor_config=sc, sensor=sensor, mask_source=mask_source, clock=args.clock).run()
        finally:
            log.close()
        return
    station = Station(cfg, log, mask_source=mask_source, clock=args.clock)
    if station.policy_refusal is not None:  # headless: refuse at start rather than fail every reading
        log.close()
        raise station.policy_refusal
    stop = stop_on_sigterm()

    def on_failure(f) -> None:
        print(json.dumps({"error": "log-failure", "message": f.error, "object_c": f.reading.object_c}),
              file=sys.stderr, flush=True)

    def on_health(ev) -> None:
        print(json.dumps({"sensor": ev.sensor, "health": ev.health.value, "reason": ev.reason}),
              file=sys.stderr, flush=True)

    with until_interrupted(log.close):
        station.run(sc, stop, on_screening=lambda s: print_screening(s, True), on_health=on_health,
                    on_log_failure=on_failure, count=args.count, sensor=sensor, entrant=ids)


def camera(spec: str):
    from gate.mask.camera import CameraMask, open_source  # OpenCV: only when a camera is asked for

    return CameraMask(open_source(spec))


def add_demo(p: argparse.ArgumentParser) -> None:
    from sim.scenarios import SCENARIOS  # the simulator's scenarios, for the choices

    describe(p, "The duty screen on a simulated GY-MCU90614, no hardware; data in a temporary folder.",
             DEMO_EXAMPLES, demo)
    p.add_argument("--scenario", default="fevers", choices=sorted(SCENARIOS))
    p.add_argument("--language", default="zh-CN", choices=("zh-CN", "en"))
    p.add_argument("--seed", type=int)


def demo(args: argparse.Namespace) -> None:
    # The simulator, the camera and Textual: the demo needs them all, `gate run --headless` none of them.
    from gate.mask.camera import CameraMask
    from gate.ui.app import build_app
    from sim.camera import SimulatedCamera, SimulatedMask, default_face_folder
    from sim.simulator import Simulator
    from storage.log import ScreeningLog

    work = Path(tempfile.mkdtemp(prefix="gate-demo-"))
    sim = Simulator("gy-mcu90614", args.scenario, link=work / "ttyGY0", seed=args.seed).start()
    faces = default_face_folder()
    if faces is not None:
        mask_source = CameraMask(SimulatedCamera(sim, faces))  # real photos through the real mask check
    else:
        mask_source = SimulatedMask(sim)  # no face photos here: the scene's truth, labelled "simulated"
    sc = SensorConfig(id="sim-gy-1", protocol="gy-mcu90614", url=sim.path)
    cfg = Config(station_id="demo-gate", gate_name="Demo gate", language=args.language, sensors=(sc,),
                 db=str(work / "gate.db"))
    log = ScreeningLog(work / "gate.db")
    try:
        build_app(cfg, log, sensor_config=sc, mask_source=mask_source).run()
    finally:
        log.close()
        sim.stop()
    print(f"demo log kept at {work / 'gate.db'} (gate verify --db {work / 'gate.db'})")


COMMANDS = {"run": add_run, "demo": add_demo}
