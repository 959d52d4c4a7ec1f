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
