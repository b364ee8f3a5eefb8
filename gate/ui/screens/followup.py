"""Follow-up cases (因病缺勤追踪, F11) for the class teacher and the school doctor: the open cases of the signed-in
person's classes, and a form to close the one chosen with its outcome, symptoms, onset and a note.

The same rules as `gate followup close`: a teacher closes only its own classes' cases; the close is chained and
audited; a case closed as sent home / sick leave with a fever refuses the pupil until the 复课证明 is recorded.
"""
from __future__ import annotations

import datetime

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, Select, Static

from domain.case import NOTE_MAX, PEOPLE_OUTCOMES, Outcome, onset_from, symptoms_from
from domain.errors import UsageError
from domain.identifiers import IdentifierError, check_text
from gate.followup import list_scope
from gate.roles import scope
from gate.school_day import close_out
from gate.station import Station
from gate.ui.messages import CasesListed, Notice
from gate.ui.screens.base import ShowsWorkerFailures
from storage import cases
from storage.roster import roster


class FollowupScreen(ShowsWorkerFailures, Screen):
    BINDINGS = [Binding("escape,f11", "app.pop_screen", "Back / 返回")]
    DRAFT = "followup"  # what the idle sign-out keeps for the same user (gate/ui/drafts.py)
    FIELDS = ("symptoms", "onset", "note")

    def __init__(self, station: Station, user, operator: str):
        super().__init__()
        self.station = station
        self.user = user  # None on a station without users: every class
        self.operator = operator
        self.scope_classes = scope(user.role, user.classes) if user is not None else None
        self.shown: list = []
        self.names: dict = {}
        self.restoring: dict | None = None  # a draft kept by the idle sign-out, given back once the cases are read

    def compose(self) -> ComposeResult:
        with Vertical(id="followup"):
            yield Label("", id="fu-title")
            yield Static("", id="fu-scope")
            # The form above the list: notifications stack up from the bottom right, where a Close button would sit
            # under the last one's toast (a mouse user's first click only dismissed it)
            # in two compact rows, and the highlighted case in full under the list: readable at 80x24
            with Horizontal(classes="fu-row"):
                yield Select([(f"{o.value}", o.value) for o in PEOPLE_OUTCOMES], prompt="结果 / outcome",
                             id="fu-outcome", compact=True)
                yield Input(placeholder="症状 / symptoms: fever,cough", id="fu-symptoms", compact=True)
            with Horizontal(classes="fu-row"):
                yield Input(placeholder="发病 / onset YYYY-MM-DD", id="fu-onset", compact=True)
                yield Input(placeholder="备注 / note", id="fu-note", compact=True)
                yield Button("结案 / Close case", id="fu-close", variant="primary", compact=True)
            yield Static("", id="fu-error")
            yield Static("", id="fu-done")
            yield DataTable(id="fu-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="fu-detail")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#fu-table", DataTable)
        table.add_columns("case", "day", "session", "reason", "class", "id", "name", "gate 校门")
        self.load_cases()
        drafts = getattr(self.app, "drafts", None)
        self.restoring = drafts.take(self.user.name if self.user else None, self.DRAFT) if drafts else None

    def draft(self) -> dict | None:
        """The close form as typed (and the case chosen), if anything was typed or chosen."""
        values = {k: self.query_one(f"#fu-{k}", Input).value for k in self.FIELDS}
        outcome = self.query_one("#fu-outcome", Select).value
        if not any(v.strip() for v in values.values()) and outcome is Select.BLANK:
            return None
        table = self.query_one("#fu-table", DataTable)
        row = table.cursor_row if self.shown and table.cursor_row is not None else None
        case = self.shown[row].case_id if row is not None and row < len(self.shown) else None
        return {**values, "outcome": None if outcome is Select.BLANK else outcome, "case": case}

    def _restore(self, draft: dict) -> None:
        for k in self.FIELDS:
            field = self.query_one(f"#fu-{k}", Input)
            field.select_on_focus = False  # a restored note selected on focus would be replaced by the next key
            field.value, field.cursor_position = draft[k], len(draft[k])
        if draft["outcome"] is not None:
            self.query_one("#fu-outcome", Select).value = draft["outcome"]
        rows = [c.case_id for c in self.shown]
        if draft["case"] in rows:  # the same case, if it is still open
            self.query_one("#fu-table", DataTable).move_cursor(row=rows.index(draft["case"]))
        self.notify("已恢复您未完成的结案表单 / your unfinished case form is back", timeout=6)

    @work(thread=True, exclusive=True, group="cases", exit_on_error=False, name="loading the follow-up cases")
    def load_cases(self) -> None:
        cfg = self.station.config
        close_out(self.station.log, cfg, self.app.clock())
        found = cases.listed(self.station.log, open_only=True, classes=self.scope_classes)
        names = {e.roster_id: e.name for e in roster(self.station.log)}
        self.post_message(CasesListed(found, names, list_scope(self.station.log, cfg)))

    def on_cases_listed(self, msg: CasesListed) -> None:
        self.shown, self.names = list(msg.cases), msg.names
        self.query_one("#fu-detail", Static).update("")
        who = ", ".join(self.scope_classes) if self.scope_classes is not None else "全部班级 / every class"
        self.query_one("#fu-title", Label).update(f"追踪 / follow-up — {who}: {len(self.shown)} open")
        self.query_one("#fu-scope", Static).update(msg.scope)
        table = self.query_one("#fu-table", DataTable)
        table.clear()
        for c in self.shown:
            table.add_row(c.short_id, c.day, c.session or "-", c.reason.value, c.class_name or "-", c.entrant_id,
                          msg.names.get(c.entrant_id, ""), c.gate, key=c.case_id)
        if self.restoring is not None:
            draft, self.restoring = self.restoring, None
            self._restore(draft)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """The highlighted case in full, wrapped: the name and the gate are never cut at 80 columns."""
        if 0 <= event.cursor_row < len(self.shown):
            c = self.shown[event.cursor_row]
            self.query_one("#fu-detail", Static).update(
                f"{c.short_id} · {c.day} {c.session or '-'} · {c.reason.value} · {c.class_name or '-'} · "
                f"{c.entrant_id} {self.names.get(c.entrant_id, '')} · 校门 gate {c.gate}")

    def _error(self, text: str) -> None:
        self.query_one("#fu-error", Static).update(text)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "fu-close":
            self.submit()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.submit()

    def submit(self) -> None:
        table = self.query_one("#fu-table", DataTable)
        if not self.shown or table.cursor_row is None or table.cursor_row >= len(self.shown):
            self._error("先选择一个病例 / choose a case first")
            return
        if not self.app.may("followup-close"):
            self._error("结案需要班主任或校医 / closing a case needs the class teacher or the school doctor")
            return
        case = self.shown[table.cursor_row]
        outcome = self.query_one("#fu-outcome", Select).value
        if outcome is Select.BLANK:
            self._error("请选择结果 / choose the outcome")
            return
        try:
            symptoms = symptoms_from(self.query_one("#fu-symptoms", Input).value)
            onset_text = self.query_one("#fu-onset", Input).value.strip()
            today = datetime.date.fromtimestamp(self.app.clock())
            onset = onset_from(onset_text, today, case.day) if onset_text else None
            note_text = self.query_one("#fu-note", Input).value
            note = check_text(note_text, "note", max_len=NOTE_MAX) if note_text.strip() else ""
        except (ValueError, IdentifierError) as exc:
            self._error(str(exc))
            return
        self._error("")
        self.query_one("#fu-done", Static).update("")
        self.close_case(case.case_id, Outcome(outcome), symptoms, onset, note)

    @work(thread=True, group="cases-close", exit_on_error=False, name="closing the case")
    def close_case(self, case_id: str, outcome: Outcome, symptoms: tuple, onset: str | None, note: str) -> None:
        try:
            c = cases.close_case(self.station.log, case_id, station_id=self.station.config.station_id,
                                 outcome=outcome, symptoms=symptoms, onset=onset, note=note, by=self.operator,
                                 role=self.user.role if self.user else "", at=self.app.clock(),
                                 classes=self.scope_classes)
        except (cases.CaseRefused, UsageError) as exc:
            self.post_message(Notice(str(exc), False))
            return
        extra = " — 复课证明 needed before return" if c.needs_certificate else ""
        self.post_message(Notice(f"✔ case {c.short_id} of {c.entrant_id} closed: {c.outcome}{extra}", True))
        self.load_cases()

    def on_notice(self, msg: Notice) -> None:
        """Said on the screen's own lines, under the form: no toast over the list or the button."""
        if msg.ok:
            self.query_one("#fu-done", Static).update(msg.text)
        else:
            self._error(msg.text)
