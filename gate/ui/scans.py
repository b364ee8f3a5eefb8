"""A card scanned while another screen than the gate's is on top is never lost.

The scanner types into whatever has the keyboard: the help or the day view (nothing takes the keys), the auditor's
date field, the follow-up note. The app sees every key first (``GateApp.on_event``) and tells a scan from typing
(``drivers.card_scanner``): a screen only looked at (help, today, the command palette) closes and the gate screen
comes back with the person waiting for the reading; a screen with work on it (auditor, follow-up, maintenance, the
visitor form) stays as it was, the card's characters taken back out of the field they fell into, and a line says
the person is kept for the next reading. The manual-entry form and the sign-in take a card their own way.
"""
from __future__ import annotations

from textual import events
from textual.command import CommandPalette
from textual.widgets import Input

from domain.identifiers import IdentifierError, check_id
from drivers.card_scanner import Entry, KeyTimes
from gate.i18n import t
from gate.ui.screens.day import DayView
from gate.ui.screens.help import HelpScreen
from gate.ui.screens.manual import ManualEntry
from gate.ui.screens.signin import SignIn

VIEWS = (HelpScreen, DayView, CommandPalette)  # nothing typed there to keep: the gate screen comes back
OWN_WAY = (ManualEntry, SignIn)  # the scanner-speed run alone is the card, handed to the form (is_card, card_scanned)


class ScanCatcher:
    """Fed every key the app receives; takes an Enter that ends a card's id typed where the gate would lose it."""

    def __init__(self) -> None:
        self.keys = KeyTimes()
        self._before: tuple[Input, str, int] | None = None  # the field, its text and cursor before the last run

    def key(self, app, event: events.Key) -> bool:
        """True when this key was the Enter of a scan, handled here (it must go no further)."""
        if event.key != "enter":
            if event.is_printable:
                if self.keys.char(event.character, event.time):  # seen before the field: its text before the run
                    f = app.focused
                    self._before = (f, f.value, f.cursor_position) if isinstance(f, Input) else None
            else:
                self.keys.other()
            return False
        entry = self.keys.enter(event.time)
        routed = bool(entry.text) and self._route(app, entry)
        self._before = None
        return routed

    def _route(self, app, entry: Entry) -> bool:
        screen, focused = app.screen, app.focused
        if isinstance(screen, OWN_WAY):
            return self._into_form(screen, focused, entry)
        if screen is app.duty and getattr(focused, "id", None) == "entrant-input":
            return False
        field = focused if isinstance(focused, Input) else None
        text = entry.scanned if field is not None else entry.text.strip()  # typing into a field is typing
        if not text:
            return False
        if field is not None:
            self.take_back(field, entry.scanned)
        try:
            entrant = check_id(text, "entrant id")
        except IdentifierError as exc:  # a scanner can type anything: refused and said, never cut to a wrong id
            app.notify(t("ui.scan_refused", app.language, detail=str(exc)), severity="error", timeout=10)
            return True
        while isinstance(app.screen, VIEWS):
            view = app.screen
            view.workers.cancel_node(view)  # the palette's search, still running, would fill a list already gone
            app.pop_screen()
        app.duty.scanned(entrant)
        if app.screen is app.duty:
            app.duty.query_one("#entrant-input", Input).focus()
            app.notify(t("ui.scan_back", app.language, id=entrant), timeout=8)
        else:
            app.notify(t("ui.scan_kept", app.language, id=entrant), severity="warning", timeout=15)
        return True

    def _into_form(self, form, field, entry: Entry) -> bool:
        """The manual-entry form or the sign-in: only the keys that came at a scanner's speed are the card (what the
        teacher typed before them stays in the field, never glued to it); the form says what it does with it.
        Keys typed at a person's pace are left to the form: a PIN or a temperature is never taken as a card."""
        if not entry.scanned or not isinstance(field, Input) or field.screen is not form:
            return False
        glued = self._before is not None and self._before[0] is field and bool(self._before[1])
        if not form.is_card(field, entry.scanned, glued):
            return False
        self.take_back(field, entry.scanned)
        form.card_scanned(field, entry.scanned)
        return True

    def take_back(self, field: Input, typed: str) -> None:
        """The field as it was before the scanner typed into it (a text selected on focus, which the card replaced,
        comes back too); else what the scanner typed just before the cursor is taken out."""
        if self._before is not None and self._before[0] is field:
            _, field.value, field.cursor_position = self._before
            return
        end = field.cursor_position
        start = end - len(typed)
        if start >= 0 and field.value[start:end] == typed:
            field.value = field.value[:start] + field.value[end:]
            field.cursor_position = start
