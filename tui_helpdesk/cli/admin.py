"""`helpdesk admin <entity> list|add|edit|archive|delete`: the admin screens' use cases for scripts.

Entities: departments, statuses, priorities, topics, agents, teams, orgs, contacts (plus
`helpdesk admin contacts import FILE.csv`). Every command goes through services/admin, so the
validation, refusals and audit are the ones the app has. `--json` prints rows as JSON.
Registered by tui_helpdesk.cli (see its docstring for the contract); imports of the services happen in the handlers.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

BOOL = "yes|no"


@dataclass(frozen=True)
class Opt:
    flag: str  # --flag on the command line
    field: str  # the service's keyword
    help: str
    metavar: str | None = None


@dataclass(frozen=True)
class Entity:
    command: str
    noun: str
    key_field: str  # the positional of `add` (name, username, email)
    prefix: str  # services.admin.<verb>_<prefix>
    columns: tuple[str, ...]  # row attributes `list` prints
    options: tuple[Opt, ...]
    match: tuple[str, ...] = ("name",)  # row attributes a REF may name
    archive: bool = True
    list_prefix: str = ""


ENTITIES: tuple[Entity, ...] = (
    Entity(
        "departments",
        "department",
        "name",
        "department",
        ("id", "path", "state", "manager", "email"),
        (
            Opt("--parent", "parent", "parent department (name or id; '' clears)"),
            Opt("--manager", "manager", "manager (agent login)"),
            Opt("--sla-plan", "sla_plan", "default SLA plan"),
            Opt("--default-priority", "default_priority", "default priority"),
            Opt("--state", "state", "active, archived or disabled"),
            Opt("--email", "email", "From address of replies"),
            Opt("--signature", "signature", "signature text"),
        ),
        list_prefix="departments",
    ),
    Entity(
        "statuses",
        "status",
        "name",
        "status",
        ("id", "name", "state", "sort_order", "color", "is_default", "archived"),
        (
            Opt("--state", "state", "new, open, pending, resolved or closed"),
            Opt("--order", "sort_order", "position in lists"),
            Opt("--color", "color", "colour name or #rrggbb"),
            Opt("--default", "is_default", "the default status of its state", BOOL),
        ),
        list_prefix="statuses",
    ),
    Entity(
        "priorities",
        "priority",
        "name",
        "priority",
        ("id", "name", "rank", "color", "is_default"),
        (
            Opt("--rank", "rank", "higher is more urgent"),
            Opt("--color", "color", "colour name or #rrggbb"),
            Opt("--default", "is_default", "the default priority", BOOL),
        ),
        archive=False,
        list_prefix="priorities",
    ),
    Entity(
        "topics",
        "help topic",
        "name",
        "topic",
        ("id", "path", "department", "priority", "active"),
        (
            Opt("--parent", "parent", "parent topic (id or name)"),
            Opt("--department", "department", "department"),
            Opt("--priority", "priority", "priority"),
            Opt("--sla-plan", "sla_plan", "SLA plan"),
            Opt("--agent", "auto_assign_agent", "auto-assign to this agent"),
            Opt("--team", "auto_assign_team", "auto-assign to this team"),
            Opt("--active", "active", "offered for new tickets", BOOL),
        ),
        match=("path", "name"),
        list_prefix="topics",
    ),
    Entity(
        "agents",
        "agent",
        "username",
        "agent",
        ("id", "username", "name", "email", "department", "role", "is_admin", "active"),
        (
            Opt("--name", "name", "full name"),
            Opt("--email", "email", "email address"),
            Opt("--department", "department", "primary department"),
            Opt("--role", "role", "role in the primary department"),
            Opt("--admin", "is_admin", "admin of the help desk", BOOL),
            Opt("--active", "active", "may log in", BOOL),
        ),
        match=("username", "email"),
        list_prefix="agents",
    ),
    Entity(
        "teams",
        "team",
        "name",
        "team",
        ("id", "name", "lead", "members", "active"),
        (
            Opt("--lead", "lead", "team lead (agent login)"),
            Opt("--members", "members", "comma-separated agent logins (replaces the members)"),
            Opt("--active", "active", "in use", BOOL),
        ),
        list_prefix="teams",
    ),
    Entity(
        "orgs",
        "organization",
        "name",
        "organization",
        ("id", "name", "domains", "contacts", "archived"),
        (
            Opt("--domains", "domains", "comma-separated email domains (replaces them)"),
            Opt("--notes", "notes", "notes"),
        ),
        list_prefix="organizations",
    ),
    Entity(
        "contacts",
        "contact",
        "email",
        "contact",
        ("id", "email", "name", "phone", "organization", "archived"),
        (
            Opt("--name", "name", "name"),
            Opt("--phone", "phone", "phone"),
            Opt("--organization", "organization", "organization (name or id)"),
        ),
        match=("email",),
        list_prefix="contacts",
    ),
)


def register(subparsers: Any) -> None:
    admin_parser = subparsers.add_parser("admin", help="departments, statuses, agents and other admin data")
    entities = admin_parser.add_subparsers(dest="admin_entity", required=True, metavar="ENTITY")
    for entity in ENTITIES:
        ep = entities.add_parser(entity.command, help=f"{entity.noun} admin")
        verbs = ep.add_subparsers(dest="admin_verb", required=True, metavar="ACTION")
        p = verbs.add_parser("list", help=f"list {entity.command}")
        if entity.command in ("contacts", "orgs"):
            p.add_argument("--search", default="", help="only those whose name or address contains this")
            p.add_argument("--limit", type=int, default=500)
        p.set_defaults(func=_handler(entity, "list"))
        p = verbs.add_parser("add", help=f"add a {entity.noun}")
        p.add_argument(entity.key_field)
        _add_options(p, entity, with_key=False)
        p.set_defaults(func=_handler(entity, "add"))
        p = verbs.add_parser("edit", help=f"change a {entity.noun}")
        p.add_argument("ref", help=f"id or {' or '.join(entity.match)}")
        _add_options(p, entity, with_key=True)
        p.set_defaults(func=_handler(entity, "edit"))
        if entity.archive:
            p = verbs.add_parser("archive", help=f"archive (deactivate) a {entity.noun}")
            p.add_argument("ref")
            p.set_defaults(func=_handler(entity, "archive"))
        p = verbs.add_parser("delete", help=f"delete a {entity.noun} (refused while in use)")
        p.add_argument("ref")
        p.set_defaults(func=_handler(entity, "delete"))
        if entity.command == "contacts":
            p = verbs.add_parser("import", help="import contacts from CSV (email,name,phone,organization)")
            p.add_argument("file")
            p.set_defaults(func=cmd_import_contacts)


def _add_options(p: argparse.ArgumentParser, entity: Entity, *, with_key: bool) -> None:
    if with_key:
        p.add_argument(
            f"--{entity.key_field}", dest=f"opt_{entity.key_field}", help=f"new {entity.key_field}"
        )
    for opt in entity.options:
        p.add_argument(opt.flag, dest=f"opt_{opt.field}", help=opt.help, metavar=opt.metavar)


def _values(args: argparse.Namespace, entity: Entity) -> dict[str, Any]:
    fields = [entity.key_field, *(o.field for o in entity.options)]
    values = {f: getattr(args, f"opt_{f}") for f in fields if getattr(args, f"opt_{f}", None) is not None}
    if entity.command == "statuses" and "state" not in values and getattr(args, "admin_verb", "") == "add":
        values["state"] = "open"
    return values


def _resolve(rows: Sequence[Any], ref: str, entity: Entity) -> Any:
    from tui_helpdesk.services.errors import NotFound

    text = ref.strip()
    if text.isdigit():
        for row in rows:
            if str(row.id) == text:
                return row
    for attr in entity.match:
        hits = [r for r in rows if str(getattr(r, attr, "")).lower() == text.lower()]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise NotFound(f"{len(hits)} {entity.command} match {ref!r}; use the id")
    raise NotFound(f"no {entity.noun} {ref!r}")


def _list(tx: Any, entity: Entity, args: argparse.Namespace) -> list[Any]:
    from tui_helpdesk.services import admin

    fn = getattr(admin, f"list_{entity.list_prefix}")
    if entity.command in ("contacts", "orgs"):
        return fn(tx, getattr(args, "search", "") or "", getattr(args, "limit", 500) or 500)
    return fn(tx)


def _find(tx: Any, entity: Entity, ref: str) -> Any:
    from tui_helpdesk.services import admin

    if entity.command in ("contacts", "orgs"):
        fn = getattr(admin, f"list_{entity.list_prefix}")
        rows = fn(tx, "" if ref.strip().isdigit() else ref, 50)
        if ref.strip().isdigit() and not any(str(r.id) == ref.strip() for r in rows):
            rows = fn(tx, "", 1_000_000)
        return _resolve(rows, ref, entity)
    return _resolve(_list(tx, entity, argparse.Namespace()), ref, entity)


def _lines(rows: Sequence[Any], columns: Sequence[str]) -> list[str]:
    def cell(row: Any, col: str) -> str:
        value = getattr(row, col)
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, tuple | list):
            return ",".join(str(v) for v in value)
        return "" if value is None else str(value)

    from tui_helpdesk.untrusted import clean_line

    table = [list(columns)] + [[clean_line(cell(r, c)) for c in columns] for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(columns))]
    return ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in table]


def _handler(entity: Entity, verb: str) -> Callable[[argparse.Namespace, Any], int | None]:
    def handle(args: argparse.Namespace, ctx: Any) -> int | None:
        from tui_helpdesk.services import admin

        if verb == "list":
            with ctx.reading() as tx:
                rows = _list(tx, entity, args)
            ctx.emit(rows, text=_lines(rows, entity.columns))
            return 0
        with ctx.transaction() as tx:
            if verb == "add":
                values = _values(args, entity)
                values[entity.key_field] = getattr(args, entity.key_field)
                row = getattr(admin, f"create_{entity.prefix}")(tx, **values)
                ctx.emit(row, text=f"added {entity.noun} {row.id}")
                return 0
            target = _find(tx, entity, args.ref)
            if verb == "edit":
                row = getattr(admin, f"update_{entity.prefix}")(tx, target.id, **_values(args, entity))
                ctx.emit(row, text=f"saved {entity.noun} {row.id}")
            elif verb == "archive":
                row = getattr(admin, f"archive_{entity.prefix}")(tx, target.id)
                ctx.emit(row, text=f"archived {entity.noun} {row.id}")
            else:
                getattr(admin, f"delete_{entity.prefix}")(tx, target.id)
                ctx.emit({"deleted": target.id}, text=f"deleted {entity.noun} {target.id}")
        return 0

    return handle


def cmd_import_contacts(args: argparse.Namespace, ctx: Any) -> int:
    """Good rows are imported; bad ones are listed by line, and the exit code is 1 if any were rejected."""
    from tui_helpdesk.services import admin

    with ctx.transaction() as tx:
        report = admin.import_contacts_file(tx, args.file)
    lines = [report.summary()] + [
        f"line {e.line}: {e.email or '(no email)'}: {e.message}" for e in report.errors
    ]
    ctx.emit(report, text=lines)
    return 1 if report.errors else 0
