"""What screens share: one handler turns a failed worker into a line the staff can act on; a form answers once.

Workers run with ``exit_on_error=False``: a failed database read or export must never close the duty screen.
"""
from __future__ import annotations

from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from textual.worker import Worker, WorkerState

from domain.errors import GateError, StorageFailure

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
    dismiss it a second time, and that pops the gate screen itself (the station stops)."""

    _answered = False

    def answer(self, result=None) -> None:
        if not self._answered:
            self._answered = True
            self.dismiss(result)
