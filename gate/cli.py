"""The `gate` command line. Every failure ends in one clear line on stderr and a non-zero exit, never a traceback."""
from __future__ import annotations

import argparse
import getpass
import json
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

from drivers.base import MANUAL, Reading, SensorError
from drivers.manual import ManualEntryError, manual_reading, parse_temperature
from drivers.registry import OPTIONS, PROTOCOLS
from gate.config import EXAMPLE, Config, ConfigError, SensorConfig, load_config
from gate.domain import MaskResult, MaskState, Screening
from storage.log import LogError, ScreeningLog

EXIT_USAGE = 2
EXIT_FAILED = 1


class CliError(Exception):
    """A user-facing failure: printed as one line, exit code attached."""

    def __init__(self, message: str, code: int = EXIT_USAGE):
        super().__init__(message)
        self.code = code


# -- shared helpers ----------------------------------------------------------------------------------------------
def _config(args: argparse.Namespace) -> Config:
    path = getattr(args, "config", None)
    return load_config(path) if path else Config()


def _db_path(args: argparse.Namespace, cfg: Config) -> Path:
    from storage.db import default_db_path

    if getattr(args, "db", None):
        return Path(args.db)
    return Path(cfg.db) if cfg.db else default_db_path()


def _open_log(args: argparse.Namespace, cfg: Config) -> ScreeningLog:
    return ScreeningLog(_db_path(args, cfg))


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


def _print_screening(s: Screening, as_json: bool) -> None:
    if as_json:
        print(json.dumps(screening_json(s), ensure_ascii=False), flush=True)
    else:
        temp = "—" if s.temperature_c is None else f"{s.temperature_c:.1f} °C"
        print(f"{s.decision.value.upper():6} {temp:>8}  mask {s.mask.state.value:7}  {s.message}  [{s.id}]",
              flush=True)


def _sensor_config(args: argparse.Namespace, cfg: Config) -> SensorConfig:
    if getattr(args, "url", None) or getattr(args, "protocol", None):
        if not (args.url and args.protocol):
            raise CliError("--url and --protocol go together, e.g. --url /dev/ttyUSB0 --protocol gy-mcu90614")
        base = cfg.sensors[0] if cfg.sensors else None
        return SensorConfig(id=base.id if base else "sensor-1", protocol=args.protocol, url=args.url,
                            baud=getattr(args, "baud", None) or (base.baud if base else None),
                            mode=getattr(args, "mode", None),
                            trigger=getattr(args, "trigger", None) or "presence",
                            options=_protocol_options(args, args.protocol))
    if not cfg.sensors:
        raise CliError("no sensor: give --url URL --protocol P, or a --config file with a [[sensors]] table")
    return cfg.sensors[0]


def _add_protocol_options(sp: argparse.ArgumentParser) -> None:
    g = sp.add_argument_group("protocol options")
    g.add_argument("--slave", type=int, help="modbus-ir: slave address 1–255 (default 1)")
    g.add_argument("--register-map", help="modbus-ir: omega (default) or calex")
    g.add_argument("--address", type=int, help="optris-ct: RS-485 address 0–15 (default: none, RS-232)")
    g.add_argument("--pattern", help="text-line: melexis, arduino (default), simple, or a regex with (?P<object>...)")


def _protocol_options(args: argparse.Namespace, protocol: str) -> dict:
    given = {k: getattr(args, k) for k in ("slave", "register_map", "address", "pattern")
             if getattr(args, k, None) is not None}
    allowed = OPTIONS.get(protocol, {})
    for key, value in given.items():
        flag = "--" + key.replace("_", "-")
        if key not in allowed:
            raise CliError(f"{flag} does not apply to protocol {protocol}")
        _kind, what, ok = allowed[key]
        if not ok(value):
            raise CliError(f"{flag} {value!r}: allowed: {what}")
    return given


# -- commands ----------------------------------------------------------------------------------------------------
def cmd_screen(args: argparse.Namespace) -> int:
    from gate.station import Station

    cfg = _config(args)
    operator = args.operator or getpass.getuser()
    field = "--temp"
    try:
        if args.source == MANUAL:
            reading = manual_reading(args.temp, operator=operator, device_id=args.device_id, reason=args.reason)
        else:
            value, _ = parse_temperature(args.temp, allow_range=(-40.0, 125.0))
            reading = Reading(object_c=value, source=args.source)
            sc = cfg.sensor(args.source)
            if sc:
                reading = reading.with_body(sc.gain, sc.offset_c)
        if args.ambient is not None:
            field = "--ambient"
            ambient, _ = parse_temperature(args.ambient, allow_range=(-40.0, 85.0))
            reading = Reading(**{**reading.__dict__, "ambient_c": ambient})
    except ManualEntryError as exc:
        raise CliError(f"{field}: {exc}; nothing was stored") from None
    mask = MaskResult(MaskState(args.mask), source="cli", operator=operator)
    with _open_log(args, cfg) as log:
        s = Station(cfg, log).screen([reading], mask, entrant_id=args.entrant or None, operator=operator)
    _print_screening(s, args.json)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    cfg = _config(args)
    path = _db_path(args, cfg)
    if not path.exists():
        raise CliError(f"no log at {path}: give --db PATH")
    with ScreeningLog(path, read_only=True) as log:
        result = log.verify()
    if args.json:
        print(json.dumps(result.__dict__))
    elif result.ok:
        print(f"ok: {result.rows} screenings, chain head {result.head}")
    else:
        print(f"BROKEN: row {result.bad_seq} (screening {result.bad_id}): {result.detail}; "
              f"{result.rows - 1} rows before it verify", file=sys.stderr)
    return 0 if result.ok else EXIT_FAILED


def cmd_config_check(args: argparse.Namespace) -> int:
    cfg = load_config(args.file)
    print(f"ok: {args.file}: station {cfg.station_id}, threshold {cfg.threshold_c} °C, mask {cfg.mask_mode}, "
          f"{len(cfg.sensors)} sensor(s)")
    return 0


def cmd_config_example(_args: argparse.Namespace) -> int:
    print(EXAMPLE, end="")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from gate.station import Station

    cfg = _config(args)
    sc = _sensor_config(args, cfg)
    sensor = Station(cfg, None).sensor_for(sc)  # type: ignore[arg-type]
    try:
        sensor.open()  # fail fast with a clear message when the port is not there at start
    except SensorError as exc:
        raise CliError(str(exc)) from None
    mask_source = _camera(args.camera) if args.camera else None
    log = _open_log(args, cfg)
    if not args.headless:
        from gate.ui.app import build_app

        app = build_app(cfg, log, sensor_config=sc, sensor=sensor, mask_source=mask_source)
        app.run()
        log.close()
        return 0
    station = Station(cfg, log, mask_source=mask_source)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def on_failure(f) -> None:
        print(json.dumps({"error": "log-failure", "message": f.error, "object_c": f.reading.object_c}),
              file=sys.stderr, flush=True)

    def on_health(ev) -> None:
        print(json.dumps({"sensor": ev.sensor, "health": ev.health.value, "reason": ev.reason}),
              file=sys.stderr, flush=True)

    try:
        station.run(sc, stop, on_screening=lambda s: _print_screening(s, True), on_health=on_health,
                    on_log_failure=on_failure, count=args.count, sensor=sensor)
    except KeyboardInterrupt:
        pass
    finally:
        log.close()
    return 0


def _camera(spec: str):
    from gate.mask.camera import CameraError, CameraMask, open_source
    from gate.mask.detector import DetectorUnavailable

    try:
        return CameraMask(open_source(spec))
    except (CameraError, DetectorUnavailable) as exc:
        raise CliError(str(exc)) from None


def cmd_demo(args: argparse.Namespace) -> int:
    from gate.ui.app import build_app
    from sim.camera import SimulatedCamera, SimulatedMask, default_face_folder
    from sim.simulator import Simulator

    work = Path(tempfile.mkdtemp(prefix="gate-demo-"))
    sim = Simulator("gy-mcu90614", args.scenario, link=work / "ttyGY0", seed=args.seed).start()
    faces = default_face_folder()
    if faces is not None:
        from gate.mask.camera import CameraMask

        mask_source = CameraMask(SimulatedCamera(sim, faces))  # real photos through the real mask check
    else:
        mask_source = SimulatedMask(sim)  # no face photos here: the scene's truth, labelled "simulated"
    sc = SensorConfig(id="sim-gy-1", protocol="gy-mcu90614", url=sim.path)
    cfg = Config(station_id="demo-gate", gate_name="Demo gate", language=args.language, sensors=(sc,),
                 db=str(work / "gate.db"))
    log = ScreeningLog(work / "gate.db")
    try:
        app = build_app(cfg, log, sensor_config=sc, mask_source=mask_source)
        app.run()
    finally:
        log.close()
        sim.stop()
    print(f"demo log kept at {work / 'gate.db'} (gate verify --db {work / 'gate.db'})")
    return 0


def cmd_mask(args: argparse.Namespace) -> int:
    if args.images and args.images[0] == "train":
        return _mask_train(args)
    if not args.images:
        raise CliError("give one or more image files, e.g. gate mask photo.jpg, or: gate mask train --data DIR")
    import cv2

    from gate.mask.check import MaskCheck
    from gate.mask.detector import DetectorUnavailable

    try:
        check = MaskCheck()
    except DetectorUnavailable as exc:
        raise CliError(str(exc)) from None
    failures = 0
    for image in args.images:
        img = cv2.imread(image) if Path(image).is_file() else None
        if img is None:
            failures += 1
            why = "no such file" if not Path(image).exists() else "not an image OpenCV can read (JPEG, PNG, BMP ...)"
            if args.json:
                print(json.dumps({"image": image, "error": why}, ensure_ascii=False), flush=True)
            print(f"gate: {image}: {why}; skipped", file=sys.stderr)
            continue
        r = check.check(img)
        if args.json:
            print(json.dumps({"image": image, **r.to_dict()}, ensure_ascii=False), flush=True)
        else:
            score = "—" if r.score is None else f"{r.score:.2f}"
            print(f"{image}: face {'yes' if r.face else 'no'}, mask {r.mask} (p(mask) {score}, {r.ms:.1f} ms)")
    return 0 if failures == 0 else EXIT_FAILED


def _mask_train(args: argparse.Namespace) -> int:
    from gate.mask.classifier import WEIGHTS
    from gate.mask.dataset import DatasetError
    from gate.mask.train import train

    if not args.data:
        raise CliError("gate mask train needs --data DIR (with_mask/ and without_mask/, or labels.csv)")
    try:
        report = train(args.data, Path(args.out) if args.out else WEIGHTS,
                       progress=lambda m: print(m, file=sys.stderr, flush=True))
    except DatasetError as exc:
        raise CliError(str(exc)) from None
    print(json.dumps(report, ensure_ascii=False))
    return 0


def cmd_sim(args: argparse.Namespace) -> int:
    from sim.simulator import Simulator

    options = _protocol_options(args, args.protocol) if args.protocol in PROTOCOLS else {}
    try:
        sim = Simulator(args.protocol, args.scenario, link=args.link, seed=args.seed, options=options,
                        pace=args.pace)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    sim.start()
    print(f"{args.protocol} ({args.scenario}) on {sim.port.path}" + (f", link {args.link}" if args.link else ""),
          flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5) and (args.seconds is None or sim.now() < args.seconds):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0


def cmd_read(args: argparse.Namespace) -> int:
    from drivers.sensor import Sensor

    try:
        sensor = Sensor(args.sensor_id, args.protocol, args.url, args.baud, mode=args.mode,
                        options=_protocol_options(args, args.protocol))
        sensor.open()
    except (SensorError, ValueError) as exc:
        raise CliError(str(exc)) from None
    n = 0
    try:
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
    except KeyboardInterrupt:
        pass
    finally:
        sensor.close()
    return 0


def cmd_ports(args: argparse.Namespace) -> int:
    from serial.tools import list_ports

    ports = list(list_ports.comports(include_links=True))
    by_id = Path("/dev/serial/by-id")
    links = {p.resolve(): str(p) for p in by_id.iterdir()} if by_id.is_dir() else {}
    rows = [{"device": p.device, "vendor": p.manufacturer, "product": p.product, "vid": p.vid, "pid": p.pid,
             "serial": p.serial_number, "by_id": links.get(Path(p.device).resolve())} for p in ports]
    if args.json:
        for r in rows:
            print(json.dumps(r, ensure_ascii=False))
    elif not rows:
        print("no serial ports found: plug the thermometer in, or use `gate sim` for a simulated one")
    else:
        for r in rows:
            print(f"{r['device']:<16} {r['vendor'] or '-':<20} {r['product'] or '-':<28} {r['by_id'] or ''}")
    return 0


# -- parser ------------------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    from sim.scenarios import SCENARIOS

    p = argparse.ArgumentParser(prog="gate", description="Temperature screening station for a school gate.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def with_db(sp: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sp.add_argument("--config", metavar="FILE", help="station config (TOML); see `gate config example`")
        sp.add_argument("--db", metavar="PATH", help="the log file (default: from the config, else per-user data)")
        return sp

    sp = with_db(sub.add_parser("screen", help="record one screening through the policy and log, print the decision"))
    sp.add_argument("--temp", required=True, help="the body temperature read, e.g. 36.6 (36,6 and 36.6C accepted)")
    sp.add_argument("--ambient", help="ambient temperature °C, if known")
    sp.add_argument("--mask", choices=[m.value for m in MaskState], default="unknown",
                    help="mask seen (default unknown: in must-wear mode staff must confirm)")
    sp.add_argument("--entrant", help="entrant id (roster id or barcode); anonymous if absent")
    sp.add_argument("--operator", help="who is recording (default: the login name)")
    sp.add_argument("--source", default=MANUAL, help="manual (default) or the sensor id that read it")
    sp.add_argument("--device-id", default="handheld", help="manual readings: the thermometer used")
    sp.add_argument("--reason", default="other", choices=("sensor-fault", "cold", "retest", "other"),
                    help="manual readings: why measured by hand")
    sp.add_argument("--json", action="store_true", help="print JSON")
    sp.set_defaults(func=cmd_screen)

    sp = with_db(sub.add_parser("run", help="run the station (terminal UI, or --headless JSON lines)"))
    sp.add_argument("--url", help="sensor port URL, overrides the config (e.g. /dev/ttyUSB0, socket://h:p)")
    sp.add_argument("--protocol", choices=PROTOCOLS, help="sensor protocol, overrides the config")
    sp.add_argument("--baud", type=int, help="baud rate (default: the protocol's)")
    sp.add_argument("--mode", choices=("continuous", "query"), help="sensor mode")
    sp.add_argument("--trigger", choices=("presence", "each-reading"),
                    help="presence (a fixed sensor, default) or each-reading (a handheld gun)")
    _add_protocol_options(sp)
    sp.add_argument("--camera", help="mask camera: device index (0), stream URL, video file or image folder")
    sp.add_argument("--headless", action="store_true", help="no UI: one JSON line per decision, after its commit")
    sp.add_argument("--count", type=_positive_int, help="with --headless: stop after N decisions")
    sp.set_defaults(func=cmd_run)

    sp = with_db(sub.add_parser("verify", help="recompute the log's hash chain; non-zero exit names the first bad row"))
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_verify)

    sp = sub.add_parser("config", help="check a config file or print an example")
    csub = sp.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    cc = csub.add_parser("check", help="validate FILE; problems name the key and the allowed values")
    cc.add_argument("file", metavar="FILE")
    cc.set_defaults(func=cmd_config_check)
    ce = csub.add_parser("example", help="print an example config")
    ce.set_defaults(func=cmd_config_example)

    sp = sub.add_parser("demo", help="the station on a simulated sensor, no hardware; data in a temporary folder")
    sp.add_argument("--scenario", default="fevers", choices=sorted(SCENARIOS))
    sp.add_argument("--language", default="zh-CN", choices=("zh-CN", "en"))
    sp.add_argument("--seed", type=int)
    sp.set_defaults(func=cmd_demo)

    sp = sub.add_parser("mask", help="check images for a masked face; `gate mask train --data DIR` trains the model")
    sp.add_argument("images", nargs="*", metavar="IMAGE", help="image files (or the word train)")
    sp.add_argument("--json", action="store_true", help="one JSON line per image: image, face, mask, score, ms")
    sp.add_argument("--data", help="train: a folder with with_mask/ and without_mask/, or a labels.csv")
    sp.add_argument("--out", help="train: where to write the weights (default: the package's weights.npz)")
    sp.set_defaults(func=cmd_mask)

    sp = sub.add_parser("sim", help="simulate a thermometer on a pseudo-terminal")
    sp.add_argument("--protocol", required=True, help=f"one of: {', '.join(PROTOCOLS)}")
    sp.add_argument("--scenario", default="normal-morning", help=f"one of: {', '.join(SCENARIOS)}")
    sp.add_argument("--link", help="keep a stable symlink to the device here (survives simulated unplugs)")
    sp.add_argument("--seed", type=int)
    sp.add_argument("--seconds", type=float, help="stop after this long (default: until Ctrl-C)")
    sp.add_argument("--pace", type=float, default=1.0, help="people arrive this many times faster (default 1)")
    _add_protocol_options(sp)
    sp.set_defaults(func=cmd_sim)

    sp = sub.add_parser("read", help="print readings from a sensor as they arrive")
    sp.add_argument("--url", required=True)
    sp.add_argument("--protocol", required=True, choices=PROTOCOLS)
    sp.add_argument("--baud", type=int)
    sp.add_argument("--mode", choices=("continuous", "query"), help="default: the protocol's usual mode")
    sp.add_argument("--sensor-id", default="sensor-1")
    _add_protocol_options(sp)
    sp.add_argument("--count", type=_positive_int)
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_read)

    sp = sub.add_parser("ports", help="list serial ports with vendor, product and by-id path")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_ports)
    return p


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return n


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CliError as exc:
        print(f"gate: {exc}", file=sys.stderr)
        return exc.code
    except ConfigError as exc:
        print(f"gate: config {exc.source} has {len(exc.problems)} problem(s):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return EXIT_USAGE
    except LogError as exc:
        print(f"gate: log failure: {exc}", file=sys.stderr)
        return 3
    except SensorError as exc:
        print(f"gate: sensor: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
