"""The `gate` command line. Every failure ends in one clear line on stderr and a non-zero exit, never a traceback."""
from __future__ import annotations

import argparse
import csv
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
from domain import MaskResult, MaskState, Screening
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
    ambient = None
    try:
        if args.source == MANUAL:
            reading = manual_reading(args.temp, operator=operator, device_id=args.device_id, reason=args.reason)
        else:
            value, _ = parse_temperature(args.temp, allow_range=(-40.0, 125.0))
        if args.ambient is not None:
            field = "--ambient"
            ambient, _ = parse_temperature(args.ambient, allow_range=(-40.0, 85.0))
            if args.source == MANUAL:
                reading = Reading(**{**reading.__dict__, "ambient_c": ambient})
    except ManualEntryError as exc:
        raise CliError(f"{field}: {exc}; nothing was stored") from None
    mask = MaskResult(MaskState(args.mask), source="cli", operator=operator)
    if args.source != MANUAL and cfg.sensor(args.source) is None:
        known = ", ".join(sc.id for sc in cfg.sensors) or "none: give --config with [[sensors]]"
        raise CliError(f"--source {args.source!r} is not a sensor of this station (sensors: {known}); "
                       "a reading measured by hand is --source manual; nothing was stored")
    with _open_log(args, cfg) as log:
        station = Station(cfg, log)
        if args.source == MANUAL:
            s = station.screen([reading], mask, entrant_id=args.entrant or None, operator=operator)
        else:  # calibrated, locked out and audited exactly like the live station's reading
            s = station.sensor_entry(args.source, value, ambient, mask=mask, entrant_id=args.entrant or None,
                                     operator=operator)
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
    if getattr(args, "config", None):
        from storage import audit

        audit.record_config(log, cfg.station_id, str(Path(args.config).resolve()), Path(args.config).read_bytes(),
                            getpass.getuser())
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
        from dataclasses import replace as _replace

        from sim.scenarios import SCENARIOS

        scenario = SCENARIOS.get(args.scenario)
        if scenario is None:
            raise CliError(f"unknown scenario {args.scenario!r}; choose one of {', '.join(SCENARIOS)}")
        errors = {k: v for k, v in (("gain", args.gain), ("offset_c", args.offset), ("noise_c", args.noise),
                                    ("drift_c_per_hour", args.drift)) if v is not None}
        sim = Simulator(args.protocol, _replace(scenario, **errors), link=args.link, seed=args.seed,
                        options=options, pace=args.pace)
        sim.scene.blackbody_control = args.blackbody_control
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


# -- sync, export, reports, roster, retention -------------------------------------------------------------------
def _actor(args: argparse.Namespace) -> str:
    return getattr(args, "user", None) or getpass.getuser()


class _Pins:
    """PINs from standard input (--pin-stdin, one per line, in the order asked) or from the terminal."""

    def __init__(self, from_stdin: bool):
        self.from_stdin = from_stdin

    def ask(self, prompt: str, confirm: bool = False) -> str:
        if self.from_stdin:
            line = sys.stdin.readline()
            if not line:
                raise CliError("--pin-stdin: standard input ended before all PINs were given")
            return line.strip()
        if not sys.stdin.isatty():
            raise CliError("no terminal to ask the PIN on: use --pin-stdin")
        pin = getpass.getpass(prompt)
        if confirm and getpass.getpass("again: ") != pin:
            raise CliError("the two PINs differ; nothing was changed")
        return pin


def _sign_in(args: argparse.Namespace, cfg: Config, log, action: str, pins: "_Pins | None" = None):
    """The signed-in user for a sensitive command, or None while the station has no users (then anyone may)."""
    from gate.auth import Auth, AuthError

    auth = Auth(log, cfg.station_id, cfg.security)
    if not auth.has_users():
        if action in ("export-identified", "purge"):
            raise CliError(f"{action} needs an auditor, and this station has no users yet: "
                           "create an admin first (gate users add NAME --role admin)")
        return None
    if not getattr(args, "user", None):
        raise CliError(f"{action} needs a signed-in user: give --user NAME (the PIN is asked, or --pin-stdin)")
    pin = (pins or _Pins(args.pin_stdin)).ask(f"PIN for {args.user}: ")
    try:
        return auth.check(args.user, pin, action)
    except AuthError as exc:
        raise CliError(f"refused: {exc}", EXIT_FAILED) from None


def cmd_users(args: argparse.Namespace) -> int:
    from gate.auth import Auth, AuthError

    cfg = _config(args)
    pins = _Pins(args.pin_stdin)
    with _open_log(args, cfg) as log:
        auth = Auth(log, cfg.station_id, cfg.security)
        if args.action == "list":
            for u in auth.users():
                locked = u["locked_until"] and u["locked_until"] > time.time()
                state = "disabled" if u["disabled"] else (
                    f"locked until {time.strftime('%H:%M', time.localtime(u['locked_until']))}" if locked else "active")
                print(json.dumps({**u, "state": state}) if args.json else f"{u['name']:<20} {u['role']:<12} {state}")
            return 0
        if not args.name:
            raise CliError(f"usage: gate users {args.action} NAME")
        actor = None
        if auth.has_users():
            actor = _sign_in(args, cfg, log, "manage-users", pins)
        try:
            if args.action == "add":
                if not args.role:
                    raise CliError("gate users add NAME --role duty|maintenance|auditor|admin")
                auth.add_user(args.name, args.role, pins.ask(f"new PIN for {args.name}: ", confirm=True), actor)
                print(f"user {args.name} ({args.role}) added")
            elif args.action == "reset-pin":
                auth.reset_pin(args.name, pins.ask(f"new PIN for {args.name}: ", confirm=True), actor)
                print(f"PIN of {args.name} reset; failures and lock cleared")
            elif args.action == "disable":
                auth.disable(args.name, actor)
                print(f"user {args.name} disabled")
        except AuthError as exc:
            raise CliError(f"refused: {exc}", EXIT_FAILED) from None
    return 0


def _upstream(args: argparse.Namespace, cfg: Config) -> str:
    url = getattr(args, "upstream", None) or cfg.upstream_url
    if not url:
        raise CliError("no upstream: give --upstream URL (e.g. postgresql://gate@district-db/screening) "
                       "or set [upstream] url in the config")
    return url


def cmd_sync(args: argparse.Namespace) -> int:
    from storage.sync import Sync, SyncError

    cfg = _config(args)
    action = args.action or "run"
    if action not in ("run", "status", "verify"):
        raise CliError(f"unknown sync action {action!r}: use gate sync [--once|--watch], gate sync status or "
                       "gate sync verify")
    with _open_log(args, cfg) as log:
        sync = Sync(log, _upstream(args, cfg) if action != "status" or args.upstream or cfg.upstream_url
                    else "(no upstream configured)")
        try:
            if action == "status":
                print(json.dumps(sync.status(), ensure_ascii=False) if args.json else
                      "\n".join(f"{k}: {v}" for k, v in sync.status().items()))
                return 0
            if action == "verify":
                report = sync.verify()
                print(json.dumps(report, ensure_ascii=False, indent=None if args.json else 2))
                return 0 if report["ok"] else EXIT_FAILED
            if args.watch:
                stop = threading.Event()
                signal.signal(signal.SIGTERM, lambda *_: stop.set())
                try:
                    sync.watch(stop, interval_s=args.interval,
                               on_result=lambda r: r.sent and print(f"sent {r.sent}, quarantined {r.quarantined}, "
                                                                    f"pending {r.pending}", flush=True),
                               on_error=lambda m: print(f"gate: sync: {m}; retrying", file=sys.stderr, flush=True))
                except KeyboardInterrupt:
                    pass
                return 0
            result = sync.once()
        except SyncError as exc:
            sync.note_error(str(exc))
            raise CliError(f"sync: {exc}", EXIT_FAILED) from None
        finally:
            sync.close()
    print(json.dumps(result.__dict__) if args.json else
          f"sent {result.sent}, quarantined {result.quarantined}, pending {result.pending}")
    if result.quarantined:
        # Refused records stay in the log (never purged) until someone fixes the cause: not a success.
        print(f"gate: sync: {result.quarantined} record(s) quarantined, kept here and never purged; first: "
              f"{result.errors[0]}; see gate sync status", file=sys.stderr)
        return EXIT_FAILED
    return 0


def _progress_bar(done: int, total: int) -> None:
    if total <= 0 or not sys.stderr.isatty() and done < total:
        return
    width = 30
    filled = int(width * done / total)
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {100 * done // total:3d}% {done}/{total} rows",
          end="" if done < total else "\n", file=sys.stderr, flush=True)


def cmd_export(args: argparse.Namespace) -> int:
    from storage.export import ExportError, export, verify_export

    if args.args and args.args[0] == "verify":
        if len(args.args) != 2:
            raise CliError("usage: gate export verify DIR")
        problems = verify_export(args.args[1])
        for p in problems:
            print(f"CHANGED: {p}", file=sys.stderr)
        if not problems:
            print(f"ok: {args.args[1]} matches its manifest")
        return 0 if not problems else EXIT_FAILED
    if args.args:
        raise CliError(f"unexpected {' '.join(args.args)!r}: use gate export --from D --to D --format F --out DIR, "
                       "or gate export verify DIR")
    for flag in ("date_from", "date_to", "out"):
        if not getattr(args, flag):
            raise CliError("gate export needs --from DATE --to DATE --out DIR (and --format csv|xlsx|jsonl)")
    cfg = _config(args)
    with _open_log(args, cfg) as log:
        user = _sign_in(args, cfg, log, "export-identified" if args.identified else "export")
        try:
            manifest = export(log, date_from=args.date_from, date_to=args.date_to, fmt=args.format, out_dir=args.out,
                              identified=args.identified, actor=user.name if user else getpass.getuser(),
                              station_id=cfg.station_id,
                              language=cfg.language, progress=_progress_bar)
        except ExportError as exc:
            raise CliError(str(exc)) from None
    print(f"exported {manifest['rows']} rows to {args.out} ({'identified' if args.identified else 'pseudonymised'})")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from storage import reports
    from storage.log import local_day
    from storage.roster import unscreened

    cfg = _config(args)
    day = args.date or local_day(time.time())
    try:
        time.strptime(day, "%Y-%m-%d")
    except ValueError:
        raise CliError(f"--date {day!r} is not a date: use YYYY-MM-DD") from None
    with _open_log(args, cfg) as log:
        if args.kind == "unscreened":
            people = unscreened(log, day)
            if args.json:
                for e in people:
                    print(json.dumps({"id": e.roster_id, "name": e.name, "class": e.group, "kind": e.kind.value},
                                     ensure_ascii=False))
            else:
                print(f"{day}: {len(people)} on the roster without a screening")
                for e in people:
                    print(f"  {e.roster_id}  {e.group}  {e.name}")
            return 0
        report = reports.daily(log, day, cfg.station_id)
        reports.store(log, report)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    elif args.csv:
        w = csv.writer(sys.stdout)
        w.writerow(["field", "value"])
        for k, v in report.items():
            w.writerow([k, json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v])
    else:
        for k, v in report.items():
            print(f"{k}: {v}")
    return 0


def cmd_roster(args: argparse.Namespace) -> int:
    from storage.roster import RosterError, Visitor, add_visitor, import_roster, roster

    cfg = _config(args)
    with _open_log(args, cfg) as log:
        if args.action == "import":
            if not args.rest:
                raise CliError("usage: gate roster import FILE.csv")
            path = Path(args.rest[0])
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None
            try:
                summary = import_roster(log, data, station_id=cfg.station_id, actor=_actor(args), merge=args.add)
            except RosterError as exc:
                print(f"gate: {path} was not imported ({len(exc.problems)} problem(s)); nothing was changed:",
                      file=sys.stderr)
                for p in exc.problems[:50]:
                    print(f"  - {p}", file=sys.stderr)
                return EXIT_USAGE
            print(f"{path}: {summary.line()}")
        elif args.action == "list":
            for e in roster(log):
                print(json.dumps({"id": e.roster_id, "name": e.name, "class": e.group, "kind": e.kind.value},
                                 ensure_ascii=False) if args.json else f"{e.roster_id}\t{e.group}\t{e.kind.value}\t{e.name}")
        elif args.action == "visitor":
            if len(args.rest) != 2 or args.rest[0] != "add":
                raise CliError("usage: gate roster visitor add ID --name N --phone P --reason R --host H [--date D]")
            try:
                add_visitor(log, Visitor(args.rest[1], args.name or "", args.phone or "", args.reason or "",
                                         args.host or "", args.date), station_id=cfg.station_id, actor=_actor(args))
            except RosterError as exc:
                raise CliError(str(exc)) from None
            print(f"visitor {args.rest[1]} approved" + (f" for {args.date}" if args.date else ""))
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    from storage import audit
    from storage.export import ExportError, purge_audit_older_than, purge_older_than
    from storage.retention import UpstreamCheck, describe
    from storage.sync import Sync, SyncError

    cfg = _config(args)
    days = args.older_than or cfg.retention_days
    with _open_log(args, cfg) as log:
        user = _sign_in(args, cfg, log, "purge")
        # Only what the configured upstream confirmed is deleted; no upstream configured: age alone decides.
        sync = Sync(log, cfg.upstream_url) if cfg.upstream_url else None
        check = UpstreamCheck(sync) if sync else None
        try:
            result = purge_older_than(log, days, station_id=cfg.station_id, actor=user.name, upstream=check)
            audit_result = purge_audit_older_than(log, cfg.audit_retention_days, station_id=cfg.station_id,
                                                  actor=user.name, upstream=check)
        except ExportError as exc:
            raise CliError(str(exc)) from None
        except SyncError as exc:
            raise CliError(f"purge: {exc}; nothing more was purged", EXIT_FAILED) from None
        finally:
            if sync:
                sync.close()
        ok = log.verify().ok and audit.verify(log).ok
    from storage.retention import Plan

    shown = check.shown_url if check else None
    print(f"purged {audit_result['rows']} audit events older than {cfg.audit_retention_days} days")
    for line in describe(Plan(kept=audit_result["kept"]), "audit events", shown):
        print(line)
    print(f"purged {result['rows']} screenings older than {days} days; chain {'verifies' if ok else 'BROKEN'}")
    for line in describe(Plan(kept=result["kept"]), "screenings", shown):
        print(line)
    if not check:
        print("no upstream configured ([upstream] url): purged by age only")
    return 0 if ok else EXIT_FAILED


def cmd_calibrate(args: argparse.Namespace) -> int:
    from gate.calibration import CalibrationError, calibrate, collect_point, daily_check, parse_point
    from storage import calibrations

    cfg = _config(args)
    with _open_log(args, cfg) as log:
        if args.action == "list":
            for r in calibrations.records(log, args.sensor):
                due = time.strftime("%Y-%m-%d", time.localtime(r.due)) if r.due else "—"
                print(json.dumps({"id": r.id, "sensor": r.sensor, "kind": r.kind, "result": r.result,
                                  "at": r.at, "due": r.due, "operator": r.operator}) if args.json else
                      f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(r.at))}  {r.sensor:<28} {r.kind:<11} "
                      f"{r.result:<4}  due {due}  {r.operator}  {r.id}")
            return 0
        if args.action == "show":
            r = calibrations.get(log, args.id or "")
            if r is None:
                raise CliError(f"no calibration record {args.id!r} (gate calibrate list)")
            print(r.to_json() if args.json else json.dumps(json.loads(r.to_json()), ensure_ascii=False, indent=2))
            return 0
        user = _sign_in(args, cfg, log, "calibrate")
        operator = user.name if user else (args.operator or getpass.getuser())
        common = dict(reference_id=args.reference_id or "", operator=operator)
        try:
            if args.action == "run":
                from drivers.sensor import Sensor

                if not (args.url and args.protocol and args.points):
                    raise CliError("gate calibrate run needs --url, --protocol and --points 35,37,40")
                sensor_id = args.sensor_id or "sensor-1"
                try:
                    sensor = Sensor(sensor_id, args.protocol, args.url, args.baud)
                    sensor.open()
                except (SensorError, ValueError) as exc:
                    raise CliError(str(exc)) from None
                points = []
                try:
                    set_points = [float(v) for v in args.points.split(",")]
                except ValueError:
                    raise CliError("--points: numbers separated by commas, e.g. 35,37,40") from None
                for n, set_c in enumerate(set_points, 1):
                    if args.blackbody_control:
                        Path(args.blackbody_control).write_text(f"{set_c}\n", encoding="ascii")
                        time.sleep(0.5)
                    else:
                        input(f"[{n}/{len(set_points)}] set the blackbody to {set_c:.1f} °C, wait until it is "
                              "stable, press Enter ")
                    points.append(collect_point(set_c, sensor.next_value, args.samples,
                                                wait=lambda: time.sleep(1.0)))
                    print(f"  {set_c:.1f} °C: " + ", ".join(f"{v:.2f}" for v in points[-1].readings),
                          file=sys.stderr)
                sensor.close()
                if args.blackbody_control:
                    Path(args.blackbody_control).write_text("", encoding="ascii")
                record = calibrate(f"{args.protocol}:{sensor_id}", points,
                                   reference_uncertainty_c=args.reference_uncertainty,
                                   tolerance_c=args.tolerance or cfg.calibration_tolerance_c,
                                   interval_days=cfg.calibration_interval_days,
                                   body_site_offset_c=cfg.body_site_offset_c, **common)
            elif args.action == "fit":
                if not args.sensor or not args.point:
                    raise CliError("gate calibrate fit needs --sensor ID and --point SET:R,R,R (one or more)")
                record = calibrate(args.sensor, [parse_point(p) for p in args.point],
                                   reference_uncertainty_c=args.reference_uncertainty,
                                   tolerance_c=args.tolerance or cfg.calibration_tolerance_c,
                                   interval_days=cfg.calibration_interval_days,
                                   body_site_offset_c=cfg.body_site_offset_c, **common)
            else:  # check
                if not args.sensor or not args.point or len(args.point) != 1:
                    raise CliError("gate calibrate check needs --sensor ID and one --point SET:R,R,R")
                current, _ = calibrations.latest(log, args.sensor)
                record = daily_check(args.sensor, parse_point(args.point[0]), current,
                                     tolerance_c=args.tolerance or cfg.calibration_tolerance_c, **common)
        except CalibrationError as exc:
            raise CliError(str(exc)) from None
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
        if record.result == "fail":
            print(f"  {record.note}; the sensor is not used for screening until it passes", file=sys.stderr)
    return 0 if record.result == "pass" else EXIT_FAILED


def cmd_audit(args: argparse.Namespace) -> int:
    from storage import audit

    cfg = _config(args)
    with _open_log(args, cfg) as log:
        for ev in reversed(audit.events(log, args.limit)):
            if args.json:
                print(json.dumps(ev, ensure_ascii=False))
            else:
                when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ev["at"]))
                print(f"{when}  {ev['actor']:<12} {ev['action']:<18} {json.dumps(ev['detail'], ensure_ascii=False)}")
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
    sp.add_argument("--gain", type=float, help="the simulated sensor's gain error (e.g. 0.97)")
    sp.add_argument("--offset", type=float, help="its offset error, °C (e.g. -1.2)")
    sp.add_argument("--noise", type=float, help="its noise, °C (default 0.04)")
    sp.add_argument("--drift", type=float, help="its drift, °C per hour")
    sp.add_argument("--blackbody-control", help="a file holding a blackbody set point the sensor looks at")
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

    sp = with_db(sub.add_parser("sync", help="send the log upstream: gate sync [--once|--watch], status, verify"))
    sp.add_argument("action", nargs="?", choices=("run", "status", "verify"), help="status or verify (default: send)")
    sp.add_argument("--upstream", help="SQLAlchemy URL, e.g. postgresql://gate@host:5432/screening (default: config)")
    mode = sp.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="send what is pending and stop (default)")
    mode.add_argument("--watch", action="store_true", help="keep sending; back off and retry while upstream is down")
    sp.add_argument("--interval", type=float, default=5.0, help="--watch: seconds between rounds")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_sync)

    sp = with_db(sub.add_parser("export", help="export screenings for auditors; gate export verify DIR checks one"))
    sp.add_argument("args", nargs="*", metavar="verify DIR", help="verify DIR: re-check an export against its manifest")
    sp.add_argument("--from", dest="date_from", metavar="DATE", help="first day, YYYY-MM-DD")
    sp.add_argument("--to", dest="date_to", metavar="DATE", help="last day, YYYY-MM-DD")
    sp.add_argument("--format", default="csv", choices=("csv", "xlsx", "jsonl"))
    sp.add_argument("--out", metavar="DIR", help="a new folder for the files and manifest.json")
    sp.add_argument("--identified", action="store_true", help="include roster ids and names (needs an auditor)")
    sp.add_argument("--user", help="who is exporting: signs in with the PIN (recorded in the audit log)")
    sp.add_argument("--pin-stdin", action="store_true", help="read the PIN from standard input")
    sp.set_defaults(func=cmd_export)

    sp = with_db(sub.add_parser("report", help="gate report daily | unscreened [--date D]"))
    sp.add_argument("kind", choices=("daily", "unscreened"))
    sp.add_argument("--date", help="YYYY-MM-DD (default: today)")
    fmt = sp.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true")
    fmt.add_argument("--csv", action="store_true")
    sp.set_defaults(func=cmd_report)

    sp = with_db(sub.add_parser("roster", help="gate roster import FILE.csv | list | visitor add ID ..."))
    sp.add_argument("action", choices=("import", "list", "visitor"))
    sp.add_argument("rest", nargs="*", metavar="ARG")
    sp.add_argument("--name")
    sp.add_argument("--phone")
    sp.add_argument("--reason")
    sp.add_argument("--host", help="the person visited")
    sp.add_argument("--date", help="visitor approved for this day only (YYYY-MM-DD)")
    sp.add_argument("--user", help="who is doing this (recorded in the audit log)")
    sp.add_argument("--add", action="store_true", help="import: add and update only (default: replace the roster; "
                                                       "people not in the file become visitors)")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_roster)

    sp = with_db(sub.add_parser("purge", help="delete screenings past retention; the chain stays verifiable"))
    sp.add_argument("--older-than", type=_positive_int, metavar="DAYS", help="default: [retention] in the config")
    sp.add_argument("--user", help="an auditor: signs in with the PIN")
    sp.add_argument("--pin-stdin", action="store_true", help="read the PIN from standard input")
    sp.set_defaults(func=cmd_purge)

    sp = with_db(sub.add_parser("calibrate", help="calibrate run | fit | check | list | show ID (maintenance staff)"))
    sp.add_argument("action", choices=("run", "fit", "check", "list", "show"))
    sp.add_argument("id", nargs="?", help="show: the record id")
    sp.add_argument("--url")
    sp.add_argument("--protocol", choices=PROTOCOLS)
    sp.add_argument("--baud", type=int)
    sp.add_argument("--sensor-id", help="run: the sensor's id in the config (default sensor-1)")
    sp.add_argument("--sensor", help="fit/check/list: the sensor, as protocol:id (e.g. gy-mcu90614:gun-1)")
    sp.add_argument("--points", help="run: blackbody set points, e.g. 35,37,40 (1 to 5, within 35–42 °C)")
    sp.add_argument("--point", action="append", help="fit/check: SET:READING,READING,... (repeat for each point)")
    sp.add_argument("--samples", type=_positive_int, default=5, help="run: readings per set point (default 5)")
    sp.add_argument("--reference-id", help="the blackbody's / reference thermometer's certificate id")
    sp.add_argument("--reference-uncertainty", type=float, default=0.1, help="°C (default 0.1)")
    sp.add_argument("--tolerance", type=float, help="°C per residual (default: config, 0.3)")
    sp.add_argument("--operator", help="who calibrates (when the station has no users)")
    sp.add_argument("--blackbody-control", help="run: write each set point to this file instead of asking "
                                                "(a simulated blackbody: gate sim --blackbody-control FILE)")
    sp.add_argument("--user", help="maintenance staff: signs in with the PIN")
    sp.add_argument("--pin-stdin", action="store_true")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_calibrate)

    sp = with_db(sub.add_parser("users", help="gate users add NAME --role R | list | reset-pin NAME | disable NAME"))
    sp.add_argument("action", choices=("add", "list", "reset-pin", "disable"))
    sp.add_argument("name", nargs="?")
    sp.add_argument("--role", choices=("duty", "maintenance", "auditor", "admin"))
    sp.add_argument("--user", help="the admin doing this (not needed for the very first user)")
    sp.add_argument("--pin-stdin", action="store_true",
                    help="read PINs from standard input, one per line: the admin's (if --user), then the new one")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_users)

    sp = with_db(sub.add_parser("audit", help="gate audit list: who did what"))
    sp.add_argument("action", choices=("list",))
    sp.add_argument("--limit", type=_positive_int, default=100)
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_audit)

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
