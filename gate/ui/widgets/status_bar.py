"""The status bar: sensor health, calibration warning or lockout, log state, cluster alerts, open follow-up cases,
sync state, who is signed in.

One line at any width: at 80 columns everything does not fit, so each part has shorter forms and a priority (``fit``):
the least important part is shortened first, then dropped (a log that is fine, then who is signed in ...), and a
failure of the log, the sensor's health, a calibration lockout and a cluster alert are the last to go.
"""
from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from textual.reactive import reactive
from textual.widgets import Static

from gate.i18n import t
from gate.ui.widgets import Follows

SEPARATOR = " · "
NOT_SIGNED_IN = "未登录 / not signed in"
NO_USERS = "no users: PINs off"


@dataclass(frozen=True)
class Part:
    """One part of the bar: its forms, longest first; its priority (higher stays longer); whether it may go."""

    forms: tuple[str, ...]
    priority: int
    droppable: bool = True
    detail: int | None = None  # the priority of what the first shortening leaves out, when it is lower

    def cost(self, step: int) -> int:
        """What shortening from form ``step`` to the next costs."""
        return self.detail if step == 0 and self.detail is not None else self.priority


def clip(text: str, cells: int) -> str:
    """``text`` cut to ``cells`` terminal cells (a CJK character takes two), with "…" when cut."""
    if cell_len(text) <= cells:
        return text
    out, used = [], 0
    for ch in text:
        if used + cell_len(ch) > cells - 1:
            break
        out.append(ch)
        used += cell_len(ch)
    return "".join(out) + "…"


def fit(parts: list[Part], width: int) -> str:
    """The parts in their order within ``width`` cells: each step shortens the part of lowest priority that has a
    shorter form, or drops one, whichever costs less (dropping costs more than shortening the same part); then the room
    left goes back to the most important parts."""
    form = {i: 0 for i, p in enumerate(parts) if p.forms}

    def text() -> str:
        return SEPARATOR.join(parts[i].forms[form[i]] for i in sorted(form))

    while cell_len(text()) > width:
        moves = [(parts[i].cost(form[i]), 0, i) for i in form if form[i] + 1 < len(parts[i].forms)]
        moves += [(parts[i].priority + 30, 1, i) for i in form if parts[i].droppable]
        if not moves:
            break
        _cost, drop, i = min(moves)
        if drop:
            del form[i]
        else:
            form[i] += 1
    # Then give the room left back: a dropped part in its shortest form (by priority), then longer forms
    while True:
        grow = [(parts[i].cost(form[i] - 1), i, form[i] - 1) for i in form if form[i] > 0]
        grow += [(p.priority + 100, i, len(p.forms) - 1) for i, p in enumerate(parts) if p.forms and i not in form]
        for _cost, i, step in sorted(grow, reverse=True):
            was = form.get(i)
            form[i] = step
            if cell_len(text()) <= width:
                break
            if was is None:
                del form[i]
            else:
                form[i] = was
        else:
            return text()


class StatusBar(Follows, Static):
    sensor: reactive[str] = reactive("—")  # the sensor's id, "—" when the station has none (manual only)
    health: reactive[str] = reactive("offline")
    health_reason: reactive[str] = reactive("")
    calibration_text: reactive[str] = reactive("")
    calibration_usable: reactive[bool] = reactive(True)
    log_error: reactive[str] = reactive("")
    sync_text: reactive[str] = reactive("")
    who: reactive[str] = reactive("")
    cases_text: reactive[str] = reactive("")  # open follow-up cases, e.g. "追踪 open 3"
    alert_text: reactive[str] = reactive("")  # the first cluster alert, e.g. "⚠ 聚集 cluster 三年级二班 fever +1"
    language: reactive[str] = reactive("zh-CN")
    FOLLOWS = ("health", "log_error", "calibration_usable", "sensor")  # the colour (render follows every reactive)

    def parts(self) -> list[Part]:
        zh = self.language.startswith("zh")
        sensor = f"{t('ui.sensor', self.language)} {self.sensor}: {self.health}"
        parts = [Part((f"{sensor} {self.health_reason}".strip(), sensor, f"{clip(self.sensor, 10)}: {self.health}",
                       self.health), 90, droppable=False, detail=35)]
        if self.calibration_text:
            mark = "⚠ " if self.calibration_usable else "✖ "
            parts.append(Part((mark + self.calibration_text, mark + clip(self.calibration_text, 22),
                               mark + ("校准" if zh else "calibration")),
                              55 if self.calibration_usable else 85, droppable=self.calibration_usable))
        if self.log_error:
            parts.append(Part(("日志故障 LOG FAILURE", "LOG FAILURE"), 100, droppable=False))
        else:
            parts.append(Part(("日志正常" if zh else "log OK",), 5))
        if self.alert_text:
            short = self.alert_text.replace(" cluster", "") if zh else self.alert_text.replace("聚集 ", "")
            parts.append(Part((self.alert_text, short, clip(short, 18)), 90, droppable=False, detail=45))
        if self.cases_text:
            count = self.cases_text.rsplit(" ", 1)[-1]
            parts.append(Part((self.cases_text, f"追踪 {count}" if zh else f"cases {count}"), 50))
        if self.sync_text:
            trouble = "⚠" in self.sync_text
            pending = next((w for w in self.sync_text.split() if w.isdigit()), None)
            short = () if pending is None else (clip(self.sync_text, 24),
                                                f"{'同步' if zh else 'sync'} {pending}{' ⚠' if trouble else ''}")
            parts.append(Part((self.sync_text, *short), 45 if trouble else 20))
        if self.who:
            short = {NOT_SIGNED_IN: "未登录" if zh else "not signed in", NO_USERS: "无用户" if zh else "PINs off"}
            parts.append(Part((self.who, short.get(self.who) or clip(self.who.rsplit(" (", 1)[0], 12)), 40))
        if self.health in ("fault", "offline"):
            parts.append(Part(("F2 = 手测 / manual entry", "F2 手测" if zh else "F2 manual"), 70))
        return parts

    def render(self) -> str:
        return fit(self.parts(), max(self.size.width, 20))

    def follow(self) -> None:
        sensor_trouble = self.health != "ok" and self.sensor != "—"
        self.set_class(sensor_trouble or bool(self.log_error) or not self.calibration_usable, "problem")

