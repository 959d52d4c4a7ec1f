"""`helpdesk`: the terminal app (no subcommand) and the scripting interface (subcommands).

Thin by design: parse, call a service in one transaction, print. Heavy modules (SQLModel, alembic,
Textual, the services) are imported inside the handlers, so `helpdesk --help` starts fast.

Exit codes (scripts can rely on them):
    0  success
    1  generic failure or invalid input (a ValidationError names the field)
    2  usage error (unknown option, missing argument, bad cursor)
    3  not found (unknown ticket, entry, contact)
    4  permission denied (including "your login is not an agent")
    5  conflict (stale --expect-version, a state that forbids the change)
Errors print one line on stderr, `helpdesk: error: <message>`; with --json they print
`{"error": <message>, "field": <field or null>, "code": <exit code>}` on stderr instead.

The acting agent: `--as USERNAME`, else HELPDESK_AGENT or `agent` in the config file, else the Unix login.
`--json` and `--as` are accepted before or after the subcommand.

Extension contract (for tui_helpdesk.cli_mail, cli_lifecycle, cli_admin and any later module in
EXTENSIONS): the module defines `register(subparsers)`, called with the top-level subparsers action after
the built-in commands exist. It adds its commands with `subparsers.add_parser(name, help=...)` (nested
`add_subparsers()` is fine) and sets `func=handler` on each leaf parser via `set_defaults`. Parsers made this
way already carry `--json` and `--as`: do not add them again. A handler is called as `handler(args, ctx)`
and returns an exit code or None (0). `ctx` is a `CommandContext`:
    ctx.config        the process Config (load_config()), loaded on first use
    ctx.engine        the migrated engine for config.database_url, reference data ensured, made on first use
    ctx.actor         the acting agent (services.context.Actor), resolved on first use
    ctx.json          True when --json was given
    ctx.transaction() / ctx.reading()   `with` blocks yielding a services Tx as ctx.actor
    ctx.emit(obj, text=None)   prints obj as JSON with --json; otherwise `text` (a str or a list of lines)
                      or, when text is None, a readable rendering of obj
Handlers raise services.errors.* (or CliError) for failures; main() turns them into the exit codes above.
Keep the module's top-level imports light: it is imported on every `helpdesk` start.
"""

from __future__ import annotations

import argparse
import base64
import getpass
import importlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from tui_helpdesk.config import Config
    from tui_helpdesk.services.context import Actor, Tx

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_PERMISSION = 4
EXIT_CONFLICT = 5

EXTENSIONS = ("tui_helpdesk.cli_mail", "tui_helpdesk.cli_lifecycle", "tui_helpdesk.cli_admin")
LINK_TYPES = ("related_to", "parent_of", "child_of", "caused_by", "duplicate_of")
SORTS = ("newest", "oldest", "updated", "priority", "due")
STATES = ("new", "open", "pending", "resolved", "closed")
# settings never printed in a listing (shown only when asked for by name)
SECRET_SETTINGS = frozenset({"smtp_password", "mail_secret"})

Handler = Callable[[argparse.Namespace, "CommandContext"], "int | None"]


class CliError(Exception):
    """A failure detected by the CLI itself, with its exit code and the field at fault."""

    def __init__(self, message: str, code: int = EXIT_ERROR, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


class _Parser(argparse.ArgumentParser):
    """Every (sub)parser: usage errors raise instead of exiting; --json and --as work at any level."""

    def __init__(self, *args: Any, top_level: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Subcommand copies default to SUPPRESS so they never overwrite a value given before the subcommand.
        default_json: Any = False if top_level else argparse.SUPPRESS
        default_as: Any = None if top_level else argparse.SUPPRESS
        self.add_argument("--json", action="store_true", default=default_json, help="print JSON")
        self.add_argument(
            "--as",
            dest="as_user",
            metavar="USERNAME",
            default=default_as,
            help="act as this agent (default: HELPDESK_AGENT, config `agent`, the Unix login)",
        )

    def error(self, message: str) -> None:  # type: ignore[override]
        raise CliError(f"{self.prog}: {message}", EXIT_USAGE)


# --- the context handed to every handler -----------------------------------------------------------


class CommandContext:
    def __init__(self, args: argparse.Namespace, out: TextIO | None = None) -> None:
        self.args = args
        self.json: bool = bool(getattr(args, "json", False))
        self._out = out
        self._config: Config | None = None
        self._engine: Engine | None = None
        self._actor: Actor | None = None

    @property
    def out(self) -> TextIO:
        return self._out or sys.stdout

    @property
    def config(self) -> Config:
        if self._config is None:
            from tui_helpdesk.config import load_config

            self._config = load_config()
        return self._config

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from tui_helpdesk.db import get_engine, session_scope
            from tui_helpdesk.services import setup

            engine = get_engine(self.config.database_url)
            with session_scope(engine) as session:
                setup.ensure_defaults(session)
            self._engine = engine
        return self._engine

    def username(self) -> str:
        return getattr(self.args, "as_user", None) or self.config.agent or getpass.getuser()

    @property
    def actor(self) -> Actor:
        if self._actor is None:
            from tui_helpdesk.db import session_scope
            from tui_helpdesk.services.context import resolve_actor
            from tui_helpdesk.services.errors import NotFound

            name = self.username()
            with session_scope(self.engine, write=False) as session:
                try:
                    self._actor = resolve_actor(session, name, "cli")
                except NotFound as exc:
                    raise CliError(f"{exc} (or act as another agent with --as)", EXIT_PERMISSION) from exc
        return self._actor

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        from tui_helpdesk.services.context import transaction

        with transaction(self.engine, self.actor) as tx:
            yield tx

    @contextmanager
    def reading(self) -> Iterator[Tx]:
        from tui_helpdesk.services.context import reading

        with reading(self.engine, self.actor) as tx:
            yield tx

    def emit(self, obj: Any, text: str | Sequence[str] | None = None) -> None:
        if self.json:
            json.dump(jsonable(obj), self.out, indent=2, ensure_ascii=False)
            self.out.write("\n")
            return
        if text is None:
            text = _render(jsonable(obj))
        if not isinstance(text, str):
            text = "\n".join(text)
        self.out.write(text if text.endswith("\n") or not text else text + "\n")


def jsonable(value: Any) -> Any:
    if hasattr(value, "as_json"):
        return value.as_json()
    if is_dataclass(value) and not isinstance(value, type):
        return jsonable(asdict(value))
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _render(value: Any, indent: str = "") -> str:
    from tui_helpdesk.untrusted import clean_line

    if isinstance(value, dict):
        lines = []
        for k, v in value.items():
            if isinstance(v, dict | list) and v:
                lines.append(f"{indent}{k}:")
                lines.append(_render(v, indent + "  "))
            else:
                lines.append(f"{indent}{k}: {_scalar(v)}")
        return "\n".join(lines)
    if isinstance(value, list):
        return "\n".join(
            f"{indent}-\n{_render(v, indent + '  ')}" if isinstance(v, dict) else f"{indent}- {_scalar(v)}"
            for v in value
        )
    return indent + clean_line(_scalar(value))


def _scalar(value: Any) -> str:
    from tui_helpdesk.untrusted import clean_line

    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_scalar(v) for v in value) or "-"
    return clean_line(str(value))


# --- small helpers -------------------------------------------------------------------------------


def _pairs(items: Sequence[str] | None, option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise CliError(f"{option} expects key=value, got {item!r}", EXIT_USAGE, field=option.lstrip("-"))
        out[key.strip()] = value
    return out


def _body(args: argparse.Namespace, required: bool = True) -> str:
    """--body TEXT, --body - (stdin) or --edit ($EDITOR on a temp file, as git does)."""
    body = args.body
    if body == "-":
        body = sys.stdin.read()
    if getattr(args, "edit", False):
        body = _edit_text(body or "")
    if required and not (body or "").strip():
        raise CliError("body: is required (--body TEXT, --body - for stdin, or --edit)", field="body")
    return body or ""


def _edit_text(initial: str) -> str:
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    with tempfile.NamedTemporaryFile("w+", suffix=".md", prefix="helpdesk-", delete=False) as fh:
        fh.write(initial)
        path = fh.name
    try:
        # the editor value may carry arguments ("code --wait"), as git allows
        result = subprocess.run(
            f'{editor} "$HELPDESK_EDIT_FILE"',
            shell=True,
            check=False,
            env={**os.environ, "HELPDESK_EDIT_FILE": path},
        )
        if result.returncode != 0:
            raise CliError(f"the editor ({editor}) exited with status {result.returncode}; nothing was sent")
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    finally:
        os.unlink(path)


def _check_version(tx: Tx, args: argparse.Namespace, ref: str) -> None:
    """--expect-version: refuse a write based on a stale copy, for every write alike."""
    if getattr(args, "expect_version", None) is not None:
        from tui_helpdesk.services import tickets

        tickets.load(tx, ref, args.expect_version)


def _agent_ref(ctx: CommandContext, name: str | None) -> str | int | None:
    if name is None or name == "":
        return None
    if name.lower() == "me":
        if ctx.actor.agent_id is None:
            raise CliError("'me' needs an agent login", EXIT_PERMISSION, field="agent")
        return ctx.actor.agent_id
    return name


# --- rendering a ticket ----------------------------------------------------------------------------


def _fmt_time(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime("%Y-%m-%d %H:%M")


def _ticket_header(d: Any) -> list[str]:
    from tui_helpdesk.untrusted import clean_line

    def line(label: str, value: Any) -> str:
        return f"{label:<12} {clean_line(str(value)) if value not in (None, '') else '-'}"

    lines = [f"{d.number}  {clean_line(d.subject)}", ""]
    lines.append(line("Status", f"{d.status} ({d.state})" + ("  reopened" if d.reopened else "")))
    lines.append(line("Priority", d.priority))
    lines.append(line("Department", d.department))
    lines.append(line("Requester", f"{d.requester} <{d.requester_email}>" if d.requester_email else ""))
    lines.append(line("Organization", d.organization))
    lines.append(line("Assignee", " / ".join(x for x in (d.assignee, d.team) if x)))
    if d.topic:
        lines.append(line("Topic", d.topic))
    if d.category:
        lines.append(line("Category", " > ".join(x for x in (d.category, d.type, d.item) if x)))
    lines.append(line("Due", _fmt_time(d.due_at) + ("  OVERDUE" if d.is_overdue else "")))
    lines.append(line("Created", _fmt_time(d.created_at)))
    lines.append(line("Updated", f"{_fmt_time(d.updated_at)}  (version {d.version})"))
    if d.tags:
        lines.append(line("Tags", ", ".join(d.tags)))
    if d.collaborators:
        lines.append(line("CC", ", ".join(d.collaborators)))
    for link in d.links:
        lines.append(line("Link", f"{link.kind} {link.number} [{link.state}] {link.subject}"))
    if d.merged_into:
        lines.append(line("Merged into", d.merged_into))
    if d.merged_children:
        lines.append(line("Merged", ", ".join(d.merged_children)))
    if d.archived:
        lines.append(line("Archived", "yes"))
    if d.custom_fields:
        lines.append(line("Fields", ", ".join(f"{k}={v}" for k, v in d.custom_fields.items())))
    if d.time_logged:
        lines.append(line("Time", f"{d.time_logged} min"))
    if d.resolution_notes:
        lines.append(line("Resolution", d.resolution_notes))
    return lines


def _thread_lines(d: Any) -> list[str]:
    from tui_helpdesk.untrusted import clean

    labels = {"message": "Message", "reply": "Reply", "note": "Internal note"}
    lines: list[str] = []
    for item in d.thread:
        when = _fmt_time(item.created_at)
        if item.kind == "event":
            detail = ", ".join(f"{k}={v}" for k, v in item.data.items() if v not in (None, "", [], {}))
            lines.append(f"  · {when}  {item.author}: {item.event_kind}" + (f" ({detail})" if detail else ""))
            continue
        lines.append("")
        head = f"── {labels.get(item.kind, item.kind)} #{item.id} · {item.author} · {when}"
        if item.time_spent:
            head += f" · {item.time_spent} min"
        if item.ticket_id != d.id:
            head += f" · from merged ticket {item.ticket_id}"
        lines.append(head)
        if item.deleted:
            lines.append("   (deleted)")
        else:
            lines.extend("   " + text for text in clean(item.body).splitlines())
    return lines


def _emit_ticket(ctx: CommandContext, detail: Any, thread: bool = False) -> None:
    lines = _ticket_header(detail)
    if thread:
        lines += _thread_lines(detail)
    ctx.emit(detail, lines)


def _entry_json(entry: Any, detail: Any) -> dict[str, Any]:
    return {
        "entry": {
            "id": entry.id,
            "kind": entry.kind,
            "body": entry.body,
            "time_spent": entry.time_spent,
            "created_at": entry.created_at,
        },
        "ticket": {
            "id": detail.id,
            "number": detail.number,
            "version": detail.version,
            "state": detail.state,
            "status": detail.status,
        },
    }


# --- cursors -------------------------------------------------------------------------------------------


def encode_cursor(sort: str, cursor: Any) -> str:
    values = [{"t": v.isoformat()} if isinstance(v, datetime) else v for v in cursor.values]
    raw = json.dumps({"s": sort, "v": values, "id": cursor.id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(text: str, sort: str) -> Any:
    from tui_helpdesk import clock
    from tui_helpdesk.services.queries import Cursor

    try:
        raw = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        values = tuple(clock.parse_iso(v["t"]) if isinstance(v, dict) else v for v in raw["v"])
        cursor_sort, ident = raw["s"], int(raw["id"])
    except (ValueError, KeyError, TypeError) as exc:
        raise CliError(
            "--after: not a cursor printed by `helpdesk ticket list`", EXIT_USAGE, "after"
        ) from exc
    if cursor_sort != sort:
        raise CliError(
            f"--after: the cursor belongs to --sort {cursor_sort}, not {sort}", EXIT_USAGE, "after"
        )
    return Cursor(values, ident)


# --- handlers: database, demo, setup ------------------------------------------------------------------


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
    if args.reset:
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
        agent = setup.create_first_admin(session, args.username or getpass.getuser(), args.name, args.email)
        result = {"id": agent.id, "username": agent.username, "name": agent.name, "admin": agent.is_admin}
    ctx.emit(result, f"{result['username']} is the first admin")
    return EXIT_OK


# --- handlers: agents and settings --------------------------------------------------------------------


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
    ctx.emit(rows, _table(table))
    return EXIT_OK


def cmd_setting_get(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import settings
    from tui_helpdesk.services.errors import ValidationError

    with ctx.reading() as tx:
        if args.key:
            if args.key not in settings.DEFAULTS:
                raise ValidationError(args.key, "unknown setting")
            value = settings.get(tx.session, args.key)
            ctx.emit({args.key: value}, _scalar(value) if not isinstance(value, list) else ", ".join(value))
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


# --- handlers: tickets ---------------------------------------------------------------------------------


def _table(rows: list[list[str]]) -> list[str]:
    if not rows:
        return []
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def _list_query(args: argparse.Namespace, ctx: CommandContext, tx: Tx) -> Any:
    """The flags become filter-language terms so names resolve (and fail) exactly as in the queue's `/`."""
    from tui_helpdesk.services import filter_query
    from tui_helpdesk.services.context import department_ids_visible
    from tui_helpdesk.services.queries import TicketQuery

    parsed = filter_query.parse(args.query or "")
    terms = list(parsed.terms)
    words = list(parsed.words)

    def term(field: str, value: str, option: str) -> None:
        terms.append(filter_query.Term(field, value, f"{option} {value}", 0, 0))

    for value in args.status or ():
        term("status", value, "--status")
    for value in args.state or ():
        term("state", value, "--state")
    for value in args.priority or ():
        term("priority", value, "--priority")
    for value in args.department or ():
        term("department", value, "--department")
    for value in args.tag or ():
        term("tag", value, "--tag")
    for field, option in (
        ("assignee", "assignee"),
        ("team", "team"),
        ("organization", "org"),
        ("contact", "contact"),
        ("topic", "topic"),
    ):
        value = getattr(args, option)
        if value:
            term(field, value, f"--{option}")
    if args.overdue:
        term("is", "overdue", "--overdue")
    if args.archived:
        term("is", "archived", "--archived")
    if args.sort:
        term("sort", args.sort, "--sort")
    if args.text:
        words.append(args.text)
    visible = department_ids_visible(tx)
    base = TicketQuery()
    if visible is not None:
        base = TicketQuery(scope_department_ids=tuple(visible), scope_agent_id=tx.actor.agent_id)
    return filter_query.resolve(
        tx.session, filter_query.ParsedFilter(tuple(terms), tuple(words)), tx.actor.agent_id, base
    )


def cmd_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import queries
    from tui_helpdesk.untrusted import clean_line

    if args.limit < 1:
        raise CliError("--limit must be at least 1", EXIT_USAGE, "limit")
    with ctx.reading() as tx:
        query = _list_query(args, ctx, tx)
        after = decode_cursor(args.after, query.sort) if args.after else None
        page = queries.fetch_page(tx.session, query, after=after, limit=args.limit)
        total = queries.count(tx.session, query)
    cursor = encode_cursor(query.sort, page.next) if page.next is not None else None
    rows = [jsonable(r) for r in page.rows]
    table = [["NUMBER", "STATUS", "PRIORITY", "DEPARTMENT", "ASSIGNEE", "UPDATED", "SUBJECT"]]
    for r in page.rows:
        flags = ("!" if r.is_overdue else "") + ("↺" if r.reopened else "")
        table.append(
            [
                r.number + flags,
                r.status_name,
                r.priority_name,
                r.department_name,
                r.assignee_name or r.team_name or "-",
                _fmt_time(r.updated_at),
                clean_line(r.subject)[:70],
            ]
        )
    lines = _table(table) if page.rows else ["no tickets match"]
    lines.append(f"{len(page.rows)} of {total}" + (f"; next page: --after {cursor}" if cursor else ""))
    ctx.emit({"tickets": rows, "count": len(rows), "total": total, "sort": query.sort, "next": cursor}, lines)
    return EXIT_OK


def cmd_show(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import tickets

    with ctx.reading() as tx:
        detail = tickets.view(tx, args.ref, order=args.order.upper(), events=not args.no_events)
    _emit_ticket(ctx, detail, thread=True)
    return EXIT_OK


def cmd_create(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import tickets

    if args.body == "-" or args.edit:
        body = _body(args)
    else:
        body = args.body or ""
    with ctx.transaction() as tx:
        detail = tickets.create(
            tx,
            subject=args.subject or "",
            body=body,
            contact_email=args.contact,
            contact_name=args.name or "",
            department=args.department,
            topic=args.topic,
            priority=args.priority,
            status=args.status,
            category=args.category,
            type=args.type,
            item=args.item,
            tags=args.tag or (),
            custom_fields=_pairs(args.field, "--field"),
            assignee=_agent_ref(ctx, args.assignee),
            team=args.team,
            cc=args.cc or (),
            organization=args.org,
            source="cli",
        )
    _emit_ticket(ctx, detail)
    return EXIT_OK


def cmd_reply(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import tickets

    body = _body(args)
    if args.notes is not None and not args.status:
        args.status = "resolved"  # notes only make sense on a resolve
    with ctx.transaction() as tx:
        _check_version(tx, args, args.ref)
        if args.cmd == "reply":
            entry = tickets.reply(
                tx,
                args.ref,
                body,
                time_spent=args.time,
                billable=not args.no_billable,
                cc=args.cc or (),
                status=args.status,
                resolution_notes=args.notes,
            )
        else:
            entry = tickets.note(tx, args.ref, body, time_spent=args.time, billable=not args.no_billable)
            if args.status:
                tickets.set_status(tx, args.ref, args.status, notes=args.notes)
        detail = tickets.view(tx, args.ref, events=False)
    result = _entry_json(entry, detail)
    ctx.emit(result, f"{args.cmd} #{entry.id} added to {detail.number} ({detail.status})")
    return EXIT_OK


def _ticket_write(fn: Callable[[Tx, argparse.Namespace, CommandContext], Any], message: str) -> Handler:
    """A write on one ticket: version check, the service call, the ticket header as the result."""

    def handler(args: argparse.Namespace, ctx: CommandContext) -> int:
        with ctx.transaction() as tx:
            _check_version(tx, args, args.ref)
            detail = fn(tx, args, ctx)
        _emit_ticket(ctx, detail)
        if not ctx.json and message:
            print(message.format(d=detail, a=args), file=sys.stderr)
        return EXIT_OK

    return handler


def _do_status(tx: Tx, args: argparse.Namespace, ctx: CommandContext) -> Any:
    from tui_helpdesk.services import tickets

    return tickets.set_status(tx, args.ref, args.status, notes=args.notes)


def _do_assign(tx: Tx, args: argparse.Namespace, ctx: CommandContext) -> Any:
    from tui_helpdesk.services import tickets

    return tickets.assign(tx, args.ref, _agent_ref(ctx, args.agent), args.team, reason=args.reason or "")


def _do_release(tx: Tx, args: argparse.Namespace, ctx: CommandContext) -> Any:
    from tui_helpdesk.services import tickets

    return tickets.release(tx, args.ref, args.reason)


def _do_transfer(tx: Tx, args: argparse.Namespace, ctx: CommandContext) -> Any:
    from tui_helpdesk.services import tickets

    return tickets.transfer(tx, args.ref, args.department, reason=args.reason or "")


def _do_reopen(tx: Tx, args: argparse.Namespace, ctx: CommandContext) -> Any:
    from tui_helpdesk.services import tickets

    return tickets.reopen(tx, args.ref, reason=args.reason or "")


def _do_edit(tx: Tx, args: argparse.Namespace, ctx: CommandContext) -> Any:
    from tui_helpdesk.services import tickets

    changes: dict[str, Any] = {}
    for key, value in _pairs(args.set, "--set").items():
        if key.startswith("custom."):
            # custom.KEY=VALUE sets one custom field; custom.KEY= removes it
            changes.setdefault("custom", {})[key[len("custom.") :]] = value if value != "" else None
        else:
            changes[key] = value
    if not changes:
        raise CliError("--set: give at least one field=value", EXIT_USAGE, "set")
    return tickets.update_fields(tx, args.ref, changes, reason=args.reason or "")


def _do_link(tx: Tx, args: argparse.Namespace, ctx: CommandContext) -> Any:
    from tui_helpdesk.services import links

    return links.link(tx, args.ref, args.other, args.type)


def _do_unlink(tx: Tx, args: argparse.Namespace, ctx: CommandContext) -> Any:
    from tui_helpdesk.services import links

    return links.unlink(tx, args.ref, args.other)


def _do_tag(tx: Tx, args: argparse.Namespace, ctx: CommandContext) -> Any:
    from tui_helpdesk.services import tickets

    return tickets.set_tags(tx, args.ref, args.tags)


def _do_archive(tx: Tx, args: argparse.Namespace, ctx: CommandContext) -> Any:
    from tui_helpdesk.services import tickets

    return tickets.archive(tx, args.ref) if args.cmd == "archive" else tickets.restore(tx, args.ref)


def cmd_merge(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import links

    with ctx.transaction() as tx:
        _check_version(tx, args, args.ref)
        detail = links.merge(tx, args.ref, args.children)
    _emit_ticket(ctx, detail)
    return EXIT_OK


def cmd_resolve_children(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import links

    with ctx.transaction() as tx:
        _check_version(tx, args, args.ref)
        done = links.resolve_children(tx, args.ref, args.notes)
    ctx.emit(
        {"ticket": args.ref, "resolved": done},
        f"resolved {', '.join(done)}" if done else "no open children to resolve",
    )
    return EXIT_OK


def cmd_time(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import tickets

    with ctx.transaction() as tx:
        _check_version(tx, args, args.ref)
        row = tickets.log_time(
            tx, args.ref, args.minutes, billable=not args.no_billable, note=args.note or ""
        )
        detail = tickets.view(tx, args.ref, events=False)
    result = {
        "id": row.id,
        "ticket": detail.number,
        "minutes": row.minutes,
        "billable": row.billable,
        "note": row.note,
        "time_logged": detail.time_logged,
    }
    ctx.emit(result, f"{row.minutes} min logged on {detail.number} (total {detail.time_logged} min)")
    return EXIT_OK


def cmd_tui(args: argparse.Namespace, ctx: CommandContext) -> int:
    try:
        app = importlib.import_module("tui_helpdesk.tui.app")
    except ModuleNotFoundError as exc:
        if exc.name not in ("tui_helpdesk.tui.app", "tui_helpdesk.tui"):
            raise
        raise CliError(
            "the terminal app is not installed in this build (tui_helpdesk.tui.app is missing); "
            "the subcommands work: see `helpdesk --help`"
        ) from exc
    config = ctx.config
    if getattr(args, "as_user", None):
        # the app reads the acting agent from the config, as `--as` does for subcommands
        from dataclasses import replace

        config = replace(config, agent=args.as_user)
    result = app.run(config)
    return result if isinstance(result, int) else EXIT_OK


# --- the parser --------------------------------------------------------------------------------------


def _ref(p: argparse.ArgumentParser) -> None:
    p.add_argument("ref", metavar="REF", help="ticket id or number (TCK-1042 or 1042)")


def _expect(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--expect-version",
        type=int,
        metavar="N",
        help="refuse (exit 5) unless the ticket is still at version N",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="helpdesk",
        top_level=True,
        description="A keyboard-first help desk. Without a command, opens the terminal app.",
        epilog="Exit codes: 1 error/invalid input, 2 usage, 3 not found, 4 permission, 5 conflict.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

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

    p_set = sub.add_parser("setting", help="help desk settings")
    set_sub = p_set.add_subparsers(dest="setting_command", metavar="ACTION", required=True)
    p = set_sub.add_parser("get", help="show one setting, or all")
    p.add_argument("key", nargs="?")
    p.set_defaults(func=cmd_setting_get)
    p = set_sub.add_parser("set", help="change a setting (admins only)")
    p.add_argument("key")
    p.add_argument("value")
    p.set_defaults(func=cmd_setting_set)

    _ticket_parsers(sub)

    for name in EXTENSIONS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # that part of the CLI is not built yet
            raise
        module.register(sub)
    return parser


def _ticket_parsers(sub: Any) -> None:
    p_ticket = sub.add_parser("ticket", help="tickets")
    t = p_ticket.add_subparsers(dest="cmd", metavar="ACTION", required=True)

    p = t.add_parser("list", help="list tickets (keyset paging with --after)")
    p.add_argument("--status", action="append", help="status name or state (repeatable: any of them)")
    p.add_argument("--state", action="append", choices=STATES)
    p.add_argument("--priority", action="append")
    p.add_argument("--department", action="append")
    p.add_argument("--assignee", help="username, me or none")
    p.add_argument("--team")
    p.add_argument("--org")
    p.add_argument("--contact", help="email or name")
    p.add_argument("--tag", action="append", help="repeatable: every tag must be on the ticket")
    p.add_argument("--topic")
    p.add_argument("--overdue", action="store_true")
    p.add_argument("--archived", action="store_true", help="archived tickets instead of the queue")
    p.add_argument("--text", help="words in the subject")
    p.add_argument("--query", "-q", help="the filter language: 'status:open dept:Support tag:vpn printer'")
    p.add_argument("--sort", choices=SORTS)
    p.add_argument("--limit", type=int, default=50)
    p.add_argument(
        "--after", metavar="CURSOR", help="continue after this cursor (printed by the previous page)"
    )
    p.set_defaults(func=cmd_list)

    p = t.add_parser("show", help="a ticket with its thread")
    _ref(p)
    p.add_argument("--order", default="ASC", type=str.upper, choices=("ASC", "DESC"))
    p.add_argument("--no-events", action="store_true", help="entries only, no events")
    p.set_defaults(func=cmd_show)

    p = t.add_parser("create", help="open a ticket on behalf of a contact")
    p.add_argument("--subject")
    p.add_argument("--body", help="the customer's message (- reads stdin)")
    p.add_argument("--edit", action="store_true", help="write the body in $EDITOR")
    p.add_argument("--contact", help="requester's email")
    p.add_argument("--name", help="requester's name (for a new contact)")
    p.add_argument("--org", help="organization (default: the contact's)")
    p.add_argument("--department")
    p.add_argument("--priority")
    p.add_argument("--status")
    p.add_argument("--topic")
    p.add_argument("--category")
    p.add_argument("--type")
    p.add_argument("--item")
    p.add_argument("--tag", action="append")
    p.add_argument("--field", action="append", metavar="KEY=VALUE", help="custom field (repeatable)")
    p.add_argument("--cc", action="append", metavar="EMAIL")
    p.add_argument("--assignee", metavar="USERNAME", help="username or me")
    p.add_argument("--team")
    p.set_defaults(func=cmd_create)

    for name, help_text in (
        ("reply", "a public reply (mailed to the requester)"),
        ("note", "an internal note"),
    ):
        p = t.add_parser(name, help=help_text)
        _ref(p)
        p.add_argument("--body", help="the text (- reads stdin)")
        p.add_argument("--edit", action="store_true", help="write the text in $EDITOR")
        p.add_argument("--time", type=int, default=0, metavar="MIN", help="minutes spent")
        p.add_argument("--no-billable", action="store_true")
        p.add_argument("--status", help="also set this status")
        p.add_argument("--notes", help="resolution notes (with a resolved status)")
        if name == "reply":
            p.add_argument("--cc", action="append", metavar="EMAIL")
        _expect(p)
        p.set_defaults(func=cmd_reply)

    p = t.add_parser("status", help="change the status")
    _ref(p)
    p.add_argument("status", metavar="NAME")
    p.add_argument("--notes", help="resolution notes (resolved statuses)")
    _expect(p)
    p.set_defaults(func=_ticket_write(_do_status, "{d.number} is {d.status}"))

    p = t.add_parser("assign", help="assign to an agent (username or me) and/or a team")
    _ref(p)
    p.add_argument("agent", metavar="USERNAME", nargs="?")
    p.add_argument("--team")
    p.add_argument("--reason")
    _expect(p)
    p.set_defaults(func=_ticket_write(_do_assign, ""))

    p = t.add_parser("release", help="unassign, with a reason")
    _ref(p)
    p.add_argument("--reason", required=True)
    _expect(p)
    p.set_defaults(func=_ticket_write(_do_release, ""))

    p = t.add_parser("transfer", help="move to another department")
    _ref(p)
    p.add_argument("department", metavar="DEPT")
    p.add_argument("--reason")
    _expect(p)
    p.set_defaults(func=_ticket_write(_do_transfer, ""))

    p = t.add_parser("reopen", help="reopen a resolved or closed ticket")
    _ref(p)
    p.add_argument("--reason")
    _expect(p)
    p.set_defaults(func=_ticket_write(_do_reopen, ""))

    p = t.add_parser("edit", help="change header fields, with a reason")
    _ref(p)
    p.add_argument(
        "--set",
        action="append",
        metavar="FIELD=VALUE",
        help="subject, priority, topic, category, type, item, contact, organization, sla_plan, "
        "due_at, custom.KEY (repeatable)",
    )
    p.add_argument("--reason", required=True)
    _expect(p)
    p.set_defaults(func=_ticket_write(_do_edit, ""))

    for name, help_text in (("link", "link two tickets (both directions)"), ("unlink", "remove a link")):
        p = t.add_parser(name, help=help_text)
        _ref(p)
        p.add_argument("other", metavar="OTHER")
        if name == "link":
            p.add_argument("--type", default="related_to", choices=LINK_TYPES)
        _expect(p)
        p.set_defaults(func=_ticket_write(_do_link if name == "link" else _do_unlink, ""))

    p = t.add_parser("merge", help="merge tickets into a parent")
    p.add_argument("ref", metavar="PARENT")
    p.add_argument("children", metavar="CHILD", nargs="+")
    _expect(p)
    p.set_defaults(func=cmd_merge)

    p = t.add_parser("resolve-children", help="resolve every open child with the parent's notes")
    _ref(p)
    p.add_argument("--notes")
    _expect(p)
    p.set_defaults(func=cmd_resolve_children)

    p = t.add_parser("tag", help="replace the tag set (no tags clears it)")
    _ref(p)
    p.add_argument("tags", metavar="TAG", nargs="*")
    _expect(p)
    p.set_defaults(func=_ticket_write(_do_tag, ""))

    for name in ("archive", "restore"):
        p = t.add_parser(name, help=f"{name} a ticket")
        _ref(p)
        _expect(p)
        p.set_defaults(func=_ticket_write(_do_archive, ""))

    p = t.add_parser("time", help="log time spent")
    _ref(p)
    p.add_argument("minutes", type=int)
    p.add_argument("--no-billable", action="store_true")
    p.add_argument("--note", default="")
    _expect(p)
    p.set_defaults(func=cmd_time)


# --- main ----------------------------------------------------------------------------------------------


def _fail(message: str, code: int, field: str | None, as_json: bool) -> int:
    if as_json:
        print(
            json.dumps({"error": message, "field": field, "code": code}, ensure_ascii=False), file=sys.stderr
        )
    else:
        print(f"helpdesk: error: {message}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    wants_json = "--json" in argv
    try:
        args = build_parser().parse_args(argv)
    except CliError as exc:
        return _fail(exc.message, exc.code, exc.field, wants_json)
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    ctx = CommandContext(args)
    handler: Handler = getattr(args, "func", cmd_tui)
    try:
        return int(handler(args, ctx) or EXIT_OK)
    except CliError as exc:
        return _fail(exc.message, exc.code, exc.field, ctx.json)
    except Exception as exc:  # noqa: BLE001 - mapped below, re-raised when it is not ours
        code, field = _classify(exc)
        if code is None:
            raise
        return _fail(str(exc), code, field, ctx.json)
    finally:
        sys.stdout.flush()


def _classify(exc: Exception) -> tuple[int | None, str | None]:
    """Exit code and field for the errors a user can act on; (None, None) for bugs."""
    module = sys.modules.get("tui_helpdesk.services.errors")
    if module is not None and isinstance(exc, module.ServiceError):
        if isinstance(exc, module.ValidationError):
            return EXIT_ERROR, exc.field
        if isinstance(exc, module.NotFound):
            return EXIT_NOT_FOUND, None
        if isinstance(exc, module.PermissionDenied):
            return EXIT_PERMISSION, None
        if isinstance(exc, module.Conflict):
            return EXIT_CONFLICT, None
        return EXIT_ERROR, None
    fq = sys.modules.get("tui_helpdesk.services.filter_query")
    if fq is not None and isinstance(exc, fq.FilterError):
        return EXIT_ERROR, exc.term.split(":", 1)[0].split(" ", 1)[0].lstrip("-") or None
    db = sys.modules.get("tui_helpdesk.db")
    if db is not None and isinstance(exc, db.DatabaseUnavailable):
        return EXIT_ERROR, None
    return None, None


if __name__ == "__main__":
    sys.exit(main())
