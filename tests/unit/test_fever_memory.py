"""The fever memory rule (gate/fever_memory.py), pure: which retest a reading links to, and who is refused."""
import time

from domain import Clearance, Decision, MaskResult, MaskState, Reading, Screening
import pytest

from gate.i18n import t
from gate.fever_memory import Memory, StaleRetest, episode, is_open, recall, when_text

T0 = time.mktime((2026, 12, 1, 7, 42, 0, 0, 0, -1))


def screening(decision, reasons, entrant="P42", at=T0, temp=38.5, follows=None):
    return Screening(station_id="s", readings=(Reading(object_c=temp, source="manual", ts=at),),
                     mask=MaskResult(MaskState.YES), decision=decision, reasons=tuple(reasons), message="",
                     threshold_c=37.3, entrant_id=entrant, follows=follows, created_at=at)


def clearance(fever, at=T0 + 3600):
    return Clearance(entrant_id=fever.entrant_id, fever_screening_id=fever.id, fever_at=fever.created_at,
                     note="doctor's note", cleared_by="nurse", role="health", at=at)


SUSPECTED = screening(Decision.RETEST, ["fever-suspected"])
CONFIRMED = screening(Decision.DENY, ["fever-confirmed"], at=T0 + 600)


def test_a_first_screening_remembers_nothing():
    assert recall(None, None, ()) == Memory()
    assert recall(screening(Decision.ADMIT, ["normal"], temp=36.6), None, ()).follows is None


def test_an_open_retest_is_the_link_target():
    assert recall(SUSPECTED, None, ()).follows is SUSPECTED


def test_a_mask_question_is_an_open_retest_too():
    s = screening(Decision.RETEST, ["normal", "mask-unconfirmed"], temp=36.6)
    assert is_open(s) and recall(s, None, ()).follows is s


def test_a_suspected_fever_denied_for_another_reason_stays_open():
    # 38.5 °C and no mask: denied for the mask, but the high reading still needs a lower retest before any admit.
    s = screening(Decision.DENY, ["fever-suspected", "no-mask"])
    assert is_open(s)


def test_an_admit_or_a_plain_deny_closes_the_episode():
    assert not is_open(screening(Decision.ADMIT, ["retest-normal"], temp=36.6))
    assert not is_open(screening(Decision.DENY, ["normal", "no-mask"], temp=36.6))


def test_a_confirmed_fever_refuses_until_cleared():
    m = recall(CONFIRMED, CONFIRMED, ())
    assert m.refused and m.fever is CONFIRMED and m.follows is None
    code, args = m.refusal(now=T0 + 700)
    assert code == "fever-not-cleared" and args == {"when": "07:52", "where": ""}


def test_a_fever_confirmed_at_another_gate_names_that_gate_in_each_language():
    m = recall(None, CONFIRMED, (), fever_gate="north")
    code, args = m.refusal(now=T0 + 700)
    assert m.refused and code == "fever-not-cleared" and m.fever_gate == "north"
    assert t("reason.fever-not-cleared", "en", **args).startswith("Fever confirmed at 07:52 at north gate — sent home")
    assert t("reason.fever-not-cleared", "zh-CN", **args).startswith("07:52（north 校门） 已确认发热——已送回家")
    # cleared (by a clearance recorded at either gate): no gate is named, nothing refuses
    assert recall(None, CONFIRMED, (clearance(CONFIRMED),), fever_gate="north") == Memory(fever=None)


def test_a_refusal_on_a_later_day_names_the_date():
    _, args = recall(CONFIRMED, CONFIRMED, ()).refusal(now=T0 + 86400)
    assert args["when"] == "2026-12-01 07:52"


def test_a_refusal_with_a_high_reading_stays_open_and_links_the_next_reading():
    # Refused (fever not cleared) and 38.2 °C: the next reading still answers that high reading, cleared or not.
    refusal = screening(Decision.DENY, ["fever-suspected", "fever-not-cleared"], at=T0 + 900)
    assert is_open(refusal)
    assert recall(refusal, CONFIRMED, ()) == Memory(follows=refusal, fever=CONFIRMED, latest=refusal)
    assert recall(refusal, CONFIRMED, (clearance(CONFIRMED),)) == Memory(follows=refusal, latest=refusal)


def test_a_refusal_with_a_normal_reading_closes_nothing_but_refuses():
    refusal = screening(Decision.DENY, ["normal", "fever-not-cleared"], at=T0 + 900, temp=36.6)
    assert not is_open(refusal)
    assert recall(refusal, CONFIRMED, ()) == Memory(fever=CONFIRMED, latest=refusal)


def test_the_confirmed_fever_itself_is_not_an_open_retest():
    assert not is_open(CONFIRMED)
    assert recall(CONFIRMED, CONFIRMED, (clearance(CONFIRMED),)) == Memory(latest=CONFIRMED)


def test_a_clearance_clears_only_the_fever_it_names():
    later = screening(Decision.DENY, ["fever-confirmed"], at=T0 + 86400)
    assert recall(later, later, (clearance(CONFIRMED),)).fever is later
    assert not recall(later, later, (clearance(later),)).refused


def test_a_clearance_for_someone_else_clears_nobody():
    other = Clearance(entrant_id="P43", fever_screening_id=CONFIRMED.id, fever_at=CONFIRMED.created_at,
                      note="n", cleared_by="x", role="health", at=T0 + 3600)
    assert recall(CONFIRMED, CONFIRMED, (other,)).refused


def test_episode_prepends_the_open_retests_readings():
    new = (Reading(object_c=38.4, source="manual"),)
    readings, follows = episode(Memory(follows=SUSPECTED), new, None)
    assert readings == (*SUSPECTED.readings, *new) and follows == SUSPECTED.id


def test_episode_keeps_an_explicit_link_to_the_latest_screening():
    new = (Reading(object_c=38.4, source="manual"),)
    memory = Memory(follows=SUSPECTED, latest=SUSPECTED)
    assert episode(memory, (*SUSPECTED.readings, *new), SUSPECTED.id) == ((*SUSPECTED.readings, *new), SUSPECTED.id)
    assert episode(Memory(follows=SUSPECTED, fever=CONFIRMED, latest=SUSPECTED), new, None)[1] == SUSPECTED.id
    assert episode(Memory(), new, None) == (new, None)
    assert episode(Memory(), new, "anonymous-retest") == (new, "anonymous-retest")


def test_a_retest_of_a_screening_that_is_no_longer_the_latest_is_refused():
    # Staff pick a retest the duty screen still shows, but the person was screened at another gate since.
    newer = screening(Decision.RETEST, ["fever-suspected"], at=T0 + 1200, temp=38.7)
    with pytest.raises(StaleRetest, match="P42 was screened again at 08:02"):
        episode(recall(newer, None, ()), (Reading(object_c=36.5, source="manual"),), SUSPECTED.id)


def test_no_reading_is_never_joined_to_an_open_retest():
    assert episode(Memory(follows=SUSPECTED, latest=SUSPECTED), (), None) == ((), None)


def test_when_text_is_local_time():
    assert when_text(T0, T0) == "07:42"
