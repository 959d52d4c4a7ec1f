"""API keys: made once and kept hashed, who may make whose, and which keys let a request in."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout

import pytest
from sqlalchemy import Engine, select, update

from tui_helpdesk import cli, clock, db
from tui_helpdesk.db import session_scope
from tui_helpdesk.models import Agent, ApiKey, AuditLog, Department, Role
from tui_helpdesk.services import api_keys, setup
from tui_helpdesk.services.context import Actor, resolve_actor, transaction
from tui_helpdesk.services.errors import PermissionDenied, ValidationError


@pytest.fixture
def desk(sqlite_url: str) -> Iterator[tuple[Engine, dict[str, Actor]]]:
    engine = db.get_engine(sqlite_url)
    with session_scope(engine) as s:
        setup.create_first_admin(s, "root", "Root Admin")
        support = s.execute(select(Department).where(Department.name == "Support")).scalar_one()
        role = s.execute(select(Role).where(Role.name == "Agent")).scalar_one()
        for name in ("sam", "kim"):
            s.add(Agent(username=name, name=name.title(), primary_department_id=support.id, role_id=role.id))
    with session_scope(engine, write=False) as s:
        actors = {n: resolve_actor(s, n, "cli") for n in ("root", "sam", "kim")}
    yield engine, actors


def test_a_key_is_shown_once_stored_hashed_and_acts_as_its_agent(desk: tuple[Engine, dict[str, Actor]]) -> None:
    engine, who = desk
    with transaction(engine, who["sam"]) as tx:
        made = api_keys.create(tx, "sam", name="monitoring")
    with session_scope(engine, write=False) as s:
        row = s.get(ApiKey, made.row.id)
        assert made.key not in (row.key_hash, row.prefix, row.name) and row.key_hash == api_keys.hash_key(made.key)
    actor = api_keys.authenticate(engine, made.key, client="10.0.0.9")
    assert (actor.username, actor.agent_id, actor.is_admin, actor.origin) == ("sam", who["sam"].agent_id,
                                                                               False, "api")
    with transaction(engine, who["sam"]) as tx:
        (listed,) = api_keys.list_keys(tx)
    assert (listed.name, listed.owner, listed.prefix) == ("monitoring", "sam", made.row.prefix)
    assert listed.last_used_at is not None and listed.created_at is not None


def test_an_agent_makes_keys_for_themselves_an_admin_for_anyone(desk: tuple[Engine, dict[str, Actor]]) -> None:
    engine, who = desk
    with pytest.raises(PermissionDenied, match="only their own"), transaction(engine, who["sam"]) as tx:
        api_keys.create(tx, "kim")
    with transaction(engine, who["root"]) as tx:
        kims = api_keys.create(tx, "kim")
    with pytest.raises(PermissionDenied), transaction(engine, who["sam"]) as tx:
        api_keys.revoke(tx, kims.row.id)
    with transaction(engine, who["sam"]) as tx:
        assert api_keys.list_keys(tx) == []  # kim's key is not sam's to see
    with pytest.raises(ValidationError) as bad, transaction(engine, who["root"]) as tx:
        api_keys.create(tx, "kim", expires="2001-01-01")
    assert bad.value.field == "expires"


def test_revoked_expired_and_deactivated_keys_are_refused(desk: tuple[Engine, dict[str, Actor]]) -> None:
    engine, who = desk
    with transaction(engine, who["root"]) as tx:
        revoked = api_keys.create(tx, "sam")
        expiring = api_keys.create(tx, "sam", expires="2999-01-01")
        kims = api_keys.create(tx, "kim")
    with transaction(engine, who["root"]) as tx:
        api_keys.revoke(tx, revoked.row.id)
    with session_scope(engine) as s:
        s.execute(update(ApiKey).where(ApiKey.id == expiring.row.id).values(expires_at=clock.now()))
        s.execute(update(Agent).where(Agent.username == "kim").values(active=False))
    for key in (revoked.key, expiring.key, kims.key, "hd_nothing_here", ""):
        with pytest.raises(api_keys.Unauthenticated):
            api_keys.authenticate(engine, key, client="10.0.0.9")
    with session_scope(engine, write=False) as s:
        reasons = [a.data["reason"] for a in s.execute(
            select(AuditLog).where(AuditLog.action == api_keys.REFUSED)).scalars()]
    assert reasons == ["revoked key", "expired key", "agent deactivated", "unknown key", "no key"]


def test_the_cli_creates_lists_and_revokes(desk: tuple[Engine, dict[str, Actor]], sqlite_url: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPDESK_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("HELPDESK_AGENT", "root")

    def run(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = cli.main(list(argv))
        return code, out.getvalue(), err.getvalue()

    code, out, err = run("api-key", "create", "sam", "--name", "billing")
    assert code == 0 and out.startswith("hd_") and "shown once" in err
    code, out, _ = run("api-key", "list", "--json")
    (row,) = json.loads(out)["keys"]
    assert (row["name"], row["owner"], row["last_used_at"]) == ("billing", "sam", None)
    assert out.strip() and "hd_" not in out.replace(row["prefix"], "")  # the key itself is never listed
    code, _, err = run("api-key", "create", "sam", "--expires", "2001-01-01", "--json")
    assert code == 1 and json.loads(err)["field"] == "expires"
    assert run("api-key", "revoke", str(row["id"]))[0] == 0
    assert json.loads(run("api-key", "list", "--json")[1])["keys"] == []
