"""The built wheel is a working help desk on its own: no checkout, no editable install, no repo-relative path.

Builds a wheel from a copy of the source tree, installs it with its dependencies into a fresh venv, and
runs the installed `helpdesk` from an empty directory. A file that only the checkout has (a stylesheet, a
migration, a module the package list misses) fails here, not on a user's machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# what a build must not see: caches, the dev venv, earlier builds (a stale build/lib hides deleted files)
IGNORED = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache", "*.db*"
)

STYLES_CHECK = """
import sys
from pathlib import Path

from textual.app import App
from textual.css.stylesheet import Stylesheet

from tui_helpdesk import resources
from tui_helpdesk.tui.app import HelpdeskApp
from tui_helpdesk.tui.screens.ticket import TicketScreen
from tui_helpdesk.tui.screens.admin import AdminScreen
from tui_helpdesk.tui.screens.client import ClientScreen
from tui_helpdesk.tui.screens.reports import ReportsScreen
from tui_helpdesk.tui.widgets.composer import ComposerScreen

# the app's own sheets at start, and each screen's sheet, read when that screen first opens
screens = (TicketScreen, ComposerScreen, AdminScreen, ClientScreen, ReportsScreen)
paths = [Path(p) for p in HelpdeskApp.CSS_PATH] + [Path(s.CSS_PATH) for s in screens]
assert {p.name for p in paths} >= {"app.tcss", "queue.tcss", "ticket.tcss", "admin.tcss", "client.tcss", "reports.tcss"}, paths
for folder in (resources.styles_dir(), resources.migrations_dir(), *paths):
    assert Path(folder).resolve().is_relative_to(Path(sys.prefix).resolve()), f"{folder} is outside the venv"
sheet = Stylesheet(variables=App().get_css_variables())
sheet.read_all(paths)
sheet.parse()
print(len(sheet.rules))
"""


def _run(
    argv: list[str], cwd: Path, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bin/ of a fresh venv holding the wheel and its declared dependencies only."""
    base = tmp_path_factory.mktemp("packaging")
    src = base / "src"
    shutil.copytree(ROOT, src, ignore=IGNORED)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    wheels = base / "wheels"
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(src)], base, env, 300
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = wheels.glob("tui_helpdesk-*.whl")
    target = base / "venv"
    venv.create(target, with_pip=False)  # the running pip installs into it (--python): no ensurepip wait
    python = target / "bin" / "python"
    done = _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-compile", str(wheel)],
        base,
        env,
        300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return target / "bin"


def test_the_installed_wheel_runs_from_any_directory(installed: Path, tmp_path: Path) -> None:
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_") and k != "PYTHONPATH"}
    env.update(
        HELPDESK_DATA_DIR=str(tmp_path / "data"),
        HELPDESK_CONFIG_DIR=str(tmp_path / "config"),
        HELPDESK_WORKER_IN_APP="0",
    )
    helpdesk = str(installed / "helpdesk")

    version = _run([helpdesk, "--version"], work, env)
    assert version.returncode == 0 and version.stdout.strip() == "helpdesk 0.1.0", version

    demo = _run([helpdesk, "demo", "--tickets", "5", "--json"], work, env)
    assert demo.returncode == 0, demo.stderr
    assert json.loads(demo.stdout)["tickets"] == 5
    assert (tmp_path / "data" / "helpdesk.db").is_file()  # the default database, from the data dir

    listed = _run([helpdesk, "ticket", "list", "--json", "--limit", "5"], work, env)
    assert listed.returncode == 0, listed.stderr
    page = json.loads(listed.stdout)
    assert page["total"] > 0 and len(page["tickets"]) == 5
    assert all(t["number"] and t["subject"] for t in page["tickets"])
    assert list(work.iterdir()) == []  # nothing written to the working directory

    styles = _run([str(installed / "python"), "-c", STYLES_CHECK], work, env)
    assert styles.returncode == 0, styles.stderr
    assert int(styles.stdout) > 20  # the sheets parsed into real rules
