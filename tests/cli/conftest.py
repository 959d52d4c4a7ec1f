"""Running `helpdesk` in-process against the test's database, as a script would."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from sqlalchemy import select
from support.snapshots import Layers

from tui_helpdesk import cli, clock
from tui_helpdesk.db import get_engine, session_scope
from tui_helpdesk.models import Agent, Department, Role


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def data(self) -> Any:
        return json.loads(self.out)

    @property
    def error(self) -> dict[str, Any]:
        return json.loads(self.err)


Run = Callable[..., Result]
T = TypeVar("T")


def _runner(url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    monkeypatch.setenv("HELPDESK_DATABASE_URL", url)
    monkeypatch.setenv("HELPDESK_AGENT", "root")

    def _run(*argv: str, stdin: str | None = None) -> Result:
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        capsys.readouterr()
        code = cli.main([str(a) for a in argv])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return _run


# The CLI's tests run on SQLite: the CLI is a face (parse, call one service, print), and every rule and
# query it reaches is tested on both engines in tests/services. A CLI test whose subject differs by engine
# (erasing a desk, a demo over existing data) takes `db_url` itself and runs on both.
@pytest.fixture
def run(sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """run("ticket", "show", "1000", stdin=None) -> Result, acting as `root` unless --as is given."""
    return _runner(sqlite_url, monkeypatch, capsys)


@pytest.fixture
def engine_run(db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """`run` on both engines, for the CLI tests whose subject differs by engine."""
    return _runner(db_url, monkeypatch, capsys)


@pytest.fixture
def sqlite_run(sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """`run` on SQLite only: for tests whose subject is the process, not the database."""
    return _runner(sqlite_url, monkeypatch, capsys)


def _desk_layer(run: Run, url: str) -> tuple[str, Callable[[], None]]:
    def build() -> None:
        clock.set_now("2026-03-02T09:00:00Z")
        assert run("setup", "--username", "root", "--name", "Root Admin").code == 0
        with session_scope(get_engine(url)) as s:
            s.add(Department(name="Billing"))
            s.add(Department(name="Old", state="archived"))
        assert run("agent", "add", "sam", "--name", "Sam Agent", "--department", "Support").code == 0
        assert run("agent", "add", "olly", "--name", "Olly Outsider", "--department", "Billing").code == 0

    return "cli-desk", build


def _desk(run: Run, url: str, built_once: Layers) -> Run:
    built_once.stack(url, [_desk_layer(run, url)])
    with session_scope(get_engine(url)) as s:
        agent_role = s.execute(select(Role).where(Role.name == "Agent")).scalar_one()
        assert s.execute(select(Agent).where(Agent.username == "sam")).scalar_one().role_id == agent_role.id
    return run


@pytest.fixture
def desk(run: Run, sqlite_url: str, built_once: Layers) -> Run:
    """A small help desk made through the CLI where it can be: root (admin), sam (agent in Support),
    olly (agent in Billing); departments Support, Billing and the archived Old. Made once per session,
    then copied (tests/support/snapshots.py); the clock is pinned at 2026-03-02 09:00. SQLite (see `run`)."""
    return _desk(run, sqlite_url, built_once)


@pytest.fixture
def sqlite_desk(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], built_once: Layers
) -> Run:
    """The same desk, on SQLite only: for tests whose subject is not the database."""
    return _desk(_runner(sqlite_url, monkeypatch, capsys), sqlite_url, built_once)


Make = Callable[..., dict[str, Any]]


def _maker(desk: Run) -> Make:
    def _make(subject: str = "VPN is down", **options: str | list[str]) -> dict[str, Any]:
        args = {
            "body": "Cannot connect since 8am",
            "contact": "bob@acme.example",
            "department": "Support",
            "priority": "High",
        } | options
        argv = ["--json", "ticket", "create", "--subject", subject]
        for key, value in args.items():
            for one in value if isinstance(value, list) else [value]:
                argv += [f"--{key}", one]
        result = desk(*argv)
        assert result.code == 0, result.err
        return result.data

    return _make


@pytest.fixture
def make(desk: Run) -> Make:
    """make("Subject", priority="Low", tag=["a", "b"]) -> the created ticket's JSON."""
    return _maker(desk)


@pytest.fixture
def on_desk(run: Run, sqlite_url: str, built_once: Layers) -> Callable[[str, Callable[[Run, Make], T]], T]:
    """on_desk("name", build): the CLI desk plus what build(run, make) adds, made once per session and
    copied (SQLite, see `run`). A fixture using it should not ask for `desk` itself: asked for first, the
    desk would be copied in only to be replaced (a test may still ask for both, in any order)."""

    def layer(name: str, build: Callable[[Run, Make], T]) -> T:
        return built_once.stack(sqlite_url, [_desk_layer(run, sqlite_url), (name, lambda: build(run, _maker(run)))])[-1]

    return layer
