"""Several syncs in one process against a new upstream migrate it at once (the reliability test's three stations,
a bureau PC's app beside its cron): Alembic keeps its command context in module globals, and two threads running its
upgrade at once took each other's away (KeyError 'config': the sync's watch thread ended and its gate sent nothing
more; seen once in a full run under load). Every thread now finds the schema migrated, none fails."""
import threading

import pytest

from storage import upstream as up
from tests.pg import unavailable_reason



@pytest.mark.parametrize("threads", [2, 6])
@pytest.mark.parametrize("server", ["sqlite", "postgresql"])
def test_threads_of_one_process_migrating_a_new_upstream_at_once_all_end_on_its_newest_schema(tmp_path, server,
                                                                                              threads, request):
    if server == "postgresql":
        if unavailable_reason() is not None:
            pytest.skip(str(unavailable_reason()))
        url = request.getfixturevalue("pg").create_db(f"migrate_threads_{threads}")
    else:  # no database lock orders the threads before Alembic's context is made: the race shows at once
        url = f"sqlite:///{tmp_path / 'district.db'}"
    engines = [up.make_upstream_engine(url) for _ in range(threads)]
    start, failed = threading.Barrier(threads), []

    def migrate(engine):
        start.wait()
        try:
            up.upgrade(engine)
        except Exception as exc:  # noqa: BLE001 - what this test looks for
            failed.append(repr(exc))

    workers = [threading.Thread(target=migrate, args=(e,)) for e in engines]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert failed == [] and not any(w.is_alive() for w in workers)
    with engines[0].connect() as conn:
        assert up.current_revision(conn) == up.newest_revision()
    for e in engines:
        e.dispose()
