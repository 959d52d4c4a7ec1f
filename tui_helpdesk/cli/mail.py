"""Mail commands for `helpdesk`: ingest (MTA pipe), mailbox, mail quarantine, outbox, template,
filter, ban.

Registered by tui_helpdesk.cli (see its docstring for the contract). Imports stay inside the handlers.
`helpdesk ingest` (like `helpdesk worker`) needs no agent login: an MTA runs it.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

EX_TEMPFAIL = 75  # sysexits.h: the MTA keeps the message and tries again later


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("ingest", help="read one message on stdin and turn it into a ticket or reply")
    p.add_argument("--mailbox", metavar="ADDRESS", help="the mailbox the message arrived at")
    p.add_argument(
        "--here", action="store_true", help="process the message in this process and print what it became"
    )
    # the processing stage a pipe starts when no worker runs (holding the lease the pipe took for it)
    p.add_argument("--pending", metavar="HOLDER", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_ingest)

    mailbox = subparsers.add_parser("mailbox", help="mailboxes the worker fetches").add_subparsers(
        dest="mailbox_cmd", required=True
    )
    p = mailbox.add_parser("add", help="add a mailbox")
    p.add_argument("address")
    _mailbox_options(p)
    p.set_defaults(func=cmd_mailbox_add)
    p = mailbox.add_parser("list", help="list mailboxes")
    p.set_defaults(func=cmd_mailbox_list)
    p = mailbox.add_parser("edit", help="change a mailbox")
    p.add_argument("mailbox", help="address or id")
    p.add_argument("--address")
    _mailbox_options(p)
    p.set_defaults(func=cmd_mailbox_edit)
    p = mailbox.add_parser("test", help="try to connect and log in; says what went wrong")
    p.add_argument("mailbox", help="address or id")
    p.set_defaults(func=cmd_mailbox_test)
    p = mailbox.add_parser("delete", help="delete a mailbox (deactivated instead when it has history)")
    p.add_argument("mailbox", help="address or id")
    p.set_defaults(func=cmd_mailbox_delete)

    mail = subparsers.add_parser("mail", help="the inbound mail journal").add_subparsers(
        dest="mail_cmd", required=True
    )
    quarantine = mail.add_parser("quarantine", help="messages that could not be processed").add_subparsers(
        dest="quarantine_cmd", required=True
    )
    p = quarantine.add_parser("list", help="list quarantined messages")
    p.add_argument("--limit", type=int, default=100)
    p.set_defaults(func=cmd_quarantine_list)
    p = quarantine.add_parser("retry", help="process a quarantined message again")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_quarantine_retry)
    ignored = mail.add_parser("ignored", help="messages that became no ticket, with the reason").add_subparsers(
        dest="ignored_cmd", required=True
    )
    p = ignored.add_parser("list", help="list ignored messages, newest first")
    p.add_argument("--limit", type=int, default=100)
    p.set_defaults(func=cmd_ignored_list)
    p = ignored.add_parser("ticket", help="turn an ignored message into a ticket after all")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_ignored_ticket)
    p = mail.add_parser("journal", help="recent journal rows, any state")
    p.add_argument("--state", choices=("pending", "done", "ignored", "quarantined"))
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=cmd_journal)

    outbox = subparsers.add_parser("outbox", help="outgoing mail").add_subparsers(
        dest="outbox_cmd", required=True
    )
    p = outbox.add_parser("list", help="list outgoing mail, newest first")
    p.add_argument("--state", choices=("queued", "sent", "failed"))
    p.add_argument("--ticket", help="only this ticket's mail")
    p.add_argument("--limit", type=int, default=100)
    p.set_defaults(func=cmd_outbox_list)
    p = outbox.add_parser("retry", help="send a failed message again now")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_outbox_retry)

    template = subparsers.add_parser("template", help="the text of outgoing mail").add_subparsers(
        dest="template_cmd", required=True
    )
    p = template.add_parser("list", help="every template, with department overrides")
    p.set_defaults(func=cmd_template_list)
    p = template.add_parser("show", help="a template's subject and body")
    p.add_argument("key", help="a code (notice.closed) or code@department-id from `template list`")
    p.set_defaults(func=cmd_template_show)
    p = template.add_parser("set", help="change a template, for all departments or one")
    p.add_argument("code")
    p.add_argument("--subject", required=True)
    p.add_argument("--body", required=True, help="text with %%{variables}; - reads stdin")
    p.add_argument("--department")
    p.set_defaults(func=cmd_template_set)
    p = template.add_parser("reset", help="back to the built-in text")
    p.add_argument("key")
    p.set_defaults(func=cmd_template_reset)

    flt = subparsers.add_parser("filter", help="rules applied to arriving mail").add_subparsers(
        dest="filter_cmd", required=True
    )
    p = flt.add_parser("list")
    p.set_defaults(func=cmd_filter_list)
    p = flt.add_parser(
        "add", help="e.g. --when 'subject contains invoice' --then department=Billing --then tag=billing"
    )
    p.add_argument("name")
    p.add_argument("--when", action="append", required=True, help="FIELD OP VALUE (repeatable)")
    p.add_argument("--then", action="append", required=True, help="ACTION[=VALUE] (repeatable)")
    p.add_argument("--any", action="store_true", help="match when any condition holds (default: all)")
    p.add_argument("--stop", action="store_true", help="later filters do not run after this one matches")
    p.add_argument("--order", type=int, default=0)
    p.set_defaults(func=cmd_filter_add)
    p = flt.add_parser("delete")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_filter_delete)
    p = flt.add_parser("order", help="run these filters first, in this order (the rest follow)")
    p.add_argument("ids", type=int, nargs="+", metavar="ID")
    p.set_defaults(func=cmd_filter_order)

    ban = subparsers.add_parser("ban", help="senders whose mail is refused").add_subparsers(
        dest="ban_cmd", required=True
    )
    p = ban.add_parser("list")
    p.set_defaults(func=cmd_ban_list)
    p = ban.add_parser("add")
    p.add_argument("pattern", help="an address or @domain")
    p.add_argument("--note", default="")
    p.set_defaults(func=cmd_ban_add)
    p = ban.add_parser("remove")
    p.add_argument("pattern", help="the address or @domain as listed")
    p.set_defaults(func=cmd_ban_remove)


def _mailbox_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--name")
    p.add_argument("--department")
    p.add_argument("--priority")
    p.add_argument("--topic")
    p.add_argument("--imap-host")
    p.add_argument("--imap-port", type=int)
    p.add_argument("--imap-security", choices=("ssl", "starttls", "none"))
    p.add_argument("--imap-user")
    p.add_argument("--imap-password")
    p.add_argument("--folder")
    p.add_argument("--poll-seconds", type=int)
    p.add_argument("--after-fetch", choices=("seen", "move", "delete"))
    p.add_argument("--move-to")
    p.add_argument("--smtp-host")
    p.add_argument("--smtp-port", type=int)
    p.add_argument("--smtp-security", choices=("ssl", "starttls", "none"))
    p.add_argument("--smtp-user")
    p.add_argument("--smtp-password")
    p.add_argument("--active", choices=("yes", "no"))


_FIELDS = ("name", "department", "priority", "topic", "imap_host", "imap_port", "imap_security", "imap_user",
           "imap_password", "folder", "poll_seconds", "after_fetch", "move_to", "smtp_host", "smtp_port",
           "smtp_security", "smtp_user", "smtp_password", "active")  # fmt: skip


def _fields(args: argparse.Namespace) -> dict[str, Any]:
    out = {k: getattr(args, k, None) for k in _FIELDS}
    if out.get("active") is not None:
        out["active"] = out["active"] == "yes"
    return {k: v for k, v in out.items() if v is not None}


# --- ingest and worker --------------------------------------------------------------------------------


def cmd_ingest(args: argparse.Namespace, ctx: Any) -> int:
    """Journal the message (Core only: committed, nothing can be lost from here) and leave the processing
    to whoever holds the worker's lease: a running worker, which wakes for it within a second, or else a
    processing stage this pipe starts in the background and hands the lease to. Either way this process
    never imports the ORM, the models or the services, which were most of its time (issue 10: an MTA
    starts one per message). `--here` processes in this process and says what the message became."""
    if args.pending:
        return _processing_stage(args.pending, ctx)
    raw = _read_stdin()
    if not raw:
        print("helpdesk: error: no message on standard input", file=sys.stderr)
        return 1
    from sqlalchemy.exc import DBAPIError

    from tui_helpdesk.db import DatabaseUnavailable, get_engine
    from tui_helpdesk.services import inbound_journal

    try:
        engine = get_engine(ctx.config.database_url)
        mailbox_id = None
        if args.mailbox:
            mailbox_id = inbound_journal.mailbox_id_for(engine, args.mailbox)
            if mailbox_id is None:
                print(
                    f"helpdesk: warning: no mailbox {args.mailbox}; routing by the recipients",
                    file=sys.stderr,
                )
        journal_id, seen = inbound_journal.journal(engine, raw, mailbox_id=mailbox_id)
        del raw  # the journal holds it; a big message must not be held twice while it is processed
        result = None if args.here else _hand_over(engine, journal_id, seen)
        if result is None:
            ctx.engine  # noqa: B018 - the reference rows a ticket needs exist (CommandContext.engine)
            from tui_helpdesk.services import inbound as ingest

            result = ingest.process(engine, journal_id)
            if seen:
                result = inbound_journal.IngestResult(**{**result.__dict__, "already_journaled": True})
    except (DatabaseUnavailable, DBAPIError, OSError) as exc:
        # Anything between us and the database: the MTA must keep the message and retry.
        print(f"helpdesk: database unavailable, try again later: {exc}", file=sys.stderr)
        return EX_TEMPFAIL
    ctx.emit(result, f"{result.state}: {result.outcome}" + (f" ({result.reason})" if result.reason else ""))
    return 0


def _hand_over(engine: Any, journal_id: int, seen: bool) -> Any:
    """Who processes the journaled message: the lease's live holder, or a stage started now with the lease
    taken for it. None: neither (the stage could not be started), so this process does it."""
    import os
    import socket
    import subprocess

    from tui_helpdesk.services import inbound_journal

    def pending(reason: str) -> Any:
        return inbound_journal.IngestResult(journal_id, "pending", "journaled", reason=reason, already_journaled=seen)

    holder = f"{socket.gethostname()}:{os.getpid()}:ingest-stage"
    if not inbound_journal.acquire_lease(engine, holder, inbound_journal.STAGE_LEASE):
        return pending("the worker processes it")
    try:
        # its own session, no terminal and none of our pipes: the MTA waits for this process only
        subprocess.Popen(
            [sys.executable, "-m", "tui_helpdesk.cli", "ingest", "--pending", holder],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
        )
    except OSError as exc:
        inbound_journal.release_lease(engine, holder)
        print(f"helpdesk: warning: processing here, no background stage: {exc}", file=sys.stderr)
        return None
    return pending("processed in the background")


def _processing_stage(holder: str, ctx: Any) -> int:
    from tui_helpdesk import worker

    with worker.graceful_exit():
        try:
            worker.drain_journal(ctx.engine, holder)
        except (KeyboardInterrupt, worker.Terminated):
            return 1
    return 0


def _read_stdin() -> bytearray:
    # In chunks into one growing buffer: read() of a pipe joins its chunks at the end, a second copy
    # of a 50 MB message. The journal stores a bytearray as it is.
    buf = bytearray()
    while chunk := sys.stdin.buffer.read1(1 << 20):
        buf += chunk
    return buf


# --- mailboxes -----------------------------------------------------------------------------------------


def _mailbox_line(m: Any) -> str:
    state = "active" if m.active else "inactive"
    imap = (
        f"{m.imap_user}@{m.imap_host}:{m.imap_port}/{m.folder} ({m.imap_security})"
        if m.imap_host
        else "pipe only"
    )
    error = f"  last error: {m.last_error}" if m.last_error else ""
    return f"{m.id:>3}  {m.address}  {m.department or '-'}  {imap}  {state}{error}"


def cmd_mailbox_add(args: argparse.Namespace, ctx: Any) -> int:
    from tui_helpdesk.services import mailboxes

    with ctx.transaction() as tx:
        info = mailboxes.add(tx, args.address, **_fields(args))
    ctx.emit(info, f"mailbox {info.address} added (id {info.id})")
    return 0


def cmd_mailbox_list(args: argparse.Namespace, ctx: Any) -> int:
    from tui_helpdesk.services import mailboxes

    with ctx.reading() as tx:
        rows = mailboxes.list_all(tx)
    ctx.emit(rows, [_mailbox_line(m) for m in rows] or ["no mailboxes"])
    return 0


def cmd_mailbox_edit(args: argparse.Namespace, ctx: Any) -> int:
    from tui_helpdesk.services import mailboxes

    fields = _fields(args)
    if args.address:
        fields["address"] = args.address
    with ctx.transaction() as tx:
        info = mailboxes.edit(tx, args.mailbox, **fields)
    ctx.emit(info, f"mailbox {info.address} changed")
    return 0


def cmd_mailbox_test(args: argparse.Namespace, ctx: Any) -> int:
    from tui_helpdesk.services import mailboxes

    verdict = mailboxes.test(ctx.engine, ctx.actor, args.mailbox)
    ok = verdict.startswith("ok")
    ctx.emit({"ok": ok, "result": verdict}, verdict)
    return 0 if ok else 1


def cmd_mailbox_delete(args: argparse.Namespace, ctx: Any) -> int:
    from tui_helpdesk.services import mailboxes

    with ctx.transaction() as tx:
        what = mailboxes.delete(tx, args.mailbox)
    ctx.emit({"mailbox": args.mailbox, "result": what}, f"mailbox {args.mailbox} {what}")
    return 0


# --- journal and outbox -------------------------------------------------------------------------------


def _journal_lines(rows: list[Any]) -> list[str]:
    return [
        f"{r.id:>5}  {r.received_at:%Y-%m-%d %H:%M}  {r.state}/{r.outcome}  {r.sender}  {r.subject}"
        + (f"  [{r.ticket}]" if r.ticket else "")
        + (f"  delivered {r.deliveries} times" if r.deliveries > 1 else "")
        + (f"\n       reason: {r.reason}" if r.reason else "")
        for r in rows
    ]


def cmd_quarantine_list(args: argparse.Namespace, ctx: Any) -> int:
    from tui_helpdesk.services import mailboxes

    with ctx.reading() as tx:
        rows = mailboxes.journal(tx, "quarantined", args.limit)
    ctx.emit(rows, _journal_lines(rows) or ["the quarantine is empty"])
    return 0


def cmd_ignored_list(args: argparse.Namespace, ctx: Any) -> int:
    from tui_helpdesk.services import mail_admin

    with ctx.reading() as tx:
        rows = mail_admin.list_ignored(tx, args.limit)
    ctx.emit(rows, _journal_lines(rows) or ["no ignored mail"])
    return 0


def cmd_ignored_ticket(args: argparse.Namespace, ctx: Any) -> int:
    from tui_helpdesk.services import mail_admin

    result = mail_admin.ticket_from_ignored(ctx.engine, ctx.actor, args.id)
    number = ""
    if result.ticket_id is not None:
        from tui_helpdesk.services import tickets

        with ctx.reading() as tx:
            number = tickets.view(tx, result.ticket_id, events=False).number
    ctx.emit(
        result,
        f"message {args.id}: {result.state}: {result.outcome}"
        + (f" {number}" if number else "")
        + (f" ({result.reason})" if result.reason else ""),
    )
    return 0 if result.state == "done" else 1


def cmd_journal(args: argparse.Namespace, ctx: Any) -> int:
    from tui_helpdesk.services import mailboxes

    with ctx.reading() as tx:
        rows = mailboxes.journal(tx, args.state, args.limit)
    ctx.emit(rows, _journal_lines(rows) or ["no messages"])
    return 0


def cmd_quarantine_retry(args: argparse.Namespace, ctx: Any) -> int:
    from tui_helpdesk.services import mailboxes

    result = mailboxes.retry_quarantined(ctx.engine, ctx.actor, args.id)
    ctx.emit(
        result,
        f"message {args.id}: {result.state}: {result.outcome}"
        + (f" ({result.reason})" if result.reason else ""),
    )
    return 0 if result.state != "quarantined" else 1


def cmd_outbox_list(args: argparse.Namespace, ctx: Any) -> int:
    from tui_helpdesk.services import mailboxes

    with ctx.reading() as tx:
        rows = mailboxes.outbox(tx, args.state, args.ticket, args.limit)
    lines = [
        f"{r.id:>5}  {r.state:<6} {r.kind:<24} {r.ticket or '-':<10} {', '.join(r.to)}  {r.subject}"
        + (
            f"\n       attempts {r.attempts}, next {r.next_attempt_at:%Y-%m-%d %H:%M}: {r.last_error}"
            if r.last_error
            else ""
        )
        for r in rows
    ]
    ctx.emit(rows, lines or ["the outbox is empty"])
    return 0


def cmd_outbox_retry(args: argparse.Namespace, ctx: Any) -> int:
    from tui_helpdesk.services import mailboxes

    with ctx.transaction() as tx:
        info = mailboxes.outbox_retry(tx, args.id)
    ctx.emit(info, f"message {info.id} queued for sending")
    return 0


def cmd_template_list(args: argparse.Namespace, ctx: Any) -> int:
    from tui_helpdesk.services import mail_admin

    with ctx.reading() as tx:
        rows = mail_admin.list_templates(tx)
    ctx.emit(rows, [f"{r.key:<32} {'*' if r.overridden else ' '} {r.subject}" for r in rows])
    return 0


def cmd_template_show(args: argparse.Namespace, ctx: Any) -> int:
    from tui_helpdesk.services import mail_admin
    from tui_helpdesk.services.errors import NotFound

    with ctx.reading() as tx:
        rows = [r for r in mail_admin.list_templates(tx) if r.key == args.key]
    if not rows:
        raise NotFound(f"no template {args.key}")
    row = rows[0]
    lines = [f"Subject: {row.subject}", "", row.body]
    if row.overridden:
        lines += [
            "",
            "--- built-in text (template reset brings it back) ---",
            f"Subject: {row.default_subject}",
        ]
        lines += ["", row.default_body]
    lines += ["", "variables: " + " ".join(mail_admin.template_variables())]
    ctx.emit(row, lines)
    return 0


def cmd_template_set(args: argparse.Namespace, ctx: Any) -> int:
    import sys

    from tui_helpdesk.services import mail_admin

    body = sys.stdin.read() if args.body == "-" else args.body
    with ctx.transaction() as tx:
        row = mail_admin.save_template(tx, args.code, args.subject, body, args.department)
    ctx.emit(row, f"saved {row.key}")
    return 0


def cmd_template_reset(args: argparse.Namespace, ctx: Any) -> int:
    from tui_helpdesk.services import mail_admin

    with ctx.transaction() as tx:
        mail_admin.reset_template(tx, args.key)
    ctx.emit({"reset": args.key}, f"{args.key} uses the built-in text again")
    return 0


def cmd_ban_list(args: argparse.Namespace, ctx: Any) -> int:
    from tui_helpdesk.services import mail_admin

    with ctx.reading() as tx:
        rows = mail_admin.list_bans(tx)
    ctx.emit(rows, [f"{r.pattern}  {r.note}".rstrip() for r in rows] or ["nobody is banned"])
    return 0


def cmd_ban_add(args: argparse.Namespace, ctx: Any) -> int:
    from tui_helpdesk.services import mail_admin

    with ctx.transaction() as tx:
        row = mail_admin.add_ban(tx, args.pattern, args.note)
    ctx.emit(row, f"banned {row.pattern}")
    return 0


def cmd_ban_remove(args: argparse.Namespace, ctx: Any) -> int:
    from tui_helpdesk.services import mail_admin

    with ctx.transaction() as tx:
        mail_admin.remove_ban(tx, args.pattern)
    ctx.emit({"removed": args.pattern}, f"{args.pattern} may write again")
    return 0


def _filter_lines(r: Any) -> list[str]:
    head = f"{r.id:>4}  {r.name}  (order {r.sort_order}, {'all' if r.match_all else 'any'}{', stop' if r.stop_on_match else ''}{'' if r.active else ', off'})"
    return [head] + [f"        when {c}" for c in r.conditions] + [f"        then {a}" for a in r.actions]


def cmd_filter_list(args: argparse.Namespace, ctx: Any) -> int:
    from tui_helpdesk.services import mail_admin

    with ctx.reading() as tx:
        rows = mail_admin.list_filters(tx)
    ctx.emit(rows, [line for r in rows for line in _filter_lines(r)] or ["no filters"])
    return 0


def cmd_filter_add(args: argparse.Namespace, ctx: Any) -> int:
    from tui_helpdesk.services import mail_admin

    with ctx.transaction() as tx:
        row = mail_admin.save_filter(
            tx,
            name=args.name,
            conditions=args.when,
            actions=args.then,
            match_all=not args.any,
            stop_on_match=args.stop,
            sort_order=args.order,
        )
    ctx.emit(row, _filter_lines(row))
    return 0


def cmd_filter_delete(args: argparse.Namespace, ctx: Any) -> int:
    from tui_helpdesk.services import mail_admin

    with ctx.transaction() as tx:
        mail_admin.delete_filter(tx, args.id)
    ctx.emit({"deleted": args.id}, f"filter {args.id} deleted")
    return 0


def cmd_filter_order(args: argparse.Namespace, ctx: Any) -> int:
    from tui_helpdesk.services import mail_admin

    with ctx.transaction() as tx:
        rows = mail_admin.reorder_filters(tx, args.ids)
    ctx.emit(rows, [line for r in rows for line in _filter_lines(r)])
    return 0
