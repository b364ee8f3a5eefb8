"""The cluster rules a gate sends upward in its daily report are text from outside when the school report reads them:
any text gives rules `[clusters]` would accept, or none; never an exception, never a rule `[clusters]` would refuse."""
import json

from hypothesis import given
from hypothesis import strategies as st

from gate.clusters import BOUNDS, Rules
from gate.config import ConfigError, parse_config
from storage.school_report import rules_sent

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                max_size=4), max_leaves=12)
NUMBER = st.integers(-5, 200) | st.booleans() | st.text(max_size=3) | st.none() | st.floats(allow_nan=True)


def accepted(rules: Rules) -> bool:
    return all(b["ge"] <= v <= b["le"] for v, b in zip((rules.same_day, rules.window_days, rules.window_pupils),
                                                        BOUNDS.values()))


@given(st.text(max_size=300) | JSON.map(json.dumps))
def test_any_report_gives_acceptable_rules_or_none(content):
    rules = Rules.sent(rules_sent(content))
    assert rules is None or accepted(rules)


@given(st.fixed_dictionaries({"same_day_pupils": NUMBER, "window_days": NUMBER, "window_pupils": NUMBER}))
def test_rules_are_believed_exactly_when_the_config_would_take_them(numbers):
    rules = Rules.sent(rules_sent(json.dumps({"cluster_rules": numbers})))
    try:
        cfg = parse_config({"clusters": numbers})
    except ConfigError:
        assert rules is None
    else:
        assert rules == Rules(cfg.cluster_same_day, cfg.cluster_window_days, cfg.cluster_window_pupils)


def test_odd_reports():
    for content in ("", "null", "[]", '{"cluster_rules": null}', '{"cluster_rules": [3, 3, 5]}', "1" * 5000,
                    '{"cluster_rules": {"same_day_pupils": 3, "window_days": 3}}', "[" * 100000):
        assert Rules.sent(rules_sent(content)) is None
    good = json.dumps({"cluster_rules": Rules(4, 5, 9).to_dict()})
    assert Rules.sent(rules_sent(good)) == Rules(4, 5, 9)
