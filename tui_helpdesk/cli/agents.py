"""`helpdesk agent add|list`."""

from __future__ import annotations

import argparse
from typing import Any

from tui_helpdesk.cli import EXIT_OK, CommandContext
from tui_helpdesk.cli.output import aligned


def register(sub: Any) -> None:
    p_agent = sub.add_parser("agent", help="agents")
    agent_sub = p_agent.add_subparsers(dest="agent_command", metavar="ACTION", required=True)
    p = agent_sub.add_parser("add", help="add an agent (admins only)")
    p.add_argument("username")
    p.add_argument("--name", required=True)
    p.add_argument("--email", default="")
    p.add_argument("--admin", action="store_true")
    p.add_argument("--department", help="primary department")
    p.add_argument("--role", default="Agent", help="role in the primary department (default Agent)")
    p.set_defaults(func=cmd_agent_add)
    agent_sub.add_parser("list", help="list agents").set_defaults(func=cmd_agent_list)


def _agent_row(session: Any, agent: Any) -> dict[str, Any]:
    from tui_helpdesk.models import Department, Role

    dept = session.get(Department, agent.primary_department_id) if agent.primary_department_id else None
    role = session.get(Role, agent.role_id) if agent.role_id else None
    return {
        "id": agent.id,
        "username": agent.username,
        "name": agent.name,
        "email": agent.email,
        "admin": agent.is_admin,
        "active": agent.active,
        "department": dept.name if dept else None,
        "role": role.name if role else None,
    }


def cmd_agent_add(args: argparse.Namespace, ctx: CommandContext) -> int:
    from sqlalchemy import func, select

    from tui_helpdesk.models import Agent, Role
    from tui_helpdesk.services import lookup
    from tui_helpdesk.services.context import audit, require_admin
    from tui_helpdesk.services.errors import Conflict, ValidationError

    with ctx.transaction() as tx:
        require_admin(tx)
        s = tx.session
        username = args.username.strip()
        if not username:
            raise ValidationError("username", "is required")
        if not args.name.strip():
            raise ValidationError("name", "is required")
        if s.execute(select(Agent).where(func.lower(Agent.username) == username.lower())).first():
            raise Conflict(f"an agent with the login {username!r} exists")
        dept = lookup.department(s, args.department) if args.department else None
        role = s.execute(select(Role).where(func.lower(Role.name) == args.role.lower())).scalars().first()
        if role is None:
            raise ValidationError("role", f"unknown role {args.role!r}")
        agent = Agent(
            username=username,
            name=args.name.strip(),
            email=(args.email or "").strip(),
            is_admin=args.admin,
            primary_department_id=dept.id if dept else None,
            role_id=role.id,
        )
        s.add(agent)
        s.flush()
        audit(tx, "agent.create", "agent", agent.id, username=username, admin=args.admin)
        row = _agent_row(s, agent)
    ctx.emit(row, f"agent {row['username']} added")
    return EXIT_OK


def cmd_agent_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    from sqlalchemy import select

    from tui_helpdesk.models import Agent

    with ctx.reading() as tx:
        rows = [
            _agent_row(tx.session, a)
            for a in tx.session.execute(select(Agent).order_by(Agent.username)).scalars()
        ]
    table = [["USERNAME", "NAME", "DEPARTMENT", "ROLE", "ADMIN", "ACTIVE"]]
    table += [
        [
            r["username"],
            r["name"],
            r["department"] or "-",
            r["role"] or "-",
            "yes" if r["admin"] else "",
            "" if r["active"] else "no",
        ]
        for r in rows
    ]
    ctx.emit(rows, aligned(table))
    return EXIT_OK
