"""The station: sensors, mask source, policy and log wired together. Headless; the CLI and the UI both drive it."""
from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Callable, Protocol, Sequence

import msgspec

from domain import Decision, MaskResult, MaskState, Reason, Screening
from drivers.base import Health, Reading
from gate.config import Config, SensorConfig
from domain.identifiers import ID_MAX, IdentifierError, check_id, check_text
from domain.sessions import session_at
from gate.fever_memory import Memory, certificate_args, episode, held_args, recall, when_text, where_text
from gate.policy import decide
from gate.station_policy import PolicyNotStored, enforce as enforce_policy
from storage import audit
from storage.errors import LogEdited, StorageError
from storage.log import ScreeningLog, local_day

if TYPE_CHECKING:
    from drivers.measurement import Measurement
    from drivers.samples import HealthEvent, Sample
    from drivers.sensor import Sensor
    from gate.log_failure import LogFailure


class MaskSource(Protocol):
    def current(self) -> MaskResult: ...


class NoCamera:
    """No camera fitted: the mask is unknown and, in must-wear mode, staff confirm it."""

    def current(self) -> MaskResult:
        return MaskResult(MaskState.UNKNOWN, source="none")


class Station:
    def __init__(self, config: Config, log: ScreeningLog, mask_source: MaskSource | None = None,
                 language: str | None = None, clock: Callable[[], float] = time.time):
        self._policy_pending = False
        # A station with users and no stored policy yet: it comes up and says so (the duty screen's banner), and
        # screens nobody until an admin has applied the station's config.
        self.policy_refusal: PolicyNotStored | None = None
        if log is not None:  # a config that differs from the log's policy never screens anyone
            try:
                enforce_policy(config, log)
            except PolicyNotStored as exc:
                self.policy_refusal = exc
            except StorageError:
                # A log that cannot be written at start (full or read-only disk): the duty screen must still come up
                # and say LOG FAILURE; the policy is stored before the first screening, or that screening fails.
                self._policy_pending = True
        self.config = config
        self.log = log
        self.clock = clock  # when each screening happens; tests pass their own
        self.mask_source = mask_source or NoCamera()
        self.language = language or config.language
        self.sessions = config.school_sessions()
        # Set during a calibration: the sensor looks at a blackbody, not at people; samples still flow.
        self.paused = threading.Event()

    # -- deciding ------------------------------------------------------------------------------------------------
    def screen(self, readings: Sequence[Reading], mask: MaskResult | None = None, *, entrant_id: str | None = None,
               operator: str | None = None, follows: str | None = None) -> Screening:
        """Decide and store; returns only after the commit. Raises StorageError when the roster, the person's
        history or the write failed, and IdentifierError for an entrant id or operator that is not printable text
        that fits; either way nothing was stored.

        A person with an id is remembered: a reading links by itself to their open retest, and a confirmed fever that
        was never cleared refuses entry (gate/fever_memory.py).
        """
        return self._store(self._decide(readings, mask, entrant_id=entrant_id, operator=operator, follows=follows))

    def remember(self, entrant_id: str | None) -> Memory:
        """What the log knows of this person that the next screening must take into account."""
        if not entrant_id:
            return Memory()
        from storage import clearances  # loaded when needed: gate screen's start-up (bench/cli_startup.py)

        try:
            h = clearances.history(self.log, entrant_id)
        except LogEdited as exc:  # fail closed, and leave a trace an auditor finds beside gate verify's report
            try:
                audit.record(self.log, self.config.station_id, "station", "log-edited",
                             {"entrant_id": entrant_id, "problem": str(exc)})
            except StorageError:
                pass  # the refusal stands whether or not the trace could be written
            raise
        return recall(h.latest, h.last_fever, h.clearances, h.certificate_case, h.fever_gate, h.held)

    def retest(self, previous: Screening, reading: Reading, *, operator: str | None = None) -> Screening:
        """The second, linked reading of a person (usually manual, after a rest); both readings are kept."""
        return self.screen((*previous.readings, reading), previous.mask, entrant_id=previous.entrant_id,
                           operator=operator or previous.operator, follows=previous.id)

    def confirm_mask(self, previous: Screening, state: MaskState, *, operator: str) -> Screening:
        """Staff confirm or override the mask result; recorded as a new screening with the operator, and the
        override audited in the same transaction."""
        mask = MaskResult(state, score=None, source="staff", operator=operator)
        s = self._decide(previous.readings, mask, entrant_id=previous.entrant_id, operator=operator,
                         follows=previous.id)
        return self._store(s, (operator, "override", {
            "screening": s.id, "follows": previous.id, "mask_from": previous.mask.state.value,
            "mask_to": state.value, "decision_from": previous.decision.value, "decision_to": s.decision.value}))

    def message_in(self, s: Screening, lang: str) -> str:
        """A stored decision's message in another language, from the same readings and this station's policy."""
        from storage import clearances  # loaded when needed: gate screen's start-up (bench/cli_startup.py)

        problem = Reason.VISITOR_NOT_APPROVED if Reason.VISITOR_NOT_APPROVED in s.reasons else None
        refusals = []
        if Reason.FEVER_NOT_CLEARED in s.reasons and s.entrant_id:
            fever = clearances.fever_before(self.log, s.entrant_id, s.created_at)
            if fever is None:  # confirmed at another gate of the school (pulled by the sync): the memory names it
                memory = self.remember(s.entrant_id)
                fever, gate = memory.fever, memory.fever_gate
            else:
                gate = None
            when = when_text(fever.created_at, s.created_at) if fever else "?"
            refusals = [(Reason.FEVER_NOT_CLEARED, {"when": when, "where": where_text(gate)})]
        elif Reason.CERTIFICATE_NEEDED in s.reasons and s.entrant_id:
            case = clearances.history(self.log, s.entrant_id).certificate_case
            refusals = [(Reason.CERTIFICATE_NEEDED, certificate_args(case, s.created_at) if case else
                         {"case": "?", "outcome": "?", "when": "?"})]
        if Reason.HELD_AT_GATE in s.reasons and s.entrant_id:  # the holds as known now (lifted since: "?")
            held = {h.gate: h for h in sorted(clearances.history(self.log, s.entrant_id).held,
                                              key=lambda h: -h.since)}  # each gate's earliest hold
            refusals += [(Reason.HELD_AT_GATE, held_args(h, s.created_at)) for h in held.values()] or \
                [(Reason.HELD_AT_GATE, {"gate": "?", "when": "?"})]
        return decide(s.readings, s.mask, self._policy_for(s.readings), lang, entrant_problem=problem,
                      refusals=refusals, wait_minutes=self.config.retest_wait_minutes).message

    def _decide(self, readings: Sequence[Reading], mask: MaskResult | None, *, entrant_id: str | None,
                operator: str | None, follows: str | None) -> Screening:
        """The screening to store: the policy's decision on the readings, the mask, the roster and the person's
        fever memory (reads only)."""
        if self._policy_pending or self.policy_refusal is not None:
            enforce_policy(self.config, self.log)  # an admin may have applied it meanwhile; else refused again
            self._policy_pending, self.policy_refusal = False, None
        # None is anonymous; an empty id is refused, never stored as anonymous (it would escape the fever memory)
        entrant_id = check_id(entrant_id, "entrant id") if entrant_id is not None else None
        operator = check_text(operator, "operator", max_len=ID_MAX) if operator else None
        mask = mask or MaskResult()
        now = self.clock()
        spelled, problem = None, None
        if entrant_id:
            # loaded when needed: gate screen's start-up (bench/cli_startup.py)
            from storage.roster import entrant_status

            spelled, problem = entrant_status(self.log, entrant_id, local_day(now))  # a visitor's day: the station's
        memory = self.remember(entrant_id)
        if entrant_id:  # stored as the roster spells it, else as the person's earlier screenings did (p42 -> P42)
            entrant_id = spelled or (memory.latest.entrant_id if memory.latest else None) or entrant_id
        readings, follows = episode(memory, tuple(readings), follows)
        refusals = memory.refusals(now)
        verdict = decide(readings, mask, self._policy_for(readings), self.language, entrant_problem=problem,
                         refusals=refusals, wait_minutes=self.config.retest_wait_minutes)
        session = session_at(self.sessions, now)
        return Screening(station_id=self.config.station_id, created_at=now, readings=tuple(readings), mask=mask,
                         decision=verdict.decision, reasons=verdict.reasons, message=verdict.message,
                         threshold_c=self.config.threshold_c, entrant_id=entrant_id, operator=operator,
                         follows=follows, session=session.name if session else None)

    def _store(self, s: Screening, *events: tuple[str | None, str, dict]) -> Screening:
        """The screening, the audit event of a typed reading and any ``events`` (actor, action, detail): one
        commit, so a decision is never stored without its audit trail, nor shown as failed when it was stored."""
        with self.log.unit(f"screening {s.id}") as u:
            u.screening(s)
            r = s.reading
            if r is not None and r.is_manual:
                u.audit(self.config.station_id, r.operator or s.operator, "manual-entry",
                        {"screening": s.id, "value_c": r.value_c, "unit": r.unit_entered, "device": r.device_id,
                         "reason": r.manual_reason, "decision": s.decision.value})
            for actor, action, detail in events:
                u.audit(self.config.station_id, actor, action, detail)
            if s.entrant_id and s.decision is Decision.DENY:
                # A confirmed fever or a no-mask refusal opens its case. The case machinery loads only for a
                # refusal of a known person: `gate screen` of anyone admitted starts without it.
                from gate import followup

                followup.on_screening(u, self.log, s)
        return s

    def _policy_for(self, readings: Sequence[Reading]):
        """The policy with the operating range of the sensor that took the latest sensor reading."""
        sensor = next((self.config.sensor(r.source) for r in reversed(readings) if not r.is_manual), None)
        return self.config.policy(sensor)

    # -- sensors -------------------------------------------------------------------------------------------------
    def sensor_for(self, sc: SensorConfig) -> Sensor:
        from drivers.sensor import HealthLimits, Sensor  # the live sensor (pyserial): not for a typed reading

        limits = HealthLimits(ambient_min_c=sc.ambient_min_c, ambient_max_c=sc.ambient_max_c, warmup_s=sc.warmup_s)
        return Sensor(sc.id, sc.protocol, sc.url, sc.baud, mode=sc.mode, limits=limits, options=sc.options)

    def sensor_key(self, sc: SensorConfig) -> str:
        return f"{sc.protocol}:{sc.id}"

    def sensor_status(self, sc: SensorConfig):
        """The sensor's calibration state: the record to apply, and whether it may be used today."""
        cache = self.__dict__.setdefault("_cal_cache", {})
        hit = cache.get(sc.id)
        if hit and time.monotonic() - hit[0] < 5.0:
            return hit[1]
        # the calibration rules and records (their tables): only for a sensor's reading, not a typed one
        from gate.calibration import status
        from storage import calibrations

        full, check = calibrations.latest(self.log, self.sensor_key(sc))
        st = status(full, check, required=self.config.calibration_required, warn_days=self.config.calibration_warn_days,
                    grace_days=self.config.calibration_grace_days)
        cache[sc.id] = (time.monotonic(), st)
        return st

    def forget_calibration_cache(self) -> None:
        self.__dict__.pop("_cal_cache", None)

    def reading_from(self, sc: SensorConfig, m: Measurement, sensor: Sensor | None) -> Reading:
        """The raw measurement, with the calibrated body value beside it (never in place of it)."""
        health = (sensor.health, sensor.reason) if sensor is not None else (Health.OK, "")
        raw = Reading(object_c=m.object_c, ambient_c=m.ambient_c, source=sc.id, ts=m.ts, health=health[0],
                      health_reason=health[1])
        st = self.sensor_status(sc)
        if st.calibration is not None:
            cal = st.calibration
            r = raw.with_body(cal.gain, cal.offset_c + cal.body_site_offset_c, calibration_id=cal.id)
        else:
            r = raw.with_body(1.0, self.config.body_site_offset_c)  # corrections come only from calibration records
        return msgspec.structs.replace(r, calibration_ok=st.usable)

    def sensor_entry(self, source: str, object_c: float, ambient_c: float | None = None, *,
                     mask: MaskResult | None = None, entrant_id: str | None = None,
                     operator: str | None = None) -> Screening:
        """A reading someone reports from a configured sensor (``gate screen --source ID``), treated like the live
        station's: calibrated by the sensor's record, refused as a retest while the sensor is locked out or overdue,
        and audited as a ``sensor-entry``, since nobody can tell a typed number from what the sensor showed."""
        sc = self.config.sensor(source)
        if sc is None:
            known = ", ".join(s.id for s in self.config.sensors) or "none in this config"
            raise LookupError(f"--source {source!r} is not a sensor of this station (sensors: {known}); "
                              "a reading measured by hand is --source manual")
        from drivers.measurement import Measurement  # loaded when needed: gate screen's start-up (bench/cli_startup.py)

        m = Measurement(object_c, ambient_c, self.clock(), 1)
        reading = self.reading_from(sc, m, None)
        s = self._decide([reading], mask, entrant_id=entrant_id, operator=operator, follows=None)
        return self._store(s, (operator, "sensor-entry", {
            "screening": s.id, "sensor": self.sensor_key(sc), "object_c": object_c,
            "calibration_ok": reading.calibration_ok, "calibration": reading.calibration_id,
            "decision": s.decision.value}))

    def run(self, sc: SensorConfig, stop: threading.Event, *,
            on_screening: Callable[[Screening], None],
            on_health: Callable[[HealthEvent], None] | None = None,
            on_log_failure: Callable[[LogFailure], None] | None = None,
            entrant: Callable[[], str | None] | None = None,
            count: int | None = None,
            sensor: Sensor | None = None,
            on_sample: Callable[[Sample], None] | None = None) -> int:
        """Screen everyone the sensor sees until ``stop`` is set or ``count`` screenings were stored."""
        # loaded when needed: gate screen's start-up (bench/cli_startup.py)
        from drivers.measurement import Measurement, PresenceDetector
        from gate.log_failure import LogFailure

        sensor = sensor or self.sensor_for(sc)
        detector = PresenceDetector(margin_c=sc.presence_margin_c, frames=sc.presence_frames,
                                    window=max(5, sc.presence_frames))
        done = 0
        try:
            while not stop.is_set() and (count is None or done < count):
                samples, events = sensor.poll(0.1)
                for ev in events:
                    if on_health:
                        on_health(ev)
                for sample in samples:
                    if on_sample:
                        on_sample(sample)
                    if self.paused.is_set():
                        # The blackbody may still be in front of the sensor when screening resumes: it is no person.
                        detector.hold()
                        continue
                    if sc.trigger == "each-reading":  # a handheld gun: one trigger pull, one person
                        m = Measurement(sample.object_c, sample.ambient_c, sample.ts, 1)
                    else:
                        m = detector.feed(sample)
                    if m is None:
                        continue
                    reading = Reading(object_c=m.object_c, ambient_c=m.ambient_c, source=sc.id, ts=m.ts)
                    # A scanned id comes first; else an id the person showed the camera as a QR code.
                    who = _usable_id((entrant() if entrant else None) or getattr(self.mask_source, "last_qr", None))
                    try:
                        reading = self.reading_from(sc, m, sensor)  # reads the calibration records
                        s = self.screen([reading], self.mask_source.current(), entrant_id=who)
                    except (StorageError, PolicyNotStored) as exc:  # nobody is admitted without a stored decision
                        if on_log_failure:
                            on_log_failure(LogFailure(str(exc), reading))
                        continue
                    done += 1
                    on_screening(s)
                    if count is not None and done >= count:
                        break
        finally:
            sensor.close()
        return done


__all__ = ["Station", "NoCamera", "MaskSource", "Health"]


def _usable_id(scanned: str | None) -> str | None:
    """A scanned or QR id as the entrant id, or None (screened without an id) when it is not a usable id: a code
    can hold anything, and a person is screened either way."""
    try:
        return check_id(scanned, "entrant id") if scanned else None
    except IdentifierError:
        return None
