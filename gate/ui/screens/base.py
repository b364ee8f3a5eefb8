"""What screens share: one handler turns a failed worker into a line the staff can act on; a form answers once.

Workers run with ``exit_on_error=False``: a failed database read or export must never close the duty screen.
"""
from __future__ import annotations

from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from domain.errors import GateError, StorageFailure
from domain.reasons import ManualReason

STORAGE_ADVICE = "the log could not be read or written: check the disk and the log file (gate verify)"


def failure_text(task: str, error: BaseException) -> str:
    """``✖ loading today's figures failed: file is not a database — the log could not be read …``"""
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    detail = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    if isinstance(error, (StorageFailure, SQLAlchemyError)):
        advice = f" — {STORAGE_ADVICE}"
    elif isinstance(error, (GateError, ValueError, LookupError)):
        advice = ""  # a refusal or a bad value whose message already says what to do
    else:
        advice = " — try again, or call maintenance"
    return f"✖ {task or 'a background task'} failed: {detail}{advice}. The gate keeps working."


class ShowsWorkerFailures:
    """Mixin for screens: the one place where a worker's failure is shown (the app keeps running)."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            text = failure_text(event.worker.name, event.worker.error)
            self.app.log.error(text)
            self.app.notify(text, severity="error", timeout=15)


class AnswersOnce:
    """Mixin for forms: a form gives its answer once. A bouncing Enter, or Esc while a PIN check is on its way, would
    dismiss it a second time, and that pops the gate screen itself (the station stops). An answer that comes while
    another screen is over the form (the command palette, opened while a PIN was checked on a busy log) waits until
    the form is on top again: dismiss pops the top screen, which would close that one and leave the form open for good,
    deaf to Esc."""

    _answered = False
    _held: tuple | None = None  # the answer that came while another screen was over the form

    @property
    def answered(self) -> bool:
        """The form has given its answer: it is closing, or waits to be on top again to close."""
        return self._answered

    def answer(self, result=None) -> None:
        if not self._answered:
            self._answered = True
            if self.app.screen is self:
                self.dismiss(result)
            else:
                self._held = (result,)
                self.app.screen_change_signal.subscribe(self, self._on_top_again)

    def _on_top_again(self, screen) -> None:
        if screen is self and self._held is not None:
            (result,), self._held = self._held, None
            self.app.call_later(self.dismiss, result)


BACK = "传感器已恢复 / sensor back: measure at the gate (F2 = manual reading)"  # said when an offered form closes


class OfferedOnFault:
    """Mixin for the forms the station opens by itself when the sensor goes to fault (``reason``): when the sensor is
    back, ``withdraw`` closes the form if nobody typed into its ``TYPED`` fields yet (someone half-way through keeps
    it: they meant it). The form may still be being built, so the check waits for the next refresh."""

    TYPED = "Input"
    reason: str | None = None

    def withdraw(self) -> None:
        if self.reason == ManualReason.SENSOR_FAULT:
            self.call_after_refresh(self._withdraw_if_untouched)

    def _withdraw_if_untouched(self) -> None:
        if self.is_current and not any(field.value for field in self.query(self.TYPED).results(Input)):
            self.answer(None)
            self.notify(BACK, timeout=6)
