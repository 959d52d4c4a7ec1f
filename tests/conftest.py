"""Fixtures every test file can use: databases, real mail servers, a clean environment.

Services are real: PostgreSQL (a throwaway cluster, or HELPDESK_TEST_PG_URL), Dovecot and aiosmtpd, all on
127.0.0.1. A missing server skips the tests that need it, unless HELPDESK_REQUIRE_SERVICES=1 (CI), where
it fails them. Tests that use a PostgreSQL database get the `postgres` marker and tests that use Dovecot
the `imap` marker automatically, so `-m "not postgres"` works.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

# Import the helpers by path so they load the same way under any pytest import mode.
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from support import databases, dovecot, postgres, snapshots, sql_cache  # noqa: E402
from support.common import unavailable  # noqa: E402
from support.dovecot import DovecotServer  # noqa: E402
from support.isolation import _isolated_environment  # noqa: E402,F401 - autouse, applies to every test
from support.postgres import PgServer  # noqa: E402
from support.smtp import SmtpServer  # noqa: E402

from tui_helpdesk import db  # noqa: E402

# Each test's new engine compiles its statements into one cache shared by all (see support/sql_cache.py),
# and on the PostgreSQL scratch database reuses the warm sessions earlier tests' engines closed
# (see support/databases.py).
db.make_engine = databases.warm_engines(sql_cache.sharing(db.make_engine))

# test_infra checks the autouse isolation fixture in an inner pytest session.
pytest_plugins = ["pytester"]

_POSTGRES_FIXTURES = {"pg_server", "_pg_template", "_pg_snapshots", "_pg_scratch"}
_IMAP_FIXTURES = {"imap_server", "clean_imap"}


# Modules holding the suite's longest tests (real processes, the whole corpus, a wheel build, fuzzing):
# they run first, so that under xdist no worker is left alone at the end with one of them while the other
# has nothing to do. Whole modules move, keeping their module-scoped fixtures to one setup.
_LONG_FIRST = (
    "tests/mail_flow/test_corpus.py",
    "tests/test_packaging.py",
    "tests/mail/test_mail_corpus_sweep.py",
    "tests/api/test_schema.py",
    "tests/cli/test_process_cli.py",
    "tests/services/test_demo.py",
    "tests/mail_flow/test_worker.py",
    "tests/test_door.py",
    "tests/mail_flow/test_pipe.py",
    "tests/cli/test_admin_cli.py",
)


def pytest_collection_finish(session: pytest.Session) -> None:
    # A worker's heap is large (SQLAlchemy, pydantic, Textual, every test module) and nearly all of it
    # lives to the end, yet each full collection walks all of it: 15-18% of a worker's CPU went to them
    # (tests/services 5.0 of 28 s, tests/tui/test_queue.py 6.5 of 39 s). Freezing what is there after
    # collection, and a full collection every 50 middle ones instead of 10, cut that to a third (+9 MB).
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 50)


_FREEZE_EVERY = 10
_finished = 0


def pytest_runtest_setup(item: pytest.Item) -> None:
    # Headless apps (every Pilot test) draw a frame only when a test reads it, share parsed stylesheets and
    # look message handlers up once (see support/headless.py). Installed once Textual is loaded (by the
    # first module or test that uses it): a run that loads no Textual does not import it for this (~0.4 s).
    global _headless_installed
    if not _headless_installed and "textual.app" in sys.modules:
        from support import headless

        headless.install()
        _headless_installed = True


_headless_installed = False


def pytest_runtest_logfinish(nodeid: str, location: tuple[str, int | None, str]) -> None:
    # What a test leaves alive (statement caches, built-once desks, imported screens) would be walked again
    # by every later full collection. Every few tests, collect the garbage and freeze what survives: the
    # later collections walk only the last few tests' objects (2.5-7% of tests/tui's CPU, same peak memory).
    global _finished
    _finished += 1
    if _finished % _FREEZE_EVERY == 0:
        gc.collect()
        gc.freeze()


def pytest_unconfigure(config: pytest.Config) -> None:
    # the xdist controller, at the end of the run: the workers' shared PostgreSQL cluster is stopped by
    # the last worker to leave it; this stops it if a worker died holding it
    if not hasattr(config, "workerinput") and getattr(config.option, "numprocesses", None):
        postgres.stop_shared(config._tmp_path_factory.getbasetemp())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def long_first(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return _LONG_FIRST.index(path) if path in _LONG_FIRST else len(_LONG_FIRST)

    items.sort(key=long_first)  # stable: the order within each module, and of the rest, is kept
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & _POSTGRES_FIXTURES:
            item.add_marker(pytest.mark.postgres)
        if names & _IMAP_FIXTURES:
            item.add_marker(pytest.mark.imap)


# --- PostgreSQL ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgServer]:
    """A PostgreSQL server for the whole session (under xdist one for the run, shared by the workers).

    HELPDESK_TEST_PG_URL=postgresql://user:pw@host:port/maintenance_db uses that server (the user needs
    CREATEDB). Otherwise a cluster is initdb'ed in a temp dir from Debian's /usr/lib/postgresql/*/bin and
    started on a free 127.0.0.1 port (as the `postgres` user when we are root), then stopped and deleted at
    the end. Yields a PgServer: `.url` (SQLAlchemy URL of the maintenance db), `.url_for(name)`,
    `.conninfo(name=None)` (libpq URI), `.admin()` (autocommit psycopg connection). Skips when no server
    binaries are found, fails instead under HELPDESK_REQUIRE_SERVICES=1.
    """
    server = postgres.from_env()
    if server is None:
        try:
            run_root = _xdist_run_root(tmp_path_factory)
            server = postgres.start_cluster() if run_root is None else postgres.shared_cluster(run_root)
        except postgres.PgUnavailable as exc:
            unavailable(str(exc))
    try:
        postgres.check(server)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def _pg_template(pg_server: PgServer) -> Iterator[str]:
    """Name of a database migrated to head once per session (once per run on a shared cluster); `db_url`
    clones it per test."""
    if pg_server.shared is not None:
        yield databases.shared_pg_template(pg_server)  # it goes with the cluster
        return
    name = databases.build_pg_template(pg_server)
    yield name
    databases.drop_pg(pg_server, name)


@pytest.fixture(scope="session")
def _pg_scratch(pg_server: PgServer, _pg_template: str) -> Iterator[databases.PgScratch]:
    """The one PostgreSQL database this session's tests share, emptied back to the template before each
    (see tests/support/databases.py for why not a fresh copy per test)."""
    scratch = databases.PgScratch(pg_server, _pg_template)
    yield scratch
    scratch.drop()


# --- SQLite and the parametrized database ---------------------------------------------------------


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per run (shared by the xdist workers); tests get copies."""
    return databases.shared_sqlite_template(
        tmp_path_factory.mktemp("sqlite-template"), _xdist_run_root(tmp_path_factory)
    )


def _xdist_run_root(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    # an xdist worker's basetemp is popen-gwN inside the run's own temp dir
    return tmp_path_factory.getbasetemp().parent if os.environ.get("PYTEST_XDIST_WORKER") else None


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database at the head revision, private to this test; the test runs once per engine
    (ids `sqlite` and `postgres`). SQLite: `sqlite:///<tmp_path>/db/helpdesk.db`, copied from a
    template. PostgreSQL: `postgresql+psycopg://...` of the session's scratch database, emptied back to the
    template's state before the test (the URL is the same for every test of a worker). The postgres variant skips (or fails, see pg_server) without a server.
    Teardown calls tui_helpdesk.db.dispose_all(), so engines from get_engine() die with the test."""
    if request.param == "sqlite":
        directory = tmp_path / "db"
        directory.mkdir()
        url = databases.copy_sqlite(request.getfixturevalue("_sqlite_template"), directory)
        try:
            yield url
        finally:
            db.dispose_all()
        return
    scratch: databases.PgScratch = request.getfixturevalue("_pg_scratch")
    scratch.reset()
    try:
        yield scratch.url
    finally:
        db.dispose_all()


@pytest.fixture
def sqlite_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Like `db_url` but SQLite only and not parametrized: for tests that gain nothing from running
    on both engines."""
    directory = tmp_path / "db"
    directory.mkdir(exist_ok=True)
    url = databases.copy_sqlite(request.getfixturevalue("_sqlite_template"), directory)
    try:
        yield url
    finally:
        db.dispose_all()


@pytest.fixture(scope="session")
def _sqlite_snapshots(tmp_path_factory: pytest.TempPathFactory) -> snapshots.SqliteSnapshots:
    return snapshots.SqliteSnapshots(tmp_path_factory.mktemp("sqlite-snapshots"))


@pytest.fixture(scope="session")
def _pg_snapshots(pg_server: PgServer) -> Iterator[snapshots.PgSnapshots]:
    store = snapshots.PgSnapshots(pg_server)
    yield store
    store.drop_all()


@pytest.fixture
def built_once(request: pytest.FixtureRequest) -> snapshots.Layers:
    """`built_once(url, "name", build)`: fill the test's database with what `build()` writes, built once per
    session (and engine kind) and copied into every later test's database; returns build's value (a
    copy) and pins the clock where the build left it. For fixtures whose data every test gets the same;
    see tests/support/snapshots.py (layers: a fixture on top of another's data names its own)."""

    def store_for(url: str) -> snapshots.Store:
        if make_url(url).get_backend_name() == "sqlite":
            return request.getfixturevalue("_sqlite_snapshots")
        return request.getfixturevalue("_pg_snapshots")

    return snapshots.Layers(store_for)


@pytest.fixture
def engine(db_url: str) -> Engine:
    """`tui_helpdesk.db.get_engine(db_url)`: the cached, already-migrated engine for this test's database
    (runs on both engines, like db_url)."""
    return db.get_engine(db_url)


# --- Mail servers ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def imap_server() -> Iterator[DovecotServer]:
    """A real Dovecot IMAP server for the session (one per xdist worker), plaintext on 127.0.0.1.

    Attributes: `host`, `port`, `users` ({"support": ..., "alice": ..., "bob": ...} name -> password).
    Helpers: `client(user)` (logged-in IMAPClient, use with `with`), `append(user, raw_bytes,
    folder="INBOX", flags=())` -> UID (creates the folder if needed), `reset(user)` (empty INBOX, delete
    other folders), `reset_all()`, `uidvalidity(user, folder="INBOX")`, `change_uidvalidity(user,
    folder="INBOX")` -> new value (messages stay, as after a server index rebuild), `log()`.
    State persists across tests in a worker: use `clean_imap` or call reset(). Skips without Dovecot,
    fails instead under HELPDESK_REQUIRE_SERVICES=1.
    """
    try:
        server = dovecot.start()
    except dovecot.DovecotUnavailable as exc:
        unavailable(str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def clean_imap(imap_server: DovecotServer) -> DovecotServer:
    """The session's Dovecot with every user's mailbox emptied before this test."""
    imap_server.reset_all()
    return imap_server


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """An aiosmtpd listener on a free 127.0.0.1 port for this test, started, no TLS, no AUTH.

    `host`, `port`; `received()` -> list of ReceivedMessage(mail_from, rcpt_tos tuple, data bytes exactly
    as sent; `.message` parses it); `clear()`; `stop()` closes the port (clients get connection refused);
    `start()` listens again on the same port; `running`.
    """
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
