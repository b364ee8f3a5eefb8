"""A sync round stops Python's cyclic garbage collector while its batches go up (they are freed by their counts; the
collector would only walk them again and again) and leaves it as it found it: on for the station that had it on, even
when the upstream cannot be reached, and off for a caller that had stopped it."""
import gc

import pytest

from storage.log import ScreeningLog
from storage.sync import Sync, SyncError
from tests.support import fill_log


@pytest.fixture
def collector():
    was = gc.isenabled()
    yield
    (gc.enable if was else gc.disable)()


def test_a_round_stops_the_collector_while_it_sends_and_starts_it_again(tmp_path, collector):
    fill_log(tmp_path / "station.db", 25)
    during = []
    with ScreeningLog(tmp_path / "station.db") as log:
        gc.enable()
        sync = Sync(log, f"sqlite:///{tmp_path / 'district.db'}", batch_size=10)
        result = sync.once(progress=lambda _r: during.append(gc.isenabled()))
        sync.close()
        assert (result.sent, result.batches) == (25, 3) and during == [False] * 3
        assert gc.isenabled()

        gc.disable()  # a caller that stopped it (gate.cli while its modules load): a round does not start it
        other = Sync(log, f"sqlite:///{tmp_path / 'other.db'}", batch_size=10)
        assert other.once().sent == 25 and not gc.isenabled()
        other.close()


def test_a_round_that_fails_starts_the_collector_again(tmp_path, collector):
    fill_log(tmp_path / "station.db", 3)
    with ScreeningLog(tmp_path / "station.db") as log:
        gc.enable()
        sync = Sync(log, "postgresql://gate@127.0.0.1:1/nowhere", connect_timeout=1)
        with pytest.raises(SyncError):
            sync.once()
        assert gc.isenabled()
