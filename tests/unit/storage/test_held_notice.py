"""A gate's word that it holds back an edited record (storage.held), as another gate pulls it from the upstream, is
read without trusting it (storage.school_records.held_notice): any detail text gives either nothing or a notice with
a printable entrant id, a finite time and the gate the upstream row belongs to (never the gate its text names)."""
import json
import math

from hypothesis import given
from hypothesis import strategies as st

from storage.school_records import held_notice

JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                       lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=10)
DETAIL = st.fixed_dictionaries({}, optional={"entrant_id": JSONISH, "since": JSONISH, "held_since": JSONISH,
                                             "kind": JSONISH, "record": JSONISH, "gate": JSONISH})


@given(st.one_of(st.text(), st.none(), st.integers(), JSONISH.map(json.dumps), DETAIL.map(json.dumps)),
       st.floats(allow_nan=False, allow_infinity=False))
def test_any_detail_gives_nothing_or_a_notice_that_can_be_shown(detail, at):
    found = held_notice({"detail": detail, "station_id": "south", "at": at})
    if found is not None:
        assert found["gate"] == "south" and math.isfinite(found["since"])
        assert isinstance(found["entrant_id"], str) and found["entrant_id"].isprintable() and found["entrant_id"]
        assert found["kind"] in ("screening", "case", "clearance", "record") and len(found["record_id"]) <= 36


def test_a_notice_as_a_gate_writes_it_is_read_as_written_and_the_gate_is_the_rows():
    detail = json.dumps({"entrant_id": "P7", "kind": "case", "record": "r1", "gate": "north", "since": 100.5})
    assert held_notice({"detail": detail, "station_id": "south", "at": 200.0}) == {
        "entrant_id": "P7", "gate": "south", "since": 100.5, "kind": "case", "record_id": "r1"}
    for bad in ({"entrant_id": "P7\x1b[2J"}, {"entrant_id": ""}, {"entrant_id": ["P7"]}, {"kind": "case"}):
        assert held_notice({"detail": json.dumps(bad), "station_id": "south", "at": 1.0}) is None
