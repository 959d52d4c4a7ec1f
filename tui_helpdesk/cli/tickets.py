"""`helpdesk ticket ...`: reading and changing tickets from scripts."""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tui_helpdesk.cli import EXIT_OK, EXIT_PERMISSION, EXIT_USAGE, CliError, CommandContext, Handler
from tui_helpdesk.cli.output import aligned, fmt_time, jsonable

if TYPE_CHECKING:
    from tui_helpdesk.services.context import Tx

LINK_TYPES = ("related_to", "parent_of", "child_of", "caused_by", "duplicate_of")
SORTS = ("newest", "oldest", "updated", "priority", "due", "relevance")
STATES = ("new", "open", "pending", "resolved", "closed")


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
    """--if-version (or --expect-version): refuse a write based on a stale copy, for every write alike;
    the service's StaleVersion says who changed the ticket and when."""
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
    lines.append(line("Due", fmt_time(d.due_at) + ("  OVERDUE" if d.is_overdue else "")))
    lines.append(line("Created", fmt_time(d.created_at)))
    lines.append(line("Updated", f"{fmt_time(d.updated_at)}  (version {d.version})"))
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
        when = fmt_time(item.created_at)
        if item.kind == "event":
            detail = ", ".join(f"{k}={v}" for k, v in item.data.items() if v not in (None, "", [], {}))
            lines.append(f"  · {when}  {item.author}: {item.event_kind}" + (f" ({detail})" if detail else ""))
            continue
        lines.append("")
        head = f"── {labels.get(item.kind, item.kind)} #{item.id} · {item.author} · {when}"
        if item.time_spent:
            head += f" · {item.time_spent} min"
        if item.ticket_id != d.id:
            head += f" · from merged ticket {item.ticket_number or item.ticket_id}"
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


def _list_query(args: argparse.Namespace, ctx: CommandContext, tx: Tx) -> Any:
    """The flags become filter-language terms so names resolve (and fail) exactly as in the queue's `/`."""
    from tui_helpdesk.services import filter_query

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
    # no scope here: the services list only what the actor may see
    search_text = " ".join(t for t in (parsed.text, args.text or "") if t)
    combined = filter_query.ParsedFilter(tuple(terms), tuple(words), search_text)
    return filter_query.resolve(tx.session, combined, tx.actor.agent_id)


def cmd_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import queries
    from tui_helpdesk.untrusted import clean_line

    if args.limit < 1:
        raise CliError("--limit must be at least 1", EXIT_USAGE, "limit")
    with ctx.reading() as tx:
        query = _list_query(args, ctx, tx)
        after = decode_cursor(args.after, query.sort) if args.after else None
        page = queries.fetch_page(tx, query, after=after, limit=args.limit)
        total = queries.count(tx, query)
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
                fmt_time(r.updated_at),
                clean_line(r.subject)[:70],
            ]
        )
    lines = aligned(table) if page.rows else ["no tickets match"]
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
    from tui_helpdesk.services import door, tickets

    if args.body == "-" or args.edit:
        body = _body(args)
    else:
        body = args.body or ""
    def create(tx: Tx) -> Any:
        return tickets.create(
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

    detail = _with_files(ctx, args, create, lambda tx, d: (d.number, _first_entry_id(tx, d.id)))
    if args.attach:  # the files are on it now
        detail = door.read(ctx.engine, ctx.actor, tickets.view, detail.number)
    _emit_ticket(ctx, detail)
    return EXIT_OK


def _with_files(ctx: CommandContext, args: argparse.Namespace, use_case: Callable[[Tx], Any],
                target: Callable[[Tx, Any], tuple[str, int | None]]) -> Any:
    """`use_case` in one writing transaction, with the --attach files stored on what it wrote."""
    from tui_helpdesk.services import attachments

    return attachments.attach_after(ctx.engine, ctx.actor, ctx.config.attachments_dir, args.attach or (),
                                    use_case, target)


def _first_entry_id(tx: Tx, ticket_id: int) -> int | None:
    from tui_helpdesk.services import attachments

    return attachments.first_entry_id(tx, ticket_id)


def cmd_reply(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import door, tickets

    body = _body(args)
    if args.notes is not None and not args.status:
        args.status = "resolved"  # notes only make sense on a resolve
    def post(tx: Tx) -> Any:
        if args.cmd == "reply":
            return tickets.reply(
                tx,
                args.ref,
                body,
                expected_version=args.expect_version,
                time_spent=args.time,
                billable=not args.no_billable,
                cc=args.cc or (),
                status=args.status,
                resolution_notes=args.notes,
            )
        entry = tickets.note(
            tx, args.ref, body, expected_version=args.expect_version, time_spent=args.time,
            billable=not args.no_billable,
        )
        if args.status:
            tickets.set_status(tx, entry.number, args.status, notes=args.notes)
        return entry

    entry = _with_files(ctx, args, post, lambda tx, e: (e.number, e.id))
    # the ticket it landed on: a merged child's parent
    detail = door.read(ctx.engine, ctx.actor, tickets.view, entry.number, events=False)
    result = _entry_json(entry, detail)
    result["merged_from"] = entry.merged_from
    text = f"{args.cmd} #{entry.id} added to {detail.number} ({detail.status})"
    if entry.redirect_note:
        text = f"{entry.redirect_note} (#{entry.id}, {detail.status})"
    ctx.emit(result, text)
    return EXIT_OK


def cmd_entry(args: argparse.Namespace, ctx: CommandContext) -> int:
    """edit-entry / delete-entry / redact: the service decides who may (own entries in the edit window,
    others' with entry.edit_any, a customer's message only redacted, by an admin)."""
    from tui_helpdesk.services import tickets

    body = _body(args) if args.cmd == "edit-entry" else ""
    with ctx.transaction() as tx:
        if args.cmd == "edit-entry":
            entry = tickets.edit_entry(tx, args.entry, body, expected_version=args.expect_version)
        elif args.cmd == "delete-entry":
            entry = tickets.delete_entry(tx, args.entry, expected_version=args.expect_version)
        else:
            entry = tickets.redact_entry(tx, args.entry, reason=args.reason or "",
                                         expected_version=args.expect_version)
        detail = tickets.view(tx, entry.ticket_id, events=False)
    done = {"edit-entry": "edited", "delete-entry": "deleted", "redact": "redacted"}[args.cmd]
    ctx.emit({"entry": entry.id, "ticket": detail.number, "version": detail.version, "done": done},
             f"entry #{entry.id} on {detail.number} {done}")
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


def cmd_delete(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Archive now, purged by the worker after ticket_delete_retention_days (services/ticket_delete.py)."""
    from tui_helpdesk.services import ticket_delete

    with ctx.transaction() as tx:
        done = ticket_delete.request(tx, args.ref, expected_version=args.expect_version)
    ctx.emit({"deleted": done.number, "purge_after": done.purge_after},
             f"{done.number} deleted: archived now, purged after {done.purge_after:%Y-%m-%d} (restore undoes it)")
    return EXIT_OK


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


def _ref(p: argparse.ArgumentParser) -> None:
    p.add_argument("ref", metavar="REF", help="ticket id or number (TCK-1042 or 1042)")


def _attach(p: argparse.ArgumentParser) -> None:
    p.add_argument("--attach", action="append", metavar="PATH",
                   help="attach a file (repeatable; checked by content; setting attachment_max_files)")


def _expect(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--if-version",
        "--expect-version",
        dest="expect_version",
        type=int,
        metavar="N",
        help="refuse (exit 5) unless the ticket is still at version N (as `ticket show` printed it)",
    )


def register(sub: Any) -> None:
    p_ticket = sub.add_parser("ticket", help="tickets")
    t = p_ticket.add_subparsers(dest="cmd", metavar="ACTION", required=True)
    from tui_helpdesk.cli.ticket_export import add_export

    add_export(t)

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
    p.add_argument(
        "--text", help="words searched in the whole ticket: \"a phrase\", -word excludes, word* a prefix"
    )
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
    _attach(p)
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
        _attach(p)
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

    p = t.add_parser("delete", help="delete a ticket (ticket.delete): archived now, purged after the retention")
    _ref(p)
    _expect(p)
    p.set_defaults(func=cmd_delete)

    for name, help_text in (
        ("edit-entry", "rewrite a reply or note (your own within the edit window; others' with entry.edit_any)"),
        ("delete-entry", "delete a reply or note (the same rule as editing)"),
        ("redact", "blank an entry, a customer's message too (admins; the original stays in the audit log)"),
    ):
        p = t.add_parser(name, help=help_text)
        p.add_argument("entry", metavar="ENTRY", type=int, help="the entry number (#12 in `ticket show`)")
        if name == "edit-entry":
            p.add_argument("--body", help="the new text (- reads stdin)")
            p.add_argument("--edit", action="store_true", help="write the text in $EDITOR")
        if name == "redact":
            p.add_argument("--reason")
        _expect(p)
        p.set_defaults(func=cmd_entry)

    from tui_helpdesk.cli import fields  # `ticket set-field` and `ticket set-asset`

    fields.register_ticket(t)
    p = t.add_parser("time", help="log time spent")
    _ref(p)
    p.add_argument("minutes", type=int)
    p.add_argument("--no-billable", action="store_true")
    p.add_argument("--note", default="")
    _expect(p)
    p.set_defaults(func=cmd_time)
