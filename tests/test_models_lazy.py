"""The table modules imported on first use (models/__init__.py, issue 11's start-up) are leaves."""

from __future__ import annotations

import importlib
import pkgutil

from sqlalchemy import Table

from tui_helpdesk import models


def _tables_by_module() -> dict[str, dict[str, Table]]:
    """module name -> {class name: its table}, for every module of the package."""
    out: dict[str, dict[str, Table]] = {}
    for info in pkgutil.iter_modules(models.__path__):
        module = importlib.import_module(f"{models.__name__}.{info.name}")
        out[info.name] = {
            name: value.__table__ for name, value in vars(module).items()
            if isinstance(value, type) and value.__module__ == module.__name__ and hasattr(value, "__table__")
        }
    return out


def test_no_table_imported_with_the_package_refers_to_one_imported_later() -> None:
    # else a foreign key of a loaded table could name a table not yet on the metadata
    by_module = _tables_by_module()
    core = {t.name for m, tables in by_module.items() if m not in models._LAZY for t in tables.values()}
    wrong = sorted(
        f"{t.name}.{fk.parent.name} -> {fk.column.table.name}"
        for m, tables in by_module.items() if m not in models._LAZY
        for t in tables.values() for fk in t.foreign_keys if fk.column.table.name not in core
    )
    assert wrong == []


def test_every_table_class_is_named_by_the_package() -> None:
    # a table module neither imported by the package nor listed in _LAZY would be missing from
    # load_all(), so from autogenerate and from a deletion's scan of foreign keys
    missing = sorted(
        f"{m}.{name}" for m, tables in _tables_by_module().items() if m not in models._LAZY
        for name in tables if name not in vars(models)
    )
    assert missing == []
    assert models.metadata is models.load_all()
    assert models.Mailbox.__table__.name == "mailbox"
