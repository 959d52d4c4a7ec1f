"""Who the CLI acts as (issue 9): the OS login's agent; `--as`/HELPDESK_AGENT only for an admin login or for
the account owning the help desk's data (services/identity.py).

The rest of tests/cli acts `--as root` (HELPDESK_AGENT=root in conftest's `run`) and that is honoured for
a real reason: the test process's account owns the temporary database directory, so it is the service
account. These tests change that one fact (the login, or the directory's owner) and nothing else.
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from tui_helpdesk.cli import EXIT_OK, EXIT_PERMISSION
from tui_helpdesk.config import load_config
from tui_helpdesk.db import get_engine, session_scope
from tui_helpdesk.models import Agent, AuditLog
from tui_helpdesk.services import identity

Run = Callable[..., Any]  # tests/cli/conftest.py: run(*argv) -> Result(code, out, err)


@pytest.fixture
def login(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """login("sam"): the process now runs as the OS account `sam` (who does not own the data dir)."""

    def _set(name: str) -> None:
        monkeypatch.setattr(identity, "os_login", lambda: name)

    return _set


def refusals(sqlite_url: str) -> list[AuditLog]:
    with session_scope(get_engine(sqlite_url), write=False) as s:
        rows = s.execute(select(AuditLog).where(AuditLog.action == identity.REFUSED)).scalars().all()
        s.expunge_all()
        return list(rows)


def test_the_tests_act_as_root_because_they_own_the_data(desk: Run) -> None:
    config = load_config()
    assert identity.owner_of(config.desk_dir) == identity.os_login()
    assert identity.is_service_account(identity.os_login(), config.desk_dir)


def test_a_plain_agent_login_using_as_is_refused_and_audited(
    desk: Run, sqlite_url: str, login, monkeypatch: pytest.MonkeyPatch
) -> None:
    login("sam")
    monkeypatch.delenv("HELPDESK_AGENT")
    result = desk("--as", "root", "--json", "setting", "get", "number_prefix")
    assert result.code == EXIT_PERMISSION and result.out == ""
    assert "may not act as 'root'" in result.error["error"]
    (row,) = refusals(sqlite_url)
    assert (row.actor, row.data) == ("sam", {"login": "sam", "claimed": "root"})
    with session_scope(get_engine(sqlite_url), write=False) as s:
        sam_id = s.execute(select(Agent.id).where(Agent.username == "sam")).scalar_one()
    assert row.agent_id == sam_id

    # HELPDESK_AGENT is the same claim; the login itself is fine
    monkeypatch.setenv("HELPDESK_AGENT", "olly")
    assert desk("ticket", "list").code == EXIT_PERMISSION
    assert [r.data["claimed"] for r in refusals(sqlite_url)] == ["root", "olly"]
    monkeypatch.delenv("HELPDESK_AGENT")
    mine = desk("--json", "ticket", "list")
    assert mine.code == EXIT_OK, mine.err
    # naming yourself is no claim
    assert desk("--as", "sam", "ticket", "list").code == EXIT_OK
    assert len(refusals(sqlite_url)) == 2


def test_a_login_that_is_no_agent_cannot_claim_one(desk: Run, sqlite_url: str, login) -> None:
    login("mallory")
    result = desk("--as", "sam", "ticket", "list")
    assert result.code == EXIT_PERMISSION and "may not act as 'sam'" in result.err
    assert [(r.actor, r.agent_id) for r in refusals(sqlite_url)] == [("mallory", None)]


def test_an_admin_login_may_act_as_another_agent(desk: Run, sqlite_url: str, login) -> None:
    assert desk("agent", "add", "ada", "--name", "Ada Admin", "--admin").code == EXIT_OK
    login("ada")
    result = desk(
        "--json",
        "--as",
        "sam",
        "ticket",
        "create",
        "--subject",
        "For sam",
        "--body",
        "b",
        "--contact",
        "x@acme.example",
        "--department",
        "Support",
    )
    assert result.code == EXIT_OK, result.err
    with session_scope(get_engine(sqlite_url), write=False) as s:
        (row,) = s.execute(select(AuditLog).where(AuditLog.action == "ticket.created")).scalars().all()
        assert row.actor == "sam"
    assert refusals(sqlite_url) == []


def test_the_account_owning_the_data_may_act_as_any_agent(desk: Run, sqlite_url: str, login) -> None:
    desk_dir = load_config().desk_dir  # SQLite: the database's folder; PostgreSQL: the data dir
    desk_dir.mkdir(parents=True, exist_ok=True)
    before = desk_dir.stat()
    os.chown(desk_dir, 4321, before.st_gid)  # a service account with no passwd entry, as in a container
    try:
        login("4321")
        assert identity.owner_of(desk_dir) == "4321"
        result = desk("--json", "--as", "olly", "ticket", "list")
        assert result.code == EXIT_OK, result.err
        login("sam")  # the same directory, another account: refused
        assert desk("--as", "olly", "ticket", "list").code == EXIT_PERMISSION
    finally:
        os.chown(desk_dir, before.st_uid, before.st_gid)


def test_the_app_refuses_the_claim_before_it_starts(
    desk: Run, sqlite_url: str, login, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = []
    app = types.ModuleType("tui_helpdesk.tui.app")
    app.run = lambda config: started.append(config) or 0  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tui_helpdesk.tui.app", app)
    login("sam")
    monkeypatch.delenv("HELPDESK_AGENT")
    result = desk("--as", "root")
    assert result.code == EXIT_PERMISSION and "may not act as 'root'" in result.err
    assert started == [] and len(refusals(sqlite_url)) == 1


@pytest.mark.parametrize("claimed", [None, "root"])
def test_the_app_resolves_its_actor_by_the_same_rule(
    desk: Run, sqlite_url: str, login, claimed: str | None
) -> None:
    from tui_helpdesk.tui.app import resolve_start

    login("sam")
    config = load_config()
    config = type(config)(**{**config.__dict__, "agent": claimed})
    actor, _, problem = resolve_start(config, get_engine(sqlite_url))
    if claimed is None:
        assert actor is not None and actor.username == "sam" and problem == ""
    else:
        assert actor is None and "may not act as 'root'" in problem
        assert len(refusals(sqlite_url)) == 1


def test_the_login_is_the_os_account_not_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import pwd

    monkeypatch.setenv("LOGNAME", "root-wannabe")
    monkeypatch.setenv("USER", "root-wannabe")
    assert identity.os_login() == pwd.getpwuid(os.geteuid()).pw_name


def test_only_an_admin_or_the_service_account_may_erase_the_desk(
    desk: Run, sqlite_url: str, login, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HELPDESK_AGENT")
    assert desk("--json", "ticket", "create", "--subject", "Keep me", "--body", "b", "--contact",
                "x@acme.example", "--department", "Support").code == EXIT_OK  # fmt: skip
    login("sam")
    refused = desk("demo", "--reset", "--tickets", "5")
    assert refused.code == EXIT_PERMISSION and "may not erase this help desk" in refused.err
    login("root")  # an admin agent (and here also the owner of the data)
    assert desk("--as", "root", "--json", "ticket", "list").data["total"] == 1  # nothing was erased
    assert desk("demo", "--reset", "--tickets", "5", "--admin", "root").code == EXIT_OK
