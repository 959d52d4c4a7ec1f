"""`helpdesk field list|add|edit|remove` (custom fields), `helpdesk asset list|add|edit|remove --org`, and
`helpdesk ticket set-field|set-asset`: thin over services/custom_fields.py and services/assets.py."""

from __future__ import annotations

import argparse
from typing import Any

from tui_helpdesk.cli import EXIT_OK, EXIT_USAGE, CliError, CommandContext
from tui_helpdesk.cli.output import aligned

REQUIRED = {"no": (False, False), "create": (True, False), "close": (False, True), "both": (True, True)}


def register(sub: Any) -> None:
    p_field = sub.add_parser("field", help="custom fields of tickets, contacts and organizations")
    fs = p_field.add_subparsers(dest="field_command", metavar="ACTION", required=True)
    p = fs.add_parser("list", help="the fields defined")
    p.add_argument("--target", choices=("ticket", "contact", "organization"))
    p.set_defaults(func=cmd_field_list)
    p = fs.add_parser("add", help="define a field (admins only)")
    p.add_argument("name", help="its variable: cf.NAME in filters, %%{ticket.custom.NAME} in templates")
    p.add_argument("--target", default="ticket", choices=("ticket", "contact", "organization"))
    _definition_options(p)
    p.set_defaults(func=cmd_field_add)
    p = fs.add_parser("edit", help="change a field (its name stays)")
    p.add_argument("name")
    p.add_argument("--target", choices=("ticket", "contact", "organization"))
    _definition_options(p)
    p.add_argument("--active", choices=("yes", "no"))
    p.set_defaults(func=cmd_field_edit)
    p = fs.add_parser("remove", help="remove a field (values already set stay on their rows)")
    p.add_argument("name")
    p.add_argument("--target", choices=("ticket", "contact", "organization"))
    p.set_defaults(func=cmd_field_remove)

    p = fs.add_parser("set", help="set a contact's or an organization's fields: NAME=VALUE (NAME= clears)")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--contact", help="contact email")
    who.add_argument("--org", help="organization name or id")
    p.add_argument("pairs", nargs="+", metavar="NAME=VALUE")
    p.set_defaults(func=cmd_field_set)

    p_asset = sub.add_parser("asset", help="an organization's assets")
    a = p_asset.add_subparsers(dest="asset_command", metavar="ACTION", required=True)
    p = a.add_parser("list", help="an organization's assets")
    p.add_argument("--org", required=True, help="organization name or id")
    p.set_defaults(func=cmd_asset_list)
    p = a.add_parser("add", help="add an asset (admins only)")
    p.add_argument("--org", required=True)
    p.add_argument("--name", required=True)
    _asset_options(p)
    p.set_defaults(func=cmd_asset_add)
    p = a.add_parser("edit", help="change an asset")
    p.add_argument("id", type=int)
    p.add_argument("--name")
    _asset_options(p)
    p.set_defaults(func=cmd_asset_edit)
    p = a.add_parser("remove", help="remove an asset no ticket names")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_asset_remove)


def register_ticket(t: Any) -> None:
    """`ticket set-field` and `ticket set-asset`, under `helpdesk ticket` (called by cli/tickets.py)."""
    from tui_helpdesk.cli.tickets import _expect, _ref

    p = t.add_parser("set-field", help="set custom fields: NAME=VALUE (NAME= clears it)")
    _ref(p)
    p.add_argument("pairs", nargs="+", metavar="NAME=VALUE")
    p.add_argument("--reason", default="", help="why (kept with the change; default: 'custom field')")
    _expect(p)
    p.set_defaults(func=cmd_ticket_set_field)
    p = t.add_parser("set-asset", help="the organization asset the ticket is about ('' clears it)")
    _ref(p)
    p.add_argument("asset", help="asset id, name or serial of the ticket's organization")
    p.add_argument("--reason", default="")
    _expect(p)
    p.set_defaults(func=cmd_ticket_set_asset)


def _definition_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--type", help="text, longtext, number, date, choice, multichoice, checkbox, contact, url")
    p.add_argument("--label")
    p.add_argument("--help-text", dest="help_text")
    p.add_argument("--choices", help="for choice and multichoice: a,b,c")
    p.add_argument("--required", choices=tuple(REQUIRED), help="when a value is required (tickets: create, close)")
    p.add_argument("--topic", action="append", help="applies to this help topic (repeatable)")
    p.add_argument("--department", action="append", help="applies to this department (repeatable)")
    p.add_argument("--everywhere", action="store_true", help="applies to every ticket (clears topics, depts)")
    p.add_argument("--order", type=int, dest="sort_order")


def _asset_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--type")
    p.add_argument("--serial")
    p.add_argument("--notes")


def _definition_values(args: argparse.Namespace) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in ("type", "label", "help_text", "choices", "sort_order"):
        if getattr(args, key, None) is not None:
            values[key] = getattr(args, key)
    if args.required:
        values["required_at_create"], values["required_at_close"] = REQUIRED[args.required]
    if args.everywhere:
        if args.topic or args.department:
            raise CliError("--everywhere: not with --topic or --department", EXIT_USAGE, "everywhere")
        values["topics"], values["departments"] = [], []
    if args.topic:
        values["topics"] = args.topic
    if args.department:
        values["departments"] = args.department
    if getattr(args, "active", None):
        values["active"] = args.active
    return values


def field_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id, "target": row.target, "name": row.name, "label": row.label, "help_text": row.help_text,
        "type": row.type, "choices": list(row.choices), "required_at_create": row.required_at_create,
        "required_at_close": row.required_at_close, "topics": list(row.topics),
        "departments": list(row.departments), "sort_order": row.sort_order, "active": row.active,
    }


def cmd_field_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import custom_fields
    from tui_helpdesk.untrusted import clean_line

    with ctx.reading() as tx:
        rows = custom_fields.list_fields(tx, args.target)
    table = [["TARGET", "NAME", "LABEL", "TYPE", "REQUIRED", "APPLIES TO", "ACTIVE"]]
    table += [[r.target, r.name, clean_line(r.label), r.type + (f" ({', '.join(r.choices)})" if r.choices else ""),
               r.required, clean_line(r.where), "" if r.active else "no"] for r in rows]
    ctx.emit([field_json(r) for r in rows], aligned(table) if rows else "no custom fields")
    return EXIT_OK


def cmd_field_add(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import custom_fields

    with ctx.transaction() as tx:
        row = custom_fields.create_field(tx, name=args.name, target=args.target, **_definition_values(args))
    ctx.emit(field_json(row), f"{row.target} field {row.name} added ({row.type})")
    return EXIT_OK


def cmd_field_edit(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import custom_fields

    values = _definition_values(args)
    if not values:
        raise CliError("nothing to change (give --label, --type, --required, ...)", EXIT_USAGE)
    with ctx.transaction() as tx:
        row = custom_fields.update_field(tx, args.name, target=args.target, **values)
    ctx.emit(field_json(row), f"{row.target} field {row.name} changed")
    return EXIT_OK


def cmd_field_remove(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import custom_fields

    with ctx.transaction() as tx:
        row = custom_fields.remove_field(tx, args.name, target=args.target)
    ctx.emit(field_json(row), f"{row.target} field {row.name} removed")
    return EXIT_OK


def cmd_field_set(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.cli.tickets import _pairs
    from tui_helpdesk.services import custom_fields, lookup

    values: dict[str, Any] = {k: (v if v != "" else None) for k, v in _pairs(args.pairs, "NAME=VALUE").items()}
    with ctx.transaction() as tx:
        if args.contact:
            target, row_id = "contact", lookup.contact(tx.session, args.contact, create=False).id
        else:
            target, row_id = "organization", lookup.organization(tx.session, args.org).id
        stored = custom_fields.set_record_values(tx, target, row_id, values)
    ctx.emit({"target": target, "id": row_id, "custom_fields": stored},
             ", ".join(f"{k}={custom_fields.display(None, v)}" for k, v in stored.items()) or "no values")
    return EXIT_OK


def asset_json(row: Any) -> dict[str, Any]:
    return {"id": row.id, "organization": row.organization, "name": row.name, "type": row.type,
            "serial": row.serial, "notes": row.notes, "tickets": row.tickets}


def _asset_values(args: argparse.Namespace) -> dict[str, Any]:
    return {k: getattr(args, k) for k in ("name", "type", "serial", "notes") if getattr(args, k, None) is not None}


def cmd_asset_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import assets
    from tui_helpdesk.untrusted import clean_line

    with ctx.reading() as tx:
        rows = assets.list_assets(tx, args.org)
    table = [["ID", "NAME", "TYPE", "SERIAL", "TICKETS"]]
    table += [[str(r.id), clean_line(r.name), clean_line(r.type), clean_line(r.serial), str(r.tickets)] for r in rows]
    ctx.emit([asset_json(r) for r in rows], aligned(table) if rows else "no assets")
    return EXIT_OK


def cmd_asset_add(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import assets

    with ctx.transaction() as tx:
        row = assets.add_asset(tx, args.org, **_asset_values(args))
    ctx.emit(asset_json(row), f"asset {row.id} {row.name} added to {row.organization}")
    return EXIT_OK


def cmd_asset_edit(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import assets

    values = _asset_values(args)
    if not values:
        raise CliError("nothing to change (give --name, --type, --serial or --notes)", EXIT_USAGE)
    with ctx.transaction() as tx:
        row = assets.update_asset(tx, args.id, **values)
    ctx.emit(asset_json(row), f"asset {row.id} changed")
    return EXIT_OK


def cmd_asset_remove(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import assets

    with ctx.transaction() as tx:
        row = assets.remove_asset(tx, args.id)
    ctx.emit(asset_json(row), f"asset {row.id} {row.name} removed")
    return EXIT_OK


def cmd_ticket_set_field(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.cli.tickets import _check_version, _emit_ticket, _pairs
    from tui_helpdesk.services import tickets

    values: dict[str, Any] = {k: (v if v != "" else None) for k, v in _pairs(args.pairs, "NAME=VALUE").items()}
    with ctx.transaction() as tx:
        _check_version(tx, args, args.ref)
        detail = tickets.update_fields(tx, args.ref, {"custom": values}, reason=args.reason or "custom field")
    _emit_ticket(ctx, detail)
    return EXIT_OK


def cmd_ticket_set_asset(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.cli.tickets import _check_version
    from tui_helpdesk.services import assets

    with ctx.transaction() as tx:
        _check_version(tx, args, args.ref)
        row = assets.set_ticket_asset(tx, args.ref, args.asset or None, reason=args.reason)
    ctx.emit(asset_json(row) if row else None, f"{args.ref}: asset {row.label if row else 'cleared'}")
    return EXIT_OK
