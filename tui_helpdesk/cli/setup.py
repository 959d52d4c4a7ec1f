"""`helpdesk db upgrade`, `helpdesk demo`, `helpdesk setup`: getting a database ready."""

from __future__ import annotations

import argparse
from typing import Any

from tui_helpdesk.cli import EXIT_CONFLICT, EXIT_OK, CliError, CommandContext


def register(sub: Any) -> None:
    p_db = sub.add_parser("db", help="database maintenance")
    db_sub = p_db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_sub.add_parser(
        "upgrade", help="migrate to the newest schema and add missing reference data"
    ).set_defaults(func=cmd_db_upgrade)

    p = sub.add_parser("demo", help="fill the database with a realistic demo help desk")
    p.add_argument("--tickets", type=int, default=300, help="how many tickets (default 300)")
    p.add_argument("--seed", type=int, default=42, help="random seed (same seed, same help desk)")
    p.add_argument("--reset", action="store_true", help="erase the database first (every row is lost)")
    p.add_argument("--admin", metavar="USERNAME", help="the admin agent to create (default: your login)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("setup", help="create the first admin on an empty database")
    p.add_argument("--username", help="login of the admin (default: your login)")
    p.add_argument("--name", required=True)
    p.add_argument("--email", default="")
    p.set_defaults(func=cmd_setup)


def cmd_db_upgrade(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk import db
    from tui_helpdesk.services import setup

    engine = db.get_engine(ctx.config.database_url, migrate=False)
    db.upgrade(engine)
    with db.session_scope(engine) as session:
        created = setup.ensure_defaults(session)
    ctx.emit(
        {
            "database": _safe_url(ctx.config.database_url),
            "revision": db.head_revision(),
            "defaults_created": created,
        },
        f"database at {db.head_revision()}: {_safe_url(ctx.config.database_url)}",
    )
    return EXIT_OK


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def cmd_demo(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk import db
    from tui_helpdesk.services import demo

    url = db.normalise_url(ctx.config.database_url)
    ctx.check_claim()  # the admin it makes is the claimed name: claiming it follows the --as rule
    if args.reset:
        from tui_helpdesk.services.identity import require_may_erase

        if not ctx.is_service_account():  # the service account may reset even a database that will not open
            require_may_erase(ctx.engine, ctx.login(), is_service_account=False)
        demo.reset_database(url)
    engine = db.get_engine(url)
    if demo.has_tickets(engine):
        raise CliError(
            "the database already has tickets; `helpdesk demo --reset` erases it and starts over",
            EXIT_CONFLICT,
        )
    summary = demo.build_demo(
        engine, tickets=args.tickets, seed=args.seed, admin_username=args.admin or ctx.username()
    )
    ctx.emit(
        summary,
        [f"demo help desk built in {_safe_url(url)}"]
        + [f"  {k}: {v}" for k, v in summary.items()]
        + ["run `helpdesk` to open it"],
    )
    return EXIT_OK


def cmd_setup(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.db import session_scope
    from tui_helpdesk.services import setup

    with session_scope(ctx.engine) as session:
        agent = setup.create_first_admin(session, args.username or ctx.login(), args.name, args.email)
        result = {"id": agent.id, "username": agent.username, "name": agent.name, "admin": agent.is_admin}
    ctx.emit(result, f"{result['username']} is the first admin")
    return EXIT_OK
