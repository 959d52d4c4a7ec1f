"""Mutation testing on request: how many small deliberate breakages of services/ and mail/ the tests catch.

Not part of the test run or CI (a whole run takes hours on two cores). Install the tool, then run:

    .venv/bin/pip install -e '.[mutation]'
    .venv/bin/python benchmarks/mutation.py                    # all of tui_helpdesk/services and tui_helpdesk/mail
    .venv/bin/python benchmarks/mutation.py \\
        --module tui_helpdesk/services/lifecycle.py --tests tests/services/test_lifecycle.py

mutmut (PyPI) writes a mutated copy of the package into mutants/ beside the code; the working tree is
shared with other people's test runs, so this script first copies the tree as it stands (tracked and
untracked files, not ignored ones) into a scratch directory, writes mutmut's settings there
(setup.cfg; the project's pyproject has no [tool.mutmut]), runs `mutmut run`, and prints per module the
share of mutants killed. Mutants no selected test runs ("no tests") count as not killed: they are
code no test reaches. With --keep the directory stays, to look at survivors:
`cd DIR && ../.venv/bin/python -m mutmut results` then `... mutmut show NAME`.
PostgreSQL variants of the tests are left out unless --postgres is given (the SQLite runs reach the
same code, at a fraction of the time).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCOPE = ("tui_helpdesk/services/", "tui_helpdesk/mail/")
DEFAULT_TESTS = ("tests/services", "tests/mail", "tests/mail_flow", "tests/test_queries.py",
                 "tests/test_filter_query.py")
# what the copied package needs beside its own files: the schema and the stylesheets it loads
ALSO_COPY = ("migrations/", "styles/", "alembic.ini")


def copy_tree(target: Path) -> None:
    names = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout.decode().split("\0")
    for name in filter(None, names):
        source = ROOT / name
        if source.is_file():  # a file deleted in the working tree is still listed by --cached
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def write_config(target: Path, modules: list[str], tests: list[str], postgres: bool) -> None:
    def lines(values: list[str]) -> str:
        return "".join(f"\n    {v}" for v in values)

    pytest_args = ["-p", "no:cacheprovider", "-q"] + ([] if postgres else ["-m", "not postgres"])
    only = [m if m.endswith(".py") else m.rstrip("/") + "/*" for m in modules]
    (target / "setup.cfg").write_text(
        "[mutmut]\n"
        "source_paths = tui_helpdesk/\n"
        f"only_mutate ={lines(only)}\n"
        f"also_copy ={lines(list(ALSO_COPY))}\n"
        f"pytest_add_cli_args_test_selection ={lines(tests)}\n"
        f"pytest_add_cli_args ={lines(pytest_args)}\n",
        encoding="utf-8",
    )


def summarise(results: str) -> list[tuple[str, Counter]]:
    """`mutmut results --all true` lines (`    pkg.module.x_func__mutmut_3: killed`) -> counts per module."""
    by_module: dict[str, Counter] = defaultdict(Counter)
    for line in results.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and "__mutmut_" in name:
            by_module[name.rsplit(".", 1)[0]][status] += 1
    return sorted(by_module.items())


def report(rows: list[tuple[str, Counter]]) -> str:
    out = [f"{'module':<40} {'mutants':>7} {'killed':>6} {'survived':>8} {'no tests':>8} {'timeout':>7} "
           f"{'killed %':>8}"]
    total: Counter = Counter()
    for module, counts in [*rows, ("all", None)]:
        if counts is None:
            counts = total
        else:
            total.update(counts)
        n = sum(counts.values())
        # a mutant that makes a test hang was noticed too: timeouts count as killed
        caught = counts["killed"] + counts["timeout"]
        share = f"{100 * caught / n:.1f}" if n else "-"
        out.append(f"{module:<40} {n:>7} {counts['killed']:>6} {counts['survived']:>8} "
                   f"{counts['no tests']:>8} {counts['timeout']:>7} {share:>8}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--module", action="append", metavar="PATH",
                   help=f"a file or folder to mutate, inside {' or '.join(SCOPE)} (repeatable; default both)")
    p.add_argument("--tests", action="append", metavar="PATH",
                   help="tests to run against each mutant (repeatable; default: " + ", ".join(DEFAULT_TESTS) + ")")
    p.add_argument("--postgres", action="store_true", help="also run the PostgreSQL variants of the tests")
    p.add_argument("--max-children", type=int, default=2, help="mutants tested at once (default 2)")
    p.add_argument("--keep", action="store_true", help="keep the scratch directory and say where it is")
    args = p.parse_args(argv)

    modules = args.module or list(SCOPE)
    outside = [m for m in modules if not m.startswith(SCOPE)]
    if outside:
        p.error(f"--module: {', '.join(outside)} is outside {' and '.join(SCOPE)}")
    missing = [m for m in modules + (args.tests or []) if not (ROOT / m).exists()]
    if missing:
        p.error(f"no such file or folder: {', '.join(missing)}")
    work = Path(tempfile.mkdtemp(prefix="helpdesk-mutation-"))
    # the scratch copy is not beside ../shared, so point the corpus tests at the real one or they skip
    corpus = ROOT.parent / "shared" / "mail-corpus"
    if corpus.is_dir():
        os.environ.setdefault("HELPDESK_TEST_MAIL_CORPUS", str(corpus))
    try:
        copy_tree(work)
        write_config(work, modules, args.tests or list(DEFAULT_TESTS), args.postgres)
        mutmut = [sys.executable, "-m", "mutmut"]
        # mutmut redraws one status line; it goes to the terminal as it runs, the figures come after
        run = subprocess.run([*mutmut, "run", "--max-children", str(args.max_children)], cwd=work)
        results = subprocess.run([*mutmut, "results", "--all", "true"], cwd=work, capture_output=True,
                                 text=True)
        print()
        print(report(summarise(results.stdout)))
        if run.returncode != 0:
            print(f"mutmut run exited {run.returncode}", file=sys.stderr)
        return run.returncode
    finally:
        if args.keep:
            print(f"kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
