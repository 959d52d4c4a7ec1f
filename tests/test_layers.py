"""The layers read top-down: a lower layer never imports an upper one (DESIGN.md, "Layout").

Checked on the source (every import statement, lazy ones inside functions included), so an import
added anywhere in a module is caught, not only the ones a test happens to execute."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "tui_helpdesk"


def _imports(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, relative ones resolved."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = parts[:-1]  # a module's package; for __init__.py, the package itself
    source = path.read_text(encoding="utf-8") if source is None else source
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.append((node.lineno, name))
            # `from tui_helpdesk import services` names the package through the alias
            found += [(node.lineno, f"{name}.{alias.name}") for alias in node.names]
    return found


def _offenders(layer: str, forbidden: str) -> list[str]:
    bad = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for line, name in _imports(path):
            if name == forbidden or name.startswith(forbidden + "."):
                bad.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}")
    return bad


def test_the_checker_sees_absolute_relative_and_lazy_imports() -> None:
    # the rule is only as good as the scanner: it must resolve every spelling of an import
    source = (
        "def f():\n    from ..services import lookup\n"
        "from tui_helpdesk import services\nimport tui_helpdesk.services.tickets\n"
    )
    names = [name for _, name in _imports(PACKAGE / "mail" / "probe.py", source)]
    assert "tui_helpdesk.services.lookup" in names
    assert "tui_helpdesk.services" in names
    assert "tui_helpdesk.services.tickets" in names


def test_mail_imports_nothing_from_services() -> None:
    assert _offenders("mail", "tui_helpdesk.services") == []


def test_the_app_imports_nothing_from_the_cli() -> None:
    # the admin screens once borrowed use cases from cli_lifecycle.py; they live in services now
    assert _offenders("tui", "tui_helpdesk.cli") == []


# --- the app never writes on its own (issue 9: "no screen opens a writing transaction") ------------------

# What only services may use: the transactions (reading ones too: a screen reads through
# services.door.read), the session factory for writes, the audit trail, and SQL itself. `Engine` is
# allowed (screens pass it on as a handle, as a type).
_APP_FORBIDDEN_NAMES = {
    "tui_helpdesk.services.context": {"transaction", "reading", "audit", "event", "touch", "bump_counter"},
    "tui_helpdesk.db": {"session_scope"},
    "sqlalchemy": {"select", "delete", "update", "insert", "text", "func", "Session"},
    "sqlalchemy.orm": {"Session", "sessionmaker"},
    "sqlmodel": {"Session", "select", "delete", "update", "insert"},
}
_SESSION_WRITES = {"add", "add_all", "delete", "execute", "flush", "commit", "merge", "scalar", "scalars"}


def _app_writes(path: Path, source: str | None = None) -> list[str]:
    """Each way a module of the app could write (or query) behind the services' back."""
    source = path.read_text(encoding="utf-8") if source is None else source
    bad = []
    for node in ast.walk(ast.parse(source, str(path))):
        where = f"{path.name}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.ImportFrom) and node.module in _APP_FORBIDDEN_NAMES:
            names = {a.name for a in node.names} & _APP_FORBIDDEN_NAMES[node.module]
            bad += [f"{where} imports {node.module}.{n}" for n in sorted(names)]
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in {"transaction", "reading", "session_scope", "audit"}:
                bad.append(f"{where} calls {name}()")
            # session.add(...), tx.session.execute(...), s.delete(...)
            if isinstance(func, ast.Attribute) and func.attr in _SESSION_WRITES:
                owner = func.value
                owner_name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
                if owner_name in {"session", "s", "sess"}:
                    bad.append(f"{where} calls {owner_name}.{func.attr}()")
        elif isinstance(node, ast.Attribute) and node.attr in {"transaction", "reading", "session_scope"}:
            bad.append(f"{where} uses .{node.attr}")
    return bad


def test_the_write_checker_catches_each_way_round_the_door() -> None:
    probe = PACKAGE / "tui" / "probe.py"
    source = (
        "from tui_helpdesk.services.context import transaction, reading\n"
        "from sqlalchemy import Engine, select, delete\n"
        "from tui_helpdesk import db\n"
        "def f(engine, tx):\n"
        "    with db.session_scope(engine) as s:\n"
        "        s.add(1)\n"
        "    tx.session.execute(2)\n"
        "    context.transaction(engine, None)\n"
        "    with reading(engine, None) as tx:\n"
        "        pass\n"
        "    context.reading(engine, None)\n"
    )
    found = "\n".join(_app_writes(probe, source))
    for expected in (
        "imports tui_helpdesk.services.context.transaction",
        "imports sqlalchemy.select",
        "imports sqlalchemy.delete",
        "calls session_scope()",
        "calls s.add()",
        "calls session.execute()",
        "calls transaction()",
        "imports tui_helpdesk.services.context.reading",
        "calls reading()",
        "uses .reading",
    ):
        assert expected in found, expected
    assert "Engine" not in found


def test_no_module_of_the_app_opens_a_transaction_or_runs_sql() -> None:
    bad = [f"{p.relative_to(PACKAGE.parent)}: {b}" for p in sorted((PACKAGE / "tui").rglob("*.py"))
           for b in _app_writes(p)]
    assert bad == [], "the app reads and writes only through services.door:\n" + "\n".join(bad)
