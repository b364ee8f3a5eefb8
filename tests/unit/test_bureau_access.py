"""The bureau's refusals said in one line (storage.bureau_access.denied): whatever the server's message, the line
names the upstream, stays one line and gives the GRANT the owner runs when the message names what was refused."""
from hypothesis import given, strategies as st

from storage.bureau_access import denied


def test_a_table_refused_gives_the_grant():
    line = denied("permission denied for table school_days", "gate_bureau", "postgresql://gate_bureau@db/screening")
    assert "GRANT SELECT ON school_days TO gate_bureau" in line and "postgresql://gate_bureau@db/screening" in line


def test_a_schema_refused_gives_usage():
    assert "GRANT USAGE ON SCHEMA public TO b" in denied("permission denied for schema public", "b", "u")


def test_a_row_policy_refusal_points_at_gate_role_schools():
    line = denied('new row violates row-level security policy for table "bureau_exports"', "b", "u")
    assert "gate_role_schools" in line and "bureau_exports" in line


@given(st.text(max_size=300), st.text(min_size=1, max_size=40))
def test_any_server_message_is_one_line(message, role):
    line = denied(message, role, "the-upstream")
    assert not any(c in line for c in "\n\r\x1b\x85\u2028\u2029\u202e") and "the-upstream" in line
