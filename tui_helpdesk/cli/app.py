"""`helpdesk` with no command: the terminal app."""

from __future__ import annotations

import argparse
import importlib
from typing import NoReturn

from tui_helpdesk.cli import EXIT_OK, CliError, CommandContext


def cmd_tui(args: argparse.Namespace, ctx: CommandContext) -> int:
    try:
        startup = importlib.import_module("tui_helpdesk.tui.startup")
    except ModuleNotFoundError as exc:
        _not_installed(exc)
    # no garbage collection until the first rows show: a third of the start-up (tui/startup.py)
    startup.hold_gc()
    try:
        return _open_app(args, ctx)
    finally:
        startup.release_gc(freeze=False)  # the app released it on its first rows unless it stopped first


def _open_app(args: argparse.Namespace, ctx: CommandContext) -> int:
    try:
        app = importlib.import_module("tui_helpdesk.tui.app")
    except ModuleNotFoundError as exc:
        _not_installed(exc)
    ctx.check_claim("tui")  # a refused --as ends here with exit 4, not on a screen inside the app
    config = ctx.config
    if getattr(args, "as_user", None):
        # the app reads the acting agent from the config, as `--as` does for subcommands
        from dataclasses import replace

        config = replace(config, agent=args.as_user)
    result = app.run(config)
    return result if isinstance(result, int) else EXIT_OK


def _not_installed(exc: ModuleNotFoundError) -> NoReturn:
    if exc.name not in ("tui_helpdesk.tui.app", "tui_helpdesk.tui.startup", "tui_helpdesk.tui"):
        raise exc
    raise CliError(
        "the terminal app is not installed in this build (tui_helpdesk.tui.app is missing); "
        "the subcommands work: see `helpdesk --help`"
    ) from exc
