"""`helpdesk`: the terminal app (no subcommand) and the scripting interface (subcommands).

Thin by design: parse, call a service in one transaction, print. Heavy modules (SQLModel, alembic,
Textual, the services) are imported inside the handlers, so `helpdesk --help` starts fast.

Exit codes (scripts can rely on them):
    0  success
    1  generic failure or invalid input (a ValidationError names the field)
    2  usage error (unknown option, missing argument, bad cursor)
    3  not found (unknown ticket, entry, contact)
    4  permission denied (including "your login is not an agent")
    5  conflict (a stale version, a state that forbids the change)
  141  stdout was closed by its reader (`helpdesk ticket list | head`); nothing is printed about it
Errors print one line on stderr, `helpdesk: error: <message>`; with --json they print
`{"error": <message>, "field": <field or null>, "code": <exit code>}` on stderr instead.

The acting agent is the Unix login's agent. `--as USERNAME`, HELPDESK_AGENT or `agent` in the config file name
another agent; services/identity.py honours that only for an admin login or the account owning the data.
`--json` and `--as` are accepted before or after the subcommand.

Layout: this module holds the plumbing (the parser class, CommandContext, main() and the one mapping of
services.errors to exit codes); each command group is a module of this package listed in COMMAND_MODULES
(tickets, setup, agents, setting, worker, mail, lifecycle, admin; app runs the terminal app).

Command module contract: the module defines `register(subparsers)`, called with the top-level subparsers
action, in COMMAND_MODULES order. It adds its commands with `subparsers.add_parser(name, help=...)` (nested
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
import atexit
import functools
import gc
import importlib
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

from tui_helpdesk.cli.output import jsonable, render

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
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a reader that went away

# One module per command group, registered in this order (the order of `helpdesk --help`).
COMMAND_MODULES = (
    "tui_helpdesk.cli.setup",
    "tui_helpdesk.cli.agents",
    "tui_helpdesk.cli.setting",
    "tui_helpdesk.cli.tickets",
    "tui_helpdesk.cli.worker",
    "tui_helpdesk.cli.mail",
    "tui_helpdesk.cli.lifecycle",
    "tui_helpdesk.cli.admin",
    "tui_helpdesk.cli.fields",
    "tui_helpdesk.cli.api_keys",
    "tui_helpdesk.cli.kb",
    "tui_helpdesk.cli.audit",
    "tui_helpdesk.cli.serve",
    "tui_helpdesk.cli.report",
    "tui_helpdesk.cli.time_entries",
    "tui_helpdesk.cli.invoice",
)

# The module that registers each top-level command. `helpdesk ingest` (an MTA starts one per message)
# then builds, and imports, only the mail commands' parser; a line without a known command (`--help`,
# a typo, the app) gets the whole parser. tests/cli/test_lazy_commands.py checks this against the modules.
COMMANDS = {
    **dict.fromkeys(("db", "demo", "setup"), "tui_helpdesk.cli.setup"),
    "agent": "tui_helpdesk.cli.agents",
    "setting": "tui_helpdesk.cli.setting",
    "ticket": "tui_helpdesk.cli.tickets",
    "worker": "tui_helpdesk.cli.worker",
    **dict.fromkeys(
        ("ingest", "mailbox", "mail", "outbox", "template", "filter", "ban"), "tui_helpdesk.cli.mail"
    ),
    **dict.fromkeys(
        ("sla", "schedule", "holiday", "scheduled", "task", "autoclose"), "tui_helpdesk.cli.lifecycle"
    ),
    "admin": "tui_helpdesk.cli.admin",
    **dict.fromkeys(("field", "asset"), "tui_helpdesk.cli.fields"),
    "api-key": "tui_helpdesk.cli.api_keys",
    "kb": "tui_helpdesk.cli.kb",
    "audit": "tui_helpdesk.cli.audit",
    "serve": "tui_helpdesk.cli.serve",
    "report": "tui_helpdesk.cli.report",
    "time": "tui_helpdesk.cli.time_entries",
    **dict.fromkeys(("invoice", "rate"), "tui_helpdesk.cli.invoice"),
}

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
            help="act as this agent (admins and the service account only; default: your login)",
        )

    def error(self, message: str) -> None:  # type: ignore[override]
        # main() adds "helpdesk: error: "; name the subcommand ("ticket show: ...") but not the program twice
        where = self.prog.removeprefix("helpdesk").strip()
        raise CliError(f"{where}: {message}" if where else message, EXIT_USAGE)


class _Version(argparse.Action):
    """--version, read from the installed distribution only when asked (it costs a metadata scan)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        from tui_helpdesk import __version__

        print(f"helpdesk {__version__}")
        parser.exit()


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

    def login(self) -> str:
        from tui_helpdesk.services.identity import os_login

        return os_login()

    def claimed(self) -> str | None:
        """The agent asked for by --as, else HELPDESK_AGENT or the config's `agent` (None: the login)."""
        return getattr(self.args, "as_user", None) or self.config.agent or None

    def username(self) -> str:
        return self.claimed() or self.login()

    def is_service_account(self) -> bool:
        from tui_helpdesk.services.identity import is_service_account

        return is_service_account(self.login(), self.config.desk_dir)

    def check_claim(self, origin: str = "cli") -> None:
        """Refuses a --as/HELPDESK_AGENT this login may not make (exit 4, audited), before anything runs."""
        from tui_helpdesk.services.identity import check_claim

        if self.claimed() in (None, self.login()):
            return  # no claim: nothing to refuse, and no reason to open the database yet
        check_claim(
            self.engine,
            self.login(),
            self.claimed(),
            is_service_account=self.is_service_account(),
            origin=origin,
        )

    @property
    def actor(self) -> Actor:
        if self._actor is None:
            from tui_helpdesk.services.errors import NotFound
            from tui_helpdesk.services.identity import establish_actor

            try:
                self._actor = establish_actor(
                    self.engine,
                    self.login(),
                    self.claimed(),
                    is_service_account=self.is_service_account(),
                    origin="cli",
                )
            except NotFound as exc:
                raise CliError(str(exc), EXIT_PERMISSION) from exc
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
            text = render(jsonable(obj))
        if not isinstance(text, str):
            text = "\n".join(text)
        self.out.write(text if text.endswith("\n") or not text else text + "\n")


def build_parser(modules: Sequence[str] = COMMAND_MODULES) -> argparse.ArgumentParser:
    """The parser with the commands of ``modules`` (all of them unless told)."""
    parser = _Parser(
        prog="helpdesk",
        top_level=True,
        description="A keyboard-first help desk. Without a command, opens the terminal app.",
        epilog="Exit codes: 1 error/invalid input, 2 usage, 3 not found, 4 permission, 5 conflict.",
    )
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in modules:
        importlib.import_module(name).register(sub)
    return parser


@functools.cache
def _parser(modules: tuple[str, ...] = COMMAND_MODULES) -> argparse.ArgumentParser:
    # Built once per process: building it costs ~50 ms (every subcommand's options), parsing 0.1 ms, and
    # a parser keeps no state between parse_args calls. One process runs main() once; a script or a test
    # calling main() in-process many times paid it every time.
    return build_parser(modules)


def _modules_for(argv: Sequence[str]) -> tuple[str, ...]:
    """The command modules a command line needs: the one of its command, else all of them."""
    skip_value = False
    for token in argv:
        if skip_value:
            skip_value = False
            continue
        if token == "--as":
            skip_value = True
            continue
        if token in ("-h", "--help", "--version", "--"):
            break  # the top-level help lists every command
        if token.startswith("-"):
            continue
        module = COMMANDS.get(token)
        return (module,) if module else COMMAND_MODULES
    return COMMAND_MODULES


# --- main ----------------------------------------------------------------------------------------------


def _fail(message: str, code: int, field: str | None, as_json: bool) -> int:
    if as_json:
        print(
            json.dumps({"error": message, "field": field, "code": code}, ensure_ascii=False), file=sys.stderr
        )
    else:
        print(f"helpdesk: error: {message}", file=sys.stderr)
    return code


@functools.cache
def _skip_the_last_collection() -> None:
    # The interpreter's last act is a full collection over every object the ORM, pydantic and Textual
    # made: about 0.5 s of CPU, a quarter of a `helpdesk ticket list`, to free memory of a process that is
    # ending. Freezing the heap in an exit handler (they run before that collection) leaves it out. No
    # output depends on it: main flushes stdout, and the commands close their files in `with` blocks.
    atexit.register(gc.freeze)


def main(argv: Sequence[str] | None = None) -> int:
    _skip_the_last_collection()
    try:
        return _main(argv)
    except BrokenPipeError:
        # `helpdesk ticket list | head`: the reader left; what is left to print goes nowhere, quietly
        _discard_stdout()
        return EXIT_BROKEN_PIPE


def _discard_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the interpreter's last flush must not fail again
    except (OSError, ValueError, AttributeError):  # stdout is not a file (captured in-process)
        pass


def _main(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    wants_json = "--json" in argv
    try:
        args = _parser(_modules_for(argv)).parse_args(argv)
    except CliError as exc:
        return _fail(exc.message, exc.code, exc.field, wants_json)
    except SystemExit as exc:  # --help, --version
        sys.stdout.flush()
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    ctx = CommandContext(args)
    if getattr(args, "func", None) is None:
        from tui_helpdesk.cli.app import cmd_tui

        args.func = cmd_tui
    handler: Handler = args.func
    try:
        return int(handler(args, ctx) or EXIT_OK)
    except CliError as exc:
        return _fail(exc.message, exc.code, exc.field, ctx.json)
    except BrokenPipeError:
        raise
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
