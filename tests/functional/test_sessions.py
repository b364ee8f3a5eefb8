"""Sessions of the school day (晨检 / 午检 / 晚检): windows at their boundaries, each screening's session stored and
hashed, the config's [[sessions]] checked, and the duty screen's progress bar. The clock is always injected."""
import datetime
import time

import msgspec
import pytest
from hypothesis import given, strategies as st
from sqlalchemy import text
from textual.widgets import ProgressBar

from domain import MaskResult, MaskState, Reading
from domain.sessions import DEFAULT_SESSIONS, EVENING, ended, hhmm, session_at
from gate.config import Config, ConfigError, SessionConfig, parse_config
from gate.station import Station
from gate.ui.app import build_app
from gate.ui.widgets.session_progress import SessionProgress
from storage.log import ScreeningLog
from storage.roster import import_roster, unscreened
from tests.support import Clock, pilot_wait_until, read_or_refused

YES = MaskResult(MaskState.YES)
ROSTER = "id,name,class,kind\nS1,张三,三年级二班,pupil\nS2,李四,三年级二班,pupil\nT1,王老师,教务处,staff\n"


def at(h, m, s=0, day=1):
    return time.mktime((2026, 12, day, h, m, s, 0, 0, -1))


def hand(v):
    return Reading(object_c=v, source="manual")


@pytest.mark.parametrize("when, expected", [
    ((6, 29, 59), None), ((6, 30, 0), "morning"), ((8, 29, 59), "morning"), ((8, 30, 0), None),
    ((12, 30, 0), "noon"), ((13, 59, 59), "noon"), ((14, 0, 0), None), ((23, 59, 59), None), ((0, 0, 0), None),
])
def test_a_session_holds_its_start_and_not_its_end(when, expected):
    s = session_at(DEFAULT_SESSIONS, at(*when))
    assert (s.name if s else None) == expected


def test_the_evening_check_for_boarders_is_a_third_window():
    sessions = (*DEFAULT_SESSIONS, EVENING)
    assert session_at(sessions, at(18, 30)).label_zh == "晚检"
    assert session_at(sessions, at(19, 30)) is None


def test_sessions_end_on_their_own_day_only():
    day = "2026-12-01"
    assert [s.name for s in ended(DEFAULT_SESSIONS, day, at(8, 29, 59))] == []
    assert [s.name for s in ended(DEFAULT_SESSIONS, day, at(8, 30))] == ["morning"]
    assert [s.name for s in ended(DEFAULT_SESSIONS, day, at(0, 0, 0, day=2))] == ["morning", "noon"]


@given(st.text(max_size=12))
def test_a_time_of_day_is_read_or_refused_with_what_to_write(text):
    t = read_or_refused(hhmm, text, ValueError, "HH:MM")
    if t is not None:
        assert isinstance(t, datetime.time) and f"{t:%H:%M}" == text


def session_table(name, start, end, **kw):
    return {"name": name, "label_zh": "检", "label_en": "check", "start": start, "end": end, **kw}


@pytest.mark.parametrize("sessions, says", [
    ([session_table("a", "07:00", "09:00"), session_table("b", "08:00", "10:00")], "overlap"),
    ([session_table("late", "23:00", "01:00")], "must end after it starts"),
    ([session_table("a", "7:00", "09:00")], "HH:MM"),
    ([session_table("a", "07:00", "09:00", colour="red")], "unknown key `sessions[0].colour`"),
    ([session_table("a", "07:00", "08:00"), session_table("a", "12:00", "13:00")], "used twice"),
    ("morning", "list of tables `[[sessions]]`"),
])
def test_a_config_with_sessions_that_cannot_work_is_refused_naming_the_key(sessions, says):
    with pytest.raises(ConfigError) as exc:
        parse_config({"sessions": sessions})
    assert says in str(exc.value)


def test_the_defaults_are_the_morning_and_noon_checks():
    assert Config().school_sessions() == DEFAULT_SESSIONS
    boarders = parse_config({"sessions": [msgspec.to_builtins(SessionConfig.of(s)) for s in (*DEFAULT_SESSIONS, EVENING)]})
    assert [s.name for s in boarders.school_sessions()] == ["morning", "noon", "evening"]


def test_every_screening_records_its_session_or_none(db_path):
    clock = Clock(at(8, 29, 59))
    with ScreeningLog(db_path) as log:
        station = Station(Config(), log, language="en", clock=clock)
        in_morning = station.screen([hand(36.6)], YES, entrant_id="S1")
        clock.now = at(8, 30, 0)
        after = station.screen([hand(36.6)], YES, entrant_id="S2")
        clock.now = at(23, 59, 59)
        late = station.screen([hand(36.6)], YES, entrant_id="S1")
        clock.now = at(0, 0, 0, day=2)
        midnight = station.screen([hand(36.6)], YES, entrant_id="S1")
        assert [log.get(s.id).session for s in (in_morning, after, late, midnight)] == ["morning", None, None, None]
        assert log.verify().ok


def test_a_session_edited_in_the_file_breaks_the_chain(db_path):
    clock = Clock(at(7, 0))
    with ScreeningLog(db_path) as log:
        station = Station(Config(), log, language="en", clock=clock)
        s = station.screen([hand(36.6)], YES, entrant_id="S1")
        clock.now = at(10, 0)
        outside = station.screen([hand(36.6)], YES, entrant_id="S2")
        with log.engine.begin() as conn:  # a pupil makes a late arrival look like the morning check
            conn.execute(text("UPDATE screenings SET session = 'morning' WHERE id = :id"), {"id": outside.id})
        result = log.verify()
        assert not result.ok and result.bad_id == outside.id
        with log.engine.begin() as conn:
            conn.execute(text("UPDATE screenings SET session = NULL WHERE id = :id"), {"id": outside.id})
            conn.execute(text("UPDATE screenings SET session = 'noon' WHERE id = :id"), {"id": s.id})
        assert log.verify().bad_id == s.id


def test_who_was_not_seen_is_per_session(db_path):
    clock = Clock(at(7, 0))
    with ScreeningLog(db_path) as log:
        import_roster(log, ROSTER.encode(), station_id="gate-1", actor="admin")
        station = Station(Config(), log, language="en", clock=clock)
        station.screen([hand(36.6)], YES, entrant_id="S1")
        clock.now = at(12, 45)
        station.screen([hand(36.6)], YES, entrant_id="S2")
        morning = sorted(e.roster_id for e in unscreened(log, "2026-12-01", "morning"))
        noon = sorted(e.roster_id for e in unscreened(log, "2026-12-01", "noon"))
        assert morning == ["S2", "T1"] and noon == ["S1", "T1"]
        assert [e.roster_id for e in unscreened(log, "2026-12-01")] == ["T1"]


async def test_the_duty_screen_shows_the_session_and_its_progress(db_path):
    clock = Clock(at(7, 0))
    with ScreeningLog(db_path) as log:
        import_roster(log, ROSTER.encode(), station_id="gate-1", actor="admin")
        app = build_app(Config(language="en"), log, operator="wang", clock=clock)
        async with app.run_test(size=(100, 30)) as pilot:
            widget = app.query_one(SessionProgress)
            shown = lambda: str(widget.query_one("#session-text").render())  # noqa: E731
            assert await pilot_wait_until(pilot, lambda: "seen 0 / 3" in shown()), shown()
            assert "morning check 晨检 06:30–08:30" in shown()
            app.station.screen([hand(36.6)], YES, entrant_id="S1")
            app.duty.load_session()
            assert await pilot_wait_until(pilot, lambda: "seen 1 / 3" in shown()), shown()
            assert widget.query_one(ProgressBar).progress == 1 and widget.query_one(ProgressBar).total == 3
            clock.now = at(9, 0)
            app.duty.load_session()
            assert await pilot_wait_until(pilot, lambda: "no check now" in shown()), shown()
            assert "next: 午检 noon check 12:30" in shown() and not widget.query_one(ProgressBar).display
