"""`helpdesk agent add|list`: the admin screen's agent use cases (services/admin), so both refuse the same
values with the same words."""

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
    from tui_helpdesk.cli import agent_ssh  # `agent key ...` and `agent totp ...`: the SSH login

    agent_ssh.register(agent_sub)


def _agent_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "username": row.username,
        "name": row.name,
        "email": row.email,
        "admin": row.is_admin,
        "active": row.active,
        "department": row.department or None,
        "role": row.role or None,
    }


def cmd_agent_add(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import admin

    values: dict[str, Any] = {
        "username": args.username,
        "name": args.name,
        "email": args.email or "",
        "is_admin": args.admin,
        "role": args.role,
    }
    if args.department:
        values["department"] = args.department
    with ctx.transaction() as tx:
        row = _agent_json(admin.create_agent(tx, **values))
    ctx.emit(row, f"agent {row['username']} added")
    return EXIT_OK


def cmd_agent_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import admin
    from tui_helpdesk.untrusted import clean_line

    with ctx.reading() as tx:
        rows = [_agent_json(a) for a in admin.list_agents(tx)]
    table = [["USERNAME", "NAME", "DEPARTMENT", "ROLE", "ADMIN", "ACTIVE"]]
    table += [
        [
            clean_line(r["username"]),
            clean_line(r["name"]),
            clean_line(r["department"] or "-"),
            clean_line(r["role"] or "-"),
            "yes" if r["admin"] else "",
            "" if r["active"] else "no",
        ]
        for r in rows
    ]
    ctx.emit(rows, aligned(table))
    return EXIT_OK
