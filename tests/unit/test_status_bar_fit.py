"""The status bar's fitting (gate.ui.widgets.status_bar.fit) for any parts and width: the line fits whenever the
parts that may not go fit in their shortest forms, those parts are always there, and a line that fits is left whole."""
from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len

from gate.ui.widgets.status_bar import SEPARATOR, Part, StatusBar, clip, fit

TEXT = st.text(st.sampled_from("ab 三年级二班⚠✖·:0123"), min_size=1, max_size=30)
PART = st.builds(lambda forms, priority, droppable, detail: Part(tuple(sorted(set(forms), key=cell_len,
                                                                              reverse=True)), priority, droppable,
                                                                 detail),
                 st.lists(TEXT, min_size=1, max_size=3), st.integers(0, 100), st.booleans(),
                 st.none() | st.integers(0, 100))


@given(st.lists(PART, max_size=8), st.integers(10, 200))
def test_the_line_fits_and_keeps_what_may_not_go(parts, width):
    line = fit(parts, width)
    kept = [p for p in parts if not p.droppable]
    least = cell_len(SEPARATOR.join(p.forms[-1] for p in kept))
    if least <= width:
        assert cell_len(line) <= width
    for p in kept:  # each stays, in one of its forms
        assert any(f in line for f in p.forms)
    if cell_len(SEPARATOR.join(p.forms[0] for p in parts)) <= width:
        assert line == SEPARATOR.join(p.forms[0] for p in parts)


@given(TEXT, st.integers(2, 40))
def test_clip_cuts_to_the_cells_given(text, cells):
    cut = clip(text, cells)
    assert cell_len(cut) <= max(cells, 1) and (cut == text or cut.endswith("…"))


def test_the_longest_ids_and_class_names_still_fit_80_columns():
    for language in ("en", "zh-CN"):
        bar = StatusBar()
        bar.language, bar.sensor, bar.health = language, "S" * 64, "fault"
        bar.health_reason = "no data for 3 s " * 4
        bar.calibration_text, bar.calibration_usable = "locked: daily check failed " * 3, False
        bar.log_error = "disk I/O error"
        bar.alert_text = f"⚠ 聚集 cluster {'班' * 64} fever +3"
        bar.cases_text, bar.sync_text, bar.who = "追踪 open 1234", "sync: 99999 pending ⚠ upstream unreachable", \
            "a-teacher-with-a-very-long-name (teacher)"
        line = fit(bar.parts(), 78)
        assert cell_len(line) <= 78, line
        assert "fault" in line and "LOG FAILURE" in line and "✖" in line and "班" in line, line
