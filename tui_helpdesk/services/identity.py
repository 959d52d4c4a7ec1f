"""Who is acting: the Unix login, mapped to an agent. A claimed name (`--as`, HELPDESK_AGENT, config `agent`)
is honoured only for an admin agent's login or for the service account (the OS account that owns the
directory holding the help desk's data); anyone else is refused, and the attempt is audited.

This guards the faces (CLI, app) against a claimed identity. It cannot guard the data itself: whoever can
write the SQLite file or reach the database directly can do anything, which is why on a shared host the data
directory belongs to the service account and agents reach the desk only through it.
"""

from __future__ import annotations

import os
import pwd
from pathlib import Path

from sqlalchemy import Engine, select

from tui_helpdesk.models import Agent

from .context import Actor, audit, reading, resolve_actor, transaction
from .errors import PermissionDenied

REFUSED = "auth.impersonation_refused"


def os_login() -> str:
    """The OS account this process runs as. Not getpass.getuser(): that believes LOGNAME and USER, which
    anyone can set, and the login is the one fact a claim is checked against."""
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:  # a uid without a passwd entry (some containers)
        return str(os.geteuid())


def owner_of(path: Path) -> str | None:
    """The account owning `path`, or its nearest existing parent while it does not exist yet (the account
    that will create it)."""
    path = Path(path).absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        uid = path.stat().st_uid
    except OSError:
        return None
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def is_service_account(login: str, desk_dir: Path) -> bool:
    """True when `login` owns the directory holding the help desk's data (Config.desk_dir)."""
    return owner_of(desk_dir) == login


def check_claim(
    engine: Engine, login: str, claimed: str | None, *, is_service_account: bool, origin: str
) -> None:
    """Refuses (PermissionDenied, after an audit row) a claim to act as another agent that `login` may not
    make. Says nothing about whether either name is an agent: establish_actor does."""
    if not claimed or claimed == login or is_service_account:
        return
    with reading(engine) as tx:
        me = tx.session.execute(select(Agent).where(Agent.username == login)).scalar_one_or_none()
        if me is not None and me.active and me.is_admin:
            return
        who = Actor(agent_id=me.id if me else None, username=login, is_admin=False, origin=origin)
    with transaction(engine, who) as tx:
        audit(tx, REFUSED, "agent", None, login=login, claimed=claimed)
    raise PermissionDenied(
        f"your login {login!r} may not act as {claimed!r}: only an admin agent or the account that owns the "
        "help desk's data may (drop --as, HELPDESK_AGENT and the config file's `agent`)"
    )


def establish_actor(
    engine: Engine, login: str, claimed: str | None, *, is_service_account: bool, origin: str
) -> Actor:
    """The actor for `login`, or for `claimed` when the login may act as someone else (check_claim).

    Raises NotFound when the name to act as is no agent, PermissionDenied when it is deactivated or the claim
    is refused."""
    check_claim(engine, login, claimed, is_service_account=is_service_account, origin=origin)
    with reading(engine) as tx:
        return resolve_actor(tx.session, claimed or login, origin)


def require_may_erase(engine: Engine, login: str, *, is_service_account: bool) -> None:
    """Erasing the whole desk (`helpdesk demo --reset`) is for the service account, an admin login, or
    anyone while the desk has no agents yet."""
    if is_service_account:
        return
    with reading(engine) as tx:
        agents = tx.session.execute(select(Agent.username, Agent.is_admin, Agent.active)).all()
    if not agents or any(name == login and admin and active for name, admin, active in agents):
        return
    raise PermissionDenied(
        f"your login {login!r} may not erase this help desk: only an admin agent or the account that owns "
        "its data may"
    )
