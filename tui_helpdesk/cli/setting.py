"""`helpdesk setting get|set|reset`: the admin screen's settings use cases (services/admin), so the CLI
refuses what the screen refuses. Secret settings are write-only: shown as `(set)` or `(not set)`."""

from __future__ import annotations

import argparse
from typing import Any

from tui_helpdesk.cli import EXIT_OK, CommandContext


def register(sub: Any) -> None:
    p_set = sub.add_parser("setting", help="help desk settings")
    set_sub = p_set.add_subparsers(dest="setting_command", metavar="ACTION", required=True)
    p = set_sub.add_parser("get", help="show one setting, or all (secrets only as set / not set)")
    p.add_argument("key", nargs="?")
    p.set_defaults(func=cmd_setting_get)
    p = set_sub.add_parser("set", help="change a setting (admins only; an empty value keeps a secret)")
    p.add_argument("key")
    p.add_argument("value")
    p.set_defaults(func=cmd_setting_set)
    p = set_sub.add_parser("reset", help="back to the built-in default, which clears a secret (admins only)")
    p.add_argument("key")
    p.set_defaults(func=cmd_setting_reset)


def _shown(row: Any) -> Any:
    """The value for --json: the real value, except a secret's, which only says whether it is set."""
    return row.display if row.secret else row.value


def _line(row: Any) -> str:
    from tui_helpdesk.untrusted import clean_line

    return clean_line(row.display)


def cmd_setting_get(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import admin
    from tui_helpdesk.services.errors import ValidationError

    with ctx.reading() as tx:
        rows = admin.list_settings(tx)
    if args.key:
        row = next((r for r in rows if r.key == args.key), None)
        if row is None:
            raise ValidationError(args.key, "unknown setting")
        ctx.emit({row.key: _shown(row)}, _line(row))
        return EXIT_OK
    ctx.emit({r.key: _shown(r) for r in rows}, [f"{r.key}: {_line(r)}" for r in rows])
    return EXIT_OK


def cmd_setting_set(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import admin

    with ctx.transaction() as tx:
        row = admin.set_setting(tx, args.key, args.value)
    ctx.emit({row.key: _shown(row)}, f"{row.key} = {_line(row)}")
    return EXIT_OK


def cmd_setting_reset(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import admin

    with ctx.transaction() as tx:
        row = admin.reset_setting(tx, args.key)
    ctx.emit({row.key: _shown(row)}, f"{row.key} = {_line(row)} (the default)")
    return EXIT_OK
