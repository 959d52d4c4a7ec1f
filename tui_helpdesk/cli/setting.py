"""`helpdesk setting get|set`."""

from __future__ import annotations

import argparse
from typing import Any

from tui_helpdesk.cli import EXIT_OK, CommandContext
from tui_helpdesk.cli.output import scalar

# settings never printed in a listing (shown only when asked for by name)
SECRET_SETTINGS = frozenset({"smtp_password", "mail_secret"})


def register(sub: Any) -> None:
    p_set = sub.add_parser("setting", help="help desk settings")
    set_sub = p_set.add_subparsers(dest="setting_command", metavar="ACTION", required=True)
    p = set_sub.add_parser("get", help="show one setting, or all")
    p.add_argument("key", nargs="?")
    p.set_defaults(func=cmd_setting_get)
    p = set_sub.add_parser("set", help="change a setting (admins only)")
    p.add_argument("key")
    p.add_argument("value")
    p.set_defaults(func=cmd_setting_set)


def cmd_setting_get(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import settings
    from tui_helpdesk.services.errors import ValidationError

    with ctx.reading() as tx:
        if args.key:
            if args.key not in settings.DEFAULTS:
                raise ValidationError(args.key, "unknown setting")
            value = settings.get(tx.session, args.key)
            ctx.emit({args.key: value}, scalar(value) if not isinstance(value, list) else ", ".join(value))
            return EXIT_OK
        values = {
            k: ("********" if k in SECRET_SETTINGS and v else v)
            for k, v in settings.all_settings(tx.session).items()
        }
    ctx.emit(values)
    return EXIT_OK


def cmd_setting_set(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import settings
    from tui_helpdesk.services.context import audit, require_admin

    with ctx.transaction() as tx:
        require_admin(tx)
        value = settings.put(tx.session, args.key, args.value)
        audit(
            tx,
            "setting.set",
            "setting",
            None,
            key=args.key,
            value="********" if args.key in SECRET_SETTINGS else value,
        )
    ctx.emit({args.key: value}, f"{args.key} = {value}")
    return EXIT_OK
