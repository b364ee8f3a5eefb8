"""The status bar: sensor health, calibration warning or lockout, log state, sync state, who is signed in, open
follow-up cases and cluster alerts."""
from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import Static

from gate.i18n import t


class StatusBar(Static):
    sensor: reactive[str] = reactive("—")  # the sensor's id, "—" when the station has none (manual only)
    health: reactive[str] = reactive("offline")
    health_reason: reactive[str] = reactive("")
    calibration_text: reactive[str] = reactive("")
    calibration_usable: reactive[bool] = reactive(True)
    log_error: reactive[str] = reactive("")
    sync_text: reactive[str] = reactive("")
    who: reactive[str] = reactive("")
    cases_text: reactive[str] = reactive("")  # open follow-up cases and any cluster alert
    language: reactive[str] = reactive("zh-CN")

    def render(self) -> str:
        log = "log OK" if not self.log_error else "LOG FAILURE"
        extra = "  F2 = 手测 / manual entry" if self.health in ("fault", "offline") else ""
        cal = ""
        if self.calibration_text:
            cal = (" · ⚠ " if self.calibration_usable else " · ✖ ") + self.calibration_text
        cases = f"{self.cases_text} · " if self.cases_text else ""  # before sync and user: 80 columns cut the end
        return (f"{t('ui.sensor', self.language)} {self.sensor}: {self.health} {self.health_reason}{cal} · {log} · "
                f"{cases}{self.sync_text} · {self.who}{extra}")

    def _restyle(self) -> None:
        sensor_trouble = self.health != "ok" and self.sensor != "—"
        self.set_class(sensor_trouble or bool(self.log_error) or not self.calibration_usable, "problem")

    def watch_health(self) -> None:
        self._restyle()

    def watch_log_error(self) -> None:
        self._restyle()

    def watch_calibration_usable(self) -> None:
        self._restyle()

    def watch_sensor(self) -> None:
        self._restyle()
