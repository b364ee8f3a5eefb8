"""The current check of the day (晨检 morning, 午检 noon ...) and its progress: seen / expected, as a bar."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import ProgressBar, Static

from gate.school_day import SessionState
from gate.ui.widgets import Follows


class SessionProgress(Follows, Horizontal):
    FOLLOWS = ("state", "language")
    state: reactive[SessionState] = reactive(SessionState(None), always_update=True)
    language: reactive[str] = reactive("zh-CN")

    def compose(self) -> ComposeResult:
        yield Static(id="session-text")
        yield ProgressBar(id="session-bar", show_eta=False)

    def follow(self) -> None:
        st = self.state
        self.query_one("#session-text", Static).update(st.text(self.language))
        bar = self.query_one("#session-bar", ProgressBar)
        bar.display = st.name is not None and st.expected > 0
        if bar.display:
            bar.update(total=st.expected, progress=min(st.seen, st.expected))
