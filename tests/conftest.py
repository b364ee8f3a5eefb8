import gc
from pathlib import Path

import pytest
from hypothesis import settings

from tests.pg import PostgresServer
from tests.support import GATE, ROOT, env_with_root, poll_until  # noqa: F401  (older tests import them from here)

# Hypothesis's per-example deadline (200 ms by default) is a wall-clock assertion: on a loaded 2-core machine the first
# example of a test that imports a module lazily took 289 ms and failed a full run. Speed is measured in bench/.
settings.register_profile("gate", deadline=None)
settings.load_profile("gate")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "gate.db"


@pytest.fixture
def sim_factory(tmp_path: Path):
    """Start simulators on real ptys; all are stopped at the end of the test.

    The simulated devices run in this process: a full collection of the test runner's garbage holds every thread,
    the simulator's too (up to 2.3 s on a loaded 2-core machine), and a simulator silent for 2 s is a sensor fault
    that a real device (whose bytes the kernel keeps) never shows. So, as `gate screen` does after start-up
    (gate.cli.parse), what lived before the test is frozen out of the collections during it."""
    from sim.simulator import Simulator

    gc.freeze()
    started = []

    def make(protocol: str = "gy-mcu90614", scenario="normal-morning", seed: int = 1, **kw):
        sim = Simulator(protocol, scenario, link=tmp_path / f"tty-{protocol}-{len(started)}", seed=seed, **kw)
        started.append(sim)
        return sim.start()

    try:
        yield make
    finally:
        for sim in started:
            sim.stop()
        gc.unfreeze()  # the runner's garbage is collectable again


@pytest.fixture(scope="session")
def pg():
    """One throwaway PostgreSQL 15 server for the whole run (tests/pg.py), started when a test first needs it; each
    test (or module) makes its own databases on it with ``pg.create_db(name)``."""
    server = PostgresServer().init()
    yield server
    server.destroy()


@pytest.fixture(autouse=True)
def _pg_left_running(request):
    """A test that crashes the shared server on purpose and fails before starting it again does not leave it down
    for the tests after it."""
    yield
    if "pg" in request.fixturenames:
        server = request.getfixturevalue("pg")
        if not server.running:
            server.start()
            server.wait_ready()
