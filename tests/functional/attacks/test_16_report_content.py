"""Issue 16 G2 (a16d), against a real PostgreSQL: a pupil with a station role's password writes its own gate's daily
report upstream by hand with a content that is no report (not JSON, 100,000 '[', a list, NaN, a number of 400
digits, every figure a string). The bureau's daily table, its late list and the school's report still answer for
every school, and another school's row is what it was."""
import json

import pytest

from tests.functional.attacks.bureau_roles_setup import DAY, at, province, sql_as  # noqa: F401  (fixture)
from tests.functional.attacks.test_16_bureau import owner_sql
from tests.pg import unavailable_reason
from tests.support import Clock, run_gate

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
WHEN = Clock(at(DAY, 20, 0))


def bureau(url):
    daily = run_gate("bureau", "daily", "--upstream", url, "--date", DAY.isoformat(), "--json", clock=WHEN)
    assert daily.returncode == 0, daily.stderr
    late = run_gate("bureau", "late", "--upstream", url, "--date", DAY.isoformat(), clock=WHEN)
    assert late.returncode in (0, 1) and "Traceback" not in late.stderr, late.stderr
    school = run_gate("school", "report", "--upstream", url, "--school", "S-N", "--date", DAY.isoformat(), "--json",
                      clock=WHEN)
    assert school.returncode == 0, school.stderr
    return {r["school_id"]: r for r in json.loads(daily.stdout)}, late.returncode


def variants(content: str) -> dict[str, str]:
    base = json.loads(content)
    return {"not JSON": "not json {", "nested past the stack": "[" * 100_000, "a list": "[]",
            "NaN": content[:-1] + ', "unscreened": NaN}', "400 digits": json.dumps({**base, "unscreened": 10**400}),
            "strings": json.dumps({k: "x" for k in base})}


def test_a_daily_report_written_by_hand_as_no_report_breaks_no_schools_figures(province):
    url, north, _ = province
    ((content,),) = owner_sql(url, "SELECT content FROM daily_reports WHERE station_id = 'n1'")
    rows, late = bureau(url)
    for i, (what, text) in enumerate(variants(content).items()):
        sql_as(north, "INSERT INTO daily_reports (id, station_id, day, created_at, content, school_id) "
                      "VALUES (%s, 'n1', %s, %s, %s, 'S-N')", (f"a16d-{i}", DAY.isoformat(), at(DAY, 16, i), text))
        after, after_late = bureau(url)
        assert after["S-W"] == rows["S-W"] and after_late == late, what
