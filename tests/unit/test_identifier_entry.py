"""Identifiers and names are checked where they enter the core: the roster file (each field, with its line), a visitor
approval, a typed reading's operator and thermometer, a screening's entrant and operator, a scanned id. A refusal is
one clear line and stores nothing."""
import pytest

from domain import MaskResult, MaskState
from domain.identifiers import IdentifierError
from drivers.base import Reading
from drivers.manual import ManualEntryError, manual_reading
from gate.config import Config
from gate.station import Station, _usable_id
from storage.log import ScreeningLog
from storage.roster import RosterError, Visitor, add_visitor, parse_roster

ESC = "\x1b[2J\x1b[31m"  # clears a terminal and paints it red: a forged line in an audit listing
LONG_ID = "x" * 70
TEN_KB = "A" * 10_240
ROSTER = "id,name,class,kind\n"


@pytest.mark.parametrize("line, field, says", [
    (f"{LONG_ID},Zhang San,1班,pupil", "id", "70 characters long: at most 64"),
    (f"P{ESC}42,Zhang San,1班,pupil", "id", "control or invisible characters"),
    (f"{TEN_KB},Zhang San,1班,pupil", "id", "10240 characters long"),
    ("P 42,Zhang San,1班,pupil", "id", "contains a space"),
    (f"P42,Zhang{ESC}San,1班,pupil", "name", "control or invisible characters"),
    (f"P42,{TEN_KB},1班,pupil", "name", "at most 128"),
    (f"P42,Zhang San,1\u202e班,pupil", "class", "control or invisible characters"),
    (f"P42,Zhang San,{'班' * 65},pupil", "class", "at most 64"),
])
def test_each_roster_field_is_checked_with_its_line(line, field, says):
    data = (ROSTER + "S1,Li Si,1班,pupil\n" + line + "\n").encode()
    with pytest.raises(RosterError) as err:
        parse_roster(data)
    (problem,) = err.value.problems
    assert problem.startswith(f"line 3, field {field}: ") and says in problem
    assert "\x1b" not in problem and "\u202e" not in problem and len(problem) < 200


def test_a_roster_with_spaces_around_fields_imports_stripped():
    (e,) = parse_roster((ROSTER + "  P42 , Zhang San ,一年级1班, pupil\n").encode())
    assert (e.roster_id, e.name, e.group) == ("P42", "Zhang San", "一年级1班")


@pytest.mark.parametrize("visitor, says", [
    (Visitor(LONG_ID, "Mr Wang", "13800138000", "delivery", "Ms Li", None), "visitor id is 70 characters"),
    (Visitor("V1", f"Mr{ESC}Wang", "13800138000", "delivery", "Ms Li", None), "name contains control"),
    (Visitor("V1", "Mr Wang", "13800138000", TEN_KB, "Ms Li", None), "reason is 10240 characters"),
    (Visitor("V1", "Mr Wang", "13800138000", "delivery", f"Ms{ESC}Li", None), "host contains control"),
    (Visitor("V1", "Mr Wang", "138\x0000138000", "delivery", "Ms Li", None), "phone contains control"),
])
def test_a_visitor_approval_checks_every_field_and_stores_nothing(db_path, visitor, says):
    with ScreeningLog(db_path) as log:
        with pytest.raises(RosterError, match=says):
            add_visitor(log, visitor, station_id="north", actor="guard-wang")
        with log.engine.connect() as conn:
            assert conn.exec_driver_sql("select count(*) from visitors").scalar() == 0


def test_a_visitor_is_stored_with_checked_fields(db_path):
    with ScreeningLog(db_path) as log:
        add_visitor(log, Visitor(" V1 ", "Mr Wang", "13800138000", "", "Ms Li", None), station_id="n", actor="a")
        with log.engine.connect() as conn:
            assert conn.exec_driver_sql("select visitor_id from visitors").scalar() == "V1"


@pytest.mark.parametrize("entrant, operator, says", [
    (LONG_ID, None, "entrant id is 70 characters long"),
    (f"P42{ESC}", None, "entrant id contains control"),
    (TEN_KB, None, "entrant id is 10240 characters long"),
    ("P42", f"li{ESC}", "operator contains control"),
    ("P42", "l" * 65, "operator is 65 characters long"),
    ("", None, "entrant id is empty"),  # anonymous is None; an empty scan is not an anonymous admit (a12d H11)
    ("   ", None, "entrant id"),
])
def test_a_screening_with_a_bad_entrant_or_operator_is_refused_and_nothing_is_stored(db_path, entrant, operator,
                                                                                     says):
    with ScreeningLog(db_path) as log:
        st = Station(Config(station_id="north", mask_mode="off"), log)
        reading = Reading(object_c=36.5, body_c=36.5, source="gun-1", ambient_c=21.0)
        with pytest.raises(IdentifierError, match=says):
            st.screen([reading], MaskResult(MaskState.YES), entrant_id=entrant, operator=operator)
        assert log.count() == 0


@pytest.mark.parametrize("operator, device, says", [
    (f"li{ESC}", "clinical-1", "operator contains control"),
    ("li", LONG_ID, "thermometer id is 70 characters long"),
    ("li", "clinical 1", "thermometer id 'clinical 1' contains a space"),
    (TEN_KB, "clinical-1", "operator is 10240 characters long"),
])
def test_a_typed_reading_checks_operator_and_thermometer(operator, device, says):
    with pytest.raises(ManualEntryError, match=says):
        manual_reading("36.6", operator=operator, device_id=device)


def test_a_scanned_code_that_is_not_an_id_screens_the_person_without_one():
    assert _usable_id(" P42 ") == "P42"
    assert _usable_id(LONG_ID) is None and _usable_id(f"P{ESC}") is None and _usable_id(None) is None
