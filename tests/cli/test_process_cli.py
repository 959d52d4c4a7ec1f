"""`helpdesk` as a process: what a shell sees (exit status, stderr) for --version, usage errors, a closed
pipe and a crashing terminal app."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui_helpdesk import __version__, cli


def _env(tmp_path: Path, db_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env.update(HELPDESK_DATA_DIR=str(tmp_path / "data"), HELPDESK_CONFIG_DIR=str(tmp_path / "config"))
    if db_url:
        env["HELPDESK_DATABASE_URL"] = db_url
    return env


def test_version_is_the_installed_distributions(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out == f"helpdesk {version('tui-helpdesk')}\n"
    assert __version__ == version("tui-helpdesk")


def test_a_usage_error_says_helpdesk_error_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["ticket", "show"]) == cli.EXIT_USAGE
    assert (
        capsys.readouterr().err == "helpdesk: error: ticket show: the following arguments are required: REF\n"
    )
    assert cli.main(["--limit"]) == cli.EXIT_USAGE
    assert capsys.readouterr().err == "helpdesk: error: unrecognized arguments: --limit\n"


def test_a_reader_that_closes_the_pipe_ends_it_quietly(make, tmp_path: Path, sqlite_url: str) -> None:
    """`helpdesk ticket show --json | head -1`: no BrokenPipeError traceback, the SIGPIPE status.

    On SQLite only: the subject is the process and its pipe, which no engine changes. One ticket with a
    long body gives far more output than a pipe buffer holds (a 150-ticket demo for `ticket list` cost
    ~30 s of setup for the same few hundred kilobytes)."""
    body = "\n".join(f"line {n}: the printer on floor 3 jams again" for n in range(6000))  # ~250 kB
    number = make("Printer jams", body=body)["number"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui_helpdesk.cli", "--as", "root", "ticket", "show", number, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(tmp_path, sqlite_url),
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().strip() == b"{"  # it started printing; far more than a pipe buffer follows
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == cli.EXIT_BROKEN_PIPE
    assert err == ""


CRASH = """
import sys
from tui_helpdesk import cli
from tui_helpdesk.tui.app import HelpdeskApp

def on_mount(self):
    raise RuntimeError("the app fell over")

HelpdeskApp.on_mount = on_mount
sys.exit(cli.main([]))
"""


def test_a_crash_of_the_terminal_app_is_a_failing_exit_status(tmp_path: Path, sqlite_url: str) -> None:
    # a migrated copy: on a fresh data dir the process would first run every migration (~2 s of CPU)
    env = _env(tmp_path, sqlite_url) | {"TEXTUAL_DRIVER": "textual.drivers.headless_driver:HeadlessDriver"}
    result = subprocess.run(
        [sys.executable, "-c", CRASH], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "the app fell over" in result.stdout + result.stderr


def test_a_process_skips_the_interpreters_last_collection(monkeypatch: pytest.MonkeyPatch) -> None:
    """A `helpdesk` process ends without a last full collection over the ORM's and Textual's objects
    (about 0.5 s of CPU per command): main registers gc.freeze to run at exit, once per process."""
    import gc

    registered: list[object] = []
    monkeypatch.setattr("atexit.register", registered.append)
    cli._skip_the_last_collection.cache_clear()
    assert cli.main(["--version"]) == 0
    assert cli.main(["--version"]) == 0
    assert registered == [gc.freeze]
