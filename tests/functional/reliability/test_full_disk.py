"""A full disk: the station says "log failure" at once, admits nobody while it cannot log, corrupts nothing, and
recovers when space returns. On a real, small tmpfs."""
import os
import subprocess

import pytest

from drivers.base import Reading
from gate.config import Config
from domain import Decision, MaskResult, MaskState
from gate.station import Station
from storage.log import LogError, ScreeningLog
from tests.support import pilot_wait_until, typing_goes_to

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root (CI runs as root)")


@pytest.fixture
def small_disk(tmp_path):
    mnt = tmp_path / "disk"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], check=True)
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill_up(mnt):
    filler = mnt / "filler"
    try:
        with open(filler, "wb") as f:
            while True:
                f.write(b"\0" * 4096)
                f.flush()
    except OSError:  # ENOSPC, on a write or on the close's last flush
        pass
    return filler


def reading(v=36.5):
    return Reading(object_c=v, body_c=v, source="gun-1", ambient_c=21.0)


def test_full_disk_is_a_log_failure_never_an_admit_and_recovers(small_disk):
    log = ScreeningLog(small_disk / "gate.db")
    st = Station(Config(mask_mode="off"), log)
    stored = [st.screen([reading()], MaskResult(MaskState.YES)).id for _ in range(5)]
    filler = fill_up(small_disk)
    failures = 0
    for _ in range(200):  # WAL pages may still take a few rows: go on until the disk really refuses
        try:
            stored.append(st.screen([reading()], MaskResult(MaskState.YES)).id)
        except LogError as exc:
            failures += 1
            assert "disk is full" in str(exc) or "not saved" in str(exc)
            break
    assert failures == 1, "the disk never filled"
    with pytest.raises(LogError):  # still full: every attempt fails, nothing half-written
        st.screen([reading()], MaskResult(MaskState.YES))
    filler.unlink()  # space returns
    s = st.screen([reading()], MaskResult(MaskState.YES))
    assert s.decision is Decision.ADMIT
    stored.append(s.id)
    assert set(stored) == log.ids()
    assert log.verify().ok
    with log.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    log.close()


async def test_the_duty_screen_shows_log_failure_and_recovers(small_disk):
    from gate.ui.app import build_app

    log = ScreeningLog(small_disk / "gate.db")
    app = build_app(Config(language="en", mask_mode="off"), log)
    async with app.run_test(size=(100, 30)) as pilot:
        duty = app.duty
        banner = lambda: str(app.query_one("#banner").render())  # noqa: E731

        async def manual(text: str) -> None:
            await pilot.press("f2")
            assert await pilot_wait_until(pilot, lambda: typing_goes_to(app, "manual-temp"))
            await pilot.press(*text, "enter")

        filler = fill_up(small_disk)
        # write until the log itself is refused (the last WAL pages may still fit)
        for _ in range(200):
            try:
                app.station.screen([reading()], MaskResult(MaskState.YES))
            except LogError:
                break
        await manual("36.5")
        assert await pilot_wait_until(pilot, lambda: "LOG FAILURE" in banner()), banner()
        assert duty.latest is None and duty.decisions_shown == 0  # the failed reading was never shown as a decision
        assert "Do not admit" in str(app.query_one("#message").render())
        filler.unlink()
        await manual("36.6")
        assert await pilot_wait_until(pilot, lambda: duty.latest is not None and not duty.log_error)
        assert duty.latest.decision is Decision.ADMIT and "LOG FAILURE" not in banner()
        assert log.get(duty.latest.id) is not None
    assert log.verify().ok
    log.close()
