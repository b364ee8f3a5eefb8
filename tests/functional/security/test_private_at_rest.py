"""Private at rest: whatever the umask, the data folder is 0700 and the log, WAL, SHM, key and exports are 0600."""
import os
import stat

import pytest

from domain import MaskResult, MaskState, Reading
from gate.config import Config
from gate.station import Station
from storage.keys import key_path_for
from storage.log import ScreeningLog
from storage.private import log_files


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o000])
def test_log_wal_shm_key_and_folder_are_private_whatever_the_umask(tmp_path, umask, mask):
    umask(mask)
    db = tmp_path / "school" / "gate" / "gate.db"
    with ScreeningLog(db) as log:
        Station(Config(station_id="north"), log).screen(
            [Reading(object_c=36.6, body_c=36.6, source="manual", operator="wang", manual_reason="sensor-fault")],
            MaskResult(MaskState.YES), entrant_id="P1")
        with log.read() as conn:  # the log open: its WAL and SHM exist now
            conn.exec_driver_sql("SELECT count(*) FROM screenings").scalar()
            present = [p for p in log_files(db) if p.exists()]
            assert {p.name for p in present} >= {"gate.db", "gate.db-wal", "gate.db-shm"}
            assert {p.name: mode(p) for p in present} == {p.name: 0o600 for p in present}
    assert mode(key_path_for(db)) == 0o600
    assert mode(db.parent) == 0o700 and mode(db.parent.parent) == 0o700


@pytest.mark.parametrize("mask", [0o022, 0o000])
def test_exports_are_private_whatever_the_umask(tmp_path, umask, mask, gate):
    umask(mask)
    db = tmp_path / "gate.db"
    assert gate("screen", "--db", db, "--entrant", "P1", "--temp", "36.6")[0] == 0
    for fmt in ("csv", "xlsx", "jsonl"):
        out = tmp_path / f"export-{fmt}" / "inner"
        code, _, err = gate("export", "--db", db, "--from", "2000-01-01", "--to", "2100-01-01", "--format", fmt,
                            "--out", out)
        assert code == 0, err
        assert mode(out) == 0o700 and mode(out.parent) == 0o700
        files = list(out.iterdir())
        assert len(files) == 2 and all(mode(f) == 0o600 for f in files)


def test_an_old_logs_loose_modes_are_tightened_when_opened(tmp_path, umask):
    umask(0o000)
    db = tmp_path / "gate.db"
    ScreeningLog(db).close()
    os.chmod(db, 0o644)
    ScreeningLog(db).close()
    assert mode(db) == 0o600


def test_only_the_station_s_own_data_folder_is_tightened_not_a_folder_of_the_same_name(tmp_path, monkeypatch):
    """The default data folder (found without platformdirs when the folder's name already rules it out, storage.db)
    is tightened when a log is opened in it; the user's own folder, even one named gate-station, keeps its mode."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    own = tmp_path / "data" / "gate-station"
    shared = tmp_path / "shared" / "gate-station"
    for folder in (own, shared):
        folder.mkdir(parents=True)
        os.chmod(folder, 0o755)
        ScreeningLog(folder / "gate.db").close()
    assert mode(own) == 0o700
    assert mode(shared) == 0o755
