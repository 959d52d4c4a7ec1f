"""The built wheel is a working help desk on its own: no checkout, no editable install, no repo-relative path.

Builds a wheel from a copy of the source tree, installs it into a fresh venv that sees its declared
dependencies and nothing else, and runs the installed `helpdesk` from an empty directory. A file that only
the checkout has (a stylesheet, a migration, a module the package list misses) or an import of a package
the wheel does not declare fails here, not on a user's machine.

The build and the install are the ones a user's tools run, without the parts that only fetch: the wheel is
built by setuptools' PEP 517 hook (what `pip wheel` and `python -m build` call) with the test venv's
setuptools, checked against the project's [build-system] requirement, and the dependencies are not
downloaded and installed again: the new venv reads them from the test venv through a folder holding
exactly the distributions the wheel's metadata asks for, followed to the end. That took 48 s of a
CI run (25 s of it waiting on the package index, and each of the four processes compiled every
dependency from source); now ~5 s, offline.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import venv
import zipfile
from email.parser import Parser
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

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
import tui_helpdesk
for folder in (Path(tui_helpdesk.__file__), resources.styles_dir(), resources.migrations_dir(), *paths):
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


def _build_wheel(src: Path, out: Path, env: dict[str, str]) -> Path:
    """The wheel as a PEP 517 frontend builds it, without build isolation (which would fetch setuptools)."""
    for wanted in tomllib.loads((src / "pyproject.toml").read_text())["build-system"]["requires"]:
        requirement = Requirement(wanted)
        have = metadata.version(requirement.name)
        assert requirement.specifier.contains(have), f"the build needs {wanted}; the test venv has {have}"
    hook = f"from setuptools import build_meta; print(build_meta.build_wheel({str(out)!r}))"
    built = _run([sys.executable, "-c", hook], src, env, 300)
    assert built.returncode == 0, built.stdout + built.stderr
    return out / built.stdout.strip().splitlines()[-1]


def _requirements(requires: list[str] | None, extras: set[str]) -> list[Requirement]:
    """The requirements that apply on this machine with those extras (an `extra == "test"` one only then)."""
    applying = []
    for line in requires or ():
        requirement = Requirement(line)
        marker = requirement.marker
        if marker is None or any(marker.evaluate({"extra": extra}) for extra in extras | {""}):
            applying.append(requirement)
    return applying


def _dependency_folder(wheel: Path, folder: Path) -> list[str]:
    """Fill `folder` with links to the test venv's files of every distribution the wheel requires,
    directly or through another one; returns their names. What the wheel does not declare is missing."""
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        requires = Parser().parsestr(archive.read(name).decode()).get_all("Requires-Dist")
    site = Path(sysconfig.get_paths()["purelib"])
    seen: dict[str, set[str]] = {}
    todo = _requirements(requires, set())
    while todo:
        requirement = todo.pop()
        key = canonicalize_name(requirement.name)
        extras = set(requirement.extras)
        if key in seen and extras <= seen[key]:
            continue
        seen[key] = seen.get(key, set()) | extras
        dist = metadata.distribution(requirement.name)
        assert requirement.specifier.contains(dist.version, prereleases=True), (requirement, dist.version)
        todo += _requirements(dist.requires, seen[key])
        for file in dist.files or ():
            top = file.parts[0]
            if top != ".." and not top.endswith(".pth") and (site / top).exists() and not (folder / top).exists():
                (folder / top).symlink_to(site / top)
    return sorted(seen)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bin/ of a fresh venv holding the wheel, whose imports find its declared dependencies only."""
    base = tmp_path_factory.mktemp("packaging")
    src = base / "src"
    shutil.copytree(ROOT, src, ignore=IGNORED)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    (base / "wheels").mkdir()
    wheel = _build_wheel(src, base / "wheels", env)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert {"tui_helpdesk/styles/ticket.tcss", "tui_helpdesk/migrations/env.py"} <= names, sorted(names)
    assert any(n.startswith("tui_helpdesk/migrations/versions/0001") for n in names), sorted(names)

    target = base / "venv"
    venv.create(target, with_pip=False)  # the running pip installs into it (--python): no ensurepip wait
    python = target / "bin" / "python"
    venv_site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          base, env).stdout.strip())
    dependencies = base / "dependencies"
    dependencies.mkdir()
    assert {"textual", "sqlmodel", "alembic"} <= set(_dependency_folder(wheel, dependencies))
    # after the venv's own site-packages: the installed wheel comes first, the test venv's copy is not there
    (venv_site / "declared_dependencies.pth").write_text(f"{dependencies}\n")
    # pip byte-compiles what it installs, as for a user, unless the shell forbids writing bytecode: then
    # each of the processes below would compile the whole package again
    compiling = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index",
         str(wheel)],
        base,
        compiling,
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
