"""A roster import replaces the roster: a pupil who left is refused at the gate; --add merges; all or nothing."""
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import Decision, EntrantKind, MaskResult, MaskState, Reading
from gate.config import Config
from gate.station import Station
from storage import audit
from storage.log import ScreeningLog, local_day
from storage.roster import RosterError, Visitor, add_visitor, import_roster, roster, unscreened
from tests.support import empty_log, log_from_template

TERM1 = "id,name,class,kind\nS1,张三,一年级1班,pupil\nS2,李四,一年级1班,pupil\nT1,王老师,教务处,staff\n".encode()
TERM2 = "id,name,class,kind\nS1,张三,一年级2班,pupil\nS3,赵五,一年级1班,pupil\nT1,王老师,教务处,staff\n".encode()


def hand(v=36.5):
    return Reading(object_c=v, body_c=v, source="manual", operator="li", device_id="clinical-1")


def kinds(log):
    return {e.roster_id: e.kind for e in roster(log)}


def test_a_second_import_replaces_and_a_pupil_who_left_is_refused(db_path):
    with ScreeningLog(db_path) as log:
        first = import_roster(log, TERM1, station_id="north", actor="admin")
        assert (first.added, first.removed, first.changed) == (("S1", "S2", "T1"), (), ())
        station = Station(Config(station_id="north"), log)
        assert station.screen([hand()], MaskResult(MaskState.YES), entrant_id="S2").decision is Decision.ADMIT
        second = import_roster(log, TERM2, station_id="north", actor="admin")
        assert (second.added, second.changed, second.removed, second.unchanged) == (("S3",), ("S1",), ("S2",), 1)
        assert second.line() == ("roster replaced: 1 added, 1 changed, 1 removed (now visitors: refused at the gate "
                                 "unless approved), 1 unchanged")
        # S2 left: the row stays (their past screenings keep a name) but as a visitor, refused unless approved.
        assert kinds(log)["S2"] is EntrantKind.VISITOR and log.entrant("S2").name == "李四"
        refused = station.screen([hand()], MaskResult(MaskState.YES), entrant_id="S2")
        assert refused.decision is Decision.DENY and "visitor-not-approved" in refused.reasons
        assert "S2" not in {e.roster_id for e in unscreened(log, local_day(time.time()))}
        add_visitor(log, Visitor("S2", "李四", "138 0000 1234", "collect books", "王老师", None),
                    station_id="north", actor="admin")
        assert station.screen([hand()], MaskResult(MaskState.YES), entrant_id="S2").decision is Decision.ADMIT
        ev = next(e for e in audit.events(log) if e["action"] == "roster-import")
        assert ev["detail"] == {"people": 3, "mode": "replace", "added": 1, "changed": 1, "removed": ["S2"]}


def test_add_merges_as_before(db_path):
    with ScreeningLog(db_path) as log:
        import_roster(log, TERM1, station_id="north", actor="admin")
        merged = import_roster(log, TERM2, station_id="north", actor="admin", merge=True)
        assert (merged.added, merged.changed, merged.removed, merged.merged) == (("S3",), ("S1",), (), True)
        assert merged.line().startswith("roster merged into: 1 added")
        assert kinds(log) == {"S1": EntrantKind.PUPIL, "S2": EntrantKind.PUPIL, "S3": EntrantKind.PUPIL,
                              "T1": EntrantKind.STAFF}


def test_a_pupil_who_comes_back_is_a_pupil_again(db_path):
    with ScreeningLog(db_path) as log:
        import_roster(log, TERM1, station_id="n", actor="a")
        import_roster(log, TERM2, station_id="n", actor="a")
        again = import_roster(log, TERM1, station_id="n", actor="a")
        assert set(again.changed) == {"S1", "S2"} and again.removed == ("S3",)
        assert kinds(log)["S2"] is EntrantKind.PUPIL
        # A second import of the same file changes nothing and removes nobody.
        same = import_roster(log, TERM1, station_id="n", actor="a")
        assert (same.added, same.changed, same.removed, same.unchanged) == ((), (), (), 3)


def test_a_bad_line_in_a_replacement_changes_nothing(db_path):
    with ScreeningLog(db_path) as log:
        import_roster(log, TERM1, station_id="n", actor="a")
        before = roster(log)
        with pytest.raises(RosterError, match="line 3, field kind"):
            import_roster(log, "id,name,class,kind\nS1,张三,1班,pupil\nS9,x,1班,alien\n".encode(),
                          station_id="n", actor="a")
        assert roster(log) == before
        assert [e["action"] for e in audit.events(log)].count("roster-import") == 1


ids = st.sampled_from(["S1", "S2", "S3", "S4", "T1"])
people = st.dictionaries(ids, st.sampled_from(["pupil", "staff"]), min_size=1)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.lists(people, min_size=1, max_size=5))
def test_after_any_sequence_of_imports_exactly_the_last_file_is_let_in(tmp_path_factory, files):
    path = log_from_template(tmp_path_factory.mktemp("r") / "gate.db", empty_log)  # a new log, its schema made once
    with ScreeningLog(path) as log:
        for f in files:
            data = ("id,name,class,kind\n" + "".join(f"{i},n{i},c,{k}\n" for i, k in f.items())).encode()
            import_roster(log, data, station_id="n", actor="a")
        from storage.roster import check_entrant

        for rid in ["S1", "S2", "S3", "S4", "T1"]:
            expected = None if rid in files[-1] else "visitor-not-approved"
            assert check_entrant(log, rid) == expected, (rid, files)
