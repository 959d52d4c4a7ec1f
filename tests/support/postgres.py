"""A throwaway PostgreSQL cluster, or the server named by HELPDESK_TEST_PG_URL."""

from __future__ import annotations

import fcntl
import glob
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from sqlalchemy.engine import URL, make_url

from .common import as_user, chown_tree, free_port, is_root, make_service_dir, user_exists

URL_ENV = "HELPDESK_TEST_PG_URL"
SUPERUSER = "postgres"


class PgUnavailable(RuntimeError):
    """No server to test against; the fixture turns this into a skip (or a failure in CI)."""


@dataclass
class PgServer:
    """A reachable PostgreSQL server on which the tests may create and drop databases."""

    url: str  # SQLAlchemy URL (postgresql+psycopg://...) of the maintenance database
    cluster_dir: Path | None = None  # set only for a cluster we started (and will stop)
    _stop: list[str] | None = field(default=None, repr=False)
    shared: Path | None = None  # the run's state dir when the xdist workers share this cluster

    def url_for(self, database: str) -> str:
        """The SQLAlchemy URL of another database on the same server."""
        return _render(make_url(self.url).set(database=database))

    def conninfo(self, database: str | None = None) -> str:
        """A libpq URI for psycopg.connect()."""
        url = make_url(self.url).set(drivername="postgresql")
        if database is not None:
            url = url.set(database=database)
        return _render(url)

    def admin(self) -> psycopg.Connection:
        """An autocommit connection to the maintenance database (CREATE/DROP DATABASE need one)."""
        return psycopg.connect(self.conninfo(), autocommit=True)

    def stop(self) -> None:
        if self.shared is not None:
            _leave_shared(self.shared)
            self.shared = None
            return
        if self._stop is not None:
            subprocess.run(self._stop, check=False, capture_output=True, timeout=60)
            self._stop = None
        if self.cluster_dir is not None:
            shutil.rmtree(self.cluster_dir, ignore_errors=True)
            self.cluster_dir = None


def _render(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def find_bindir() -> Path | None:
    """Debian keeps one bin dir per major version; prefer the newest, then whatever is on PATH."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return Path(candidates[-1]).parent
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    return None


def from_env() -> PgServer | None:
    raw = os.environ.get(URL_ENV, "").strip()
    if not raw:
        return None
    url = make_url(raw)
    if url.drivername in {"postgresql", "postgres"}:
        url = url.set(drivername="postgresql+psycopg")
    return PgServer(url=_render(url))


def start_cluster() -> PgServer:
    """initdb a cluster in a temp dir and start it on a free loopback port.

    PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` system user.
    """
    bindir = find_bindir()
    if bindir is None:
        raise PgUnavailable(
            "PostgreSQL server binaries not found (looked for /usr/lib/postgresql/*/bin/initdb and "
            f"initdb on PATH); install Debian's `postgresql` package or set {URL_ENV}"
        )
    owner: str | None = None
    if is_root():
        if not user_exists("postgres"):
            raise PgUnavailable("running as root but there is no `postgres` system user to own the cluster")
        owner = "postgres"

    base = make_service_dir("helpdesk-pg-")
    data, sockets, log = base / "data", base / "sock", base / "server.log"
    sockets.mkdir()
    if owner is not None:
        chown_tree(base, owner)

    initdb = as_user(
        owner,
        [
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ],
    )
    done = subprocess.run(initdb, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError(f"initdb failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")

    stop_cmd = as_user(owner, [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"])
    # Another process (an xdist sibling) can grab the port between free_port() and the bind: retry.
    last_error = ""
    for _attempt in range(5):
        port = free_port()
        # Durability buys nothing for throwaway data; turning it off makes CREATE DATABASE and commits fast.
        # Autovacuum is off because its workers visit each new database, and CREATE DATABASE ... TEMPLATE
        # waits (in 100 ms steps, up to 5 s) while any session is in the template: each per-test copy
        # took ~0.9 s with it on, ~0.1 s without.
        options = (
            f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c autovacuum=off"
        )
        start = as_user(
            owner,
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ],
        )
        done = subprocess.run(start, capture_output=True, text=True, timeout=120)
        if done.returncode == 0:
            url = f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{port}/postgres"
            return PgServer(url=url, cluster_dir=base, _stop=stop_cmd)
        last_error = done.stdout + done.stderr + (log.read_text(errors="replace") if log.exists() else "")
    shutil.rmtree(base, ignore_errors=True)
    raise RuntimeError(f"could not start PostgreSQL:\n{last_error}")


def check(server: PgServer) -> None:
    """Fail early with the server's own words when the URL is wrong."""
    try:
        with server.admin() as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        raise RuntimeError(f"cannot connect to PostgreSQL at {server.conninfo()}: {exc}") from exc


# --- One cluster for all the xdist workers of a run --------------------------------------------------------
#
# Each worker used to initdb and start its own cluster and migrate its own template (~3.5 s of CPU and a
# few seconds of wall per worker, counting the server's side). The first worker to need PostgreSQL starts
# it, under a lock in the run's temp root; the others use it, each with databases of its own (their names
# carry the worker's id), and the last one to finish stops it. `stop_shared` is for the xdist controller
# at the end of the run, in case a worker died holding it.


@contextmanager
def _locked(state: Path) -> Iterator[dict]:
    """The shared cluster's state ({} when none runs), read and written back under the run's lock."""
    state.mkdir(exist_ok=True)
    with open(state / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if this worker dies
        path = state / "cluster.json"
        data = json.loads(path.read_text()) if path.is_file() else {}
        before = dict(data)
        yield data
        if data != before:
            if data:
                path.write_text(json.dumps(data))
            else:
                path.unlink(missing_ok=True)


def shared_cluster(run_root: Path) -> PgServer:
    """The run's one cluster (started by start_cluster() if no worker has yet), for one more user."""
    state = run_root / "pg-cluster"
    with _locked(state) as data:
        if not data:
            server = start_cluster()
            data.update(url=server.url, cluster_dir=str(server.cluster_dir), stop=server._stop, users=0)
        data["users"] += 1
        return PgServer(url=data["url"], shared=state)


def _leave_shared(state: Path) -> None:
    with _locked(state) as data:
        if not data:
            return
        data["users"] -= 1
        if data["users"] <= 0:
            _stop_cluster(state, data)
            data.clear()


def stop_shared(run_root: Path) -> None:
    """Stop the run's shared cluster whoever still holds it (the end of the run)."""
    state = run_root / "pg-cluster"
    if (state / "cluster.json").is_file():
        with _locked(state) as data:
            if data:
                _stop_cluster(state, data)
                data.clear()


def _stop_cluster(state: Path, data: dict) -> None:
    PgServer(url=data["url"], cluster_dir=Path(data["cluster_dir"]), _stop=data["stop"]).stop()
    (state / "template").unlink(missing_ok=True)  # see databases.shared_pg_template
