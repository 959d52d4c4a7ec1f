"""`helpdesk agent key add|list|remove` and `helpdesk agent totp enable|disable`: how an agent logs in over
SSH (`helpdesk serve --ssh`). Who may change whose keys and second factor is services/ssh_access.py's rule
(an admin: anyone's; an agent: their own)."""

from __future__ import annotations

import argparse
import io
import sys
from typing import Any

from tui_helpdesk.cli import EXIT_OK, CliError, CommandContext
from tui_helpdesk.cli.output import aligned


def register(agent_sub: Any) -> None:
    """Adds `key` and `totp` under `helpdesk agent` (agent_sub: its subparsers)."""
    p_key = agent_sub.add_parser("key", help="SSH public keys an agent logs in with")
    key_sub = p_key.add_subparsers(dest="key_command", metavar="ACTION", required=True)
    p = key_sub.add_parser("add", help="list a public key for an agent")
    p.add_argument("username")
    p.add_argument("file", help="the public key file (id_ed25519.pub), or - for standard input")
    p.set_defaults(func=cmd_key_add)
    p = key_sub.add_parser("list", help="an agent's keys (admins: everyone's without USERNAME)")
    p.add_argument("username", nargs="?")
    p.set_defaults(func=cmd_key_list)
    p = key_sub.add_parser("remove", help="remove a key by its id or fingerprint")
    p.add_argument("key", help="the id from `key list`, or SHA256:...")
    p.set_defaults(func=cmd_key_remove)

    p_totp = agent_sub.add_parser("totp", help="the TOTP second factor of an agent's SSH login")
    totp_sub = p_totp.add_subparsers(dest="totp_command", metavar="ACTION", required=True)
    p = totp_sub.add_parser("enable", help="make a TOTP secret: prints the otpauth URI and a QR code")
    p.add_argument("username")
    p.set_defaults(func=cmd_totp_enable)
    p = totp_sub.add_parser("disable", help="turn the second factor off")
    p.add_argument("username")
    p.set_defaults(func=cmd_totp_disable)


def _key_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "username": row.owner,
        "fingerprint": row.fingerprint,
        "algorithm": row.algorithm,
        "comment": row.comment,
        "created_at": row.created_at,
        "created_by": row.created_by or None,
        "last_used_at": row.last_used_at,
    }


def _read_key(name: str) -> str:
    if name == "-":
        return sys.stdin.read()
    try:
        with open(name, encoding="utf-8", errors="replace") as fh:
            return fh.read(64 * 1024)
    except OSError as exc:
        raise CliError(f"file: cannot read {name}: {exc.strerror or exc}", field="file") from exc


def cmd_key_add(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import ssh_access

    text = _read_key(args.file)
    with ctx.transaction() as tx:
        row = _key_json(ssh_access.add_key(tx, args.username, text))
    ctx.emit(row, f"key {row['fingerprint']} added for {row['username']}")
    return EXIT_OK


def cmd_key_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import ssh_access
    from tui_helpdesk.untrusted import clean_line

    with ctx.reading() as tx:
        rows = [_key_json(r) for r in ssh_access.list_keys(tx, args.username)]
    table = [["ID", "AGENT", "FINGERPRINT", "TYPE", "COMMENT", "LAST USED"]]
    table += [
        [str(r["id"]), clean_line(r["username"]), r["fingerprint"], r["algorithm"], clean_line(r["comment"]) or "-",
         r["last_used_at"].strftime("%Y-%m-%d %H:%M") if r["last_used_at"] else "never"]
        for r in rows
    ]
    ctx.emit(rows, aligned(table) if rows else "no SSH keys")
    return EXIT_OK


def cmd_key_remove(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import ssh_access

    with ctx.transaction() as tx:
        row = _key_json(ssh_access.remove_key(tx, args.key))
    ctx.emit(row, f"key {row['fingerprint']} of {row['username']} removed")
    return EXIT_OK


def qr_text(data: str) -> str:
    """A QR code drawn with half blocks, two modules a character row (it fits 80x24 for an otpauth URI)."""
    import segno

    out = io.StringIO()
    segno.make(data, error="l").terminal(out=out, compact=True, border=2)
    return out.getvalue()


def cmd_totp_enable(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import ssh_access

    with ctx.transaction() as tx:
        setup = ssh_access.enable_totp(tx, args.username)
    row = {"username": setup.username, "uri": setup.uri, "secret": setup.secret}
    ctx.emit(row, [
        f"TOTP is on for {setup.username}: scan the code with an authenticator app (shown only now).",
        "",
        qr_text(setup.uri).rstrip("\n"),
        "",
        f"otpauth URI: {setup.uri}",
        f"secret:      {setup.secret}",
        "From now on the SSH login asks for the code after the key.",
    ])
    return EXIT_OK


def cmd_totp_disable(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import ssh_access

    with ctx.transaction() as tx:
        ssh_access.disable_totp(tx, args.username)
    ctx.emit({"username": args.username, "totp": False}, f"TOTP is off for {args.username}")
    return EXIT_OK
