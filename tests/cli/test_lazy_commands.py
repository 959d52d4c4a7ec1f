"""The CLI builds only the parser of the command given (cli.COMMANDS): the map must name, for every
command, the module that registers it, and a line without a known command gets the whole parser."""

from __future__ import annotations

import importlib

from tui_helpdesk import cli


def _registered(module: str) -> set[str]:
    parser = cli._Parser(prog="helpdesk", top_level=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=cli._Parser)
    importlib.import_module(module).register(sub)
    return set(sub.choices)


def test_every_command_maps_to_the_module_that_registers_it() -> None:
    expected = {name: module for module in cli.COMMAND_MODULES for name in _registered(module)}
    assert cli.COMMANDS == expected


def test_the_command_decides_which_modules_are_built() -> None:
    mail = ("tui_helpdesk.cli.mail",)
    assert cli._modules_for(["ingest", "--mailbox", "x@y"]) == mail
    assert cli._modules_for(["--json", "--as", "ticket", "mail", "ignored", "list"]) == mail
    assert cli._modules_for(["--as=root", "outbox", "list"]) == mail
    for whole in ([], ["--help"], ["-h", "ingest"], ["--version"], ["no-such-command"], ["--json"]):
        assert cli._modules_for(whole) == cli.COMMAND_MODULES, whole


def test_help_still_lists_every_command(capsys) -> None:
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in cli.COMMANDS), out


def test_usage_errors_read_the_same_as_with_the_whole_parser() -> None:
    import pytest

    for argv in (["ingest", "--bogus"], ["mail", "quarantine", "retry"], ["ticket", "show"], ["worker", "-x"]):
        messages = []
        for parser in (cli.build_parser(), cli.build_parser(cli._modules_for(argv))):
            with pytest.raises(cli.CliError) as err:
                parser.parse_args(argv)
            messages.append((err.value.message, err.value.code))
        assert messages[0] == messages[1], argv
