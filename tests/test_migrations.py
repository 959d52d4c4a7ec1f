"""The migrations and the models describe the same schema, and the migrations run both ways."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, ForeignKeyConstraint, Table, inspect
from sqlmodel import SQLModel

from tui_helpdesk import db
from tui_helpdesk.models import load_all
from tui_helpdesk.models.search import include_object, is_search_table

# alembic (~0.2 s of CPU to import) is imported in the functions that use it, and load_all() runs when a test
# here does, not at collection: every xdist worker collects this file, and the workers that do not run these
# tests use a template migrated by another (tests/support/databases.py) and need neither.


@pytest.fixture(scope="module", autouse=True)
def _all_tables() -> None:
    load_all()  # every table on SQLModel.metadata, the lazily imported ones too


def _describe(item: object) -> str:
    # alembic's diff entries hold SQLAlchemy objects whose reprs hide the names that matter.
    if isinstance(item, list):
        return "; ".join(_describe(part) for part in item)
    if isinstance(item, tuple):
        return "(" + ", ".join(_describe(part) for part in item) + ")"
    if isinstance(item, ForeignKeyConstraint):
        return (
            f"FK {item.name} {item.parent.name}({', '.join(c.name for c in item.columns)})"
            f" -> {item.referred_table.name}"
        )
    table = getattr(item, "table", None)
    if hasattr(item, "name") and table is not None:
        return f"{type(item).__name__} {item.name} on {table.name}"
    if isinstance(item, Table):
        return f"table {item.name}"
    return repr(item)


def _schema_diff(engine: Engine) -> list[str]:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include_object})
        return [_describe(entry) for entry in compare_metadata(context, SQLModel.metadata)]


def _tables(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        names = set(inspect(conn).get_table_names()) - {"alembic_version"}
        return {n for n in names if not is_search_table(n)}


def test_models_match_migrations(engine: Engine) -> None:
    # A non-empty diff means a model changed without a migration (or the other way round).
    assert _schema_diff(engine) == []
    assert _tables(engine) == set(SQLModel.metadata.tables)


def test_downgrade_to_base_and_upgrade_again(engine: Engine) -> None:
    from alembic import command
    from alembic.migration import MigrationContext

    cfg = db.alembic_config(engine)
    command.downgrade(cfg, "base")
    assert _tables(engine) == set()

    command.upgrade(cfg, "head")
    assert _tables(engine) == set(SQLModel.metadata.tables)
    assert _schema_diff(engine) == []
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == db.head_revision()


def test_one_head_named_like_its_file() -> None:
    from alembic.script import ScriptDirectory

    # Two engineers adding revisions on the same parent make two heads and `upgrade head` refuses to run.
    script = ScriptDirectory.from_config(db.alembic_config(None))  # type: ignore[arg-type]
    assert len(script.get_heads()) == 1
    # db.ensure_schema skips importing alembic when the stored revision equals the newest file's prefix;
    # a file named differently from its revision id would make every start run the migrations.
    for revision in script.walk_revisions():
        assert Path(revision.path).name.split("_", 1)[0] == revision.revision
    assert db._latest_revision_file() == script.get_current_head()


def test_every_migration_keeps_a_populated_desk(engine: Engine) -> None:
    """An upgrade runs on a desk that has tickets, not on an empty schema: on SQLite a batch migration
    rebuilds a table (DROP TABLE), which a referencing row refuses while foreign keys are enforced."""
    from alembic import command
    from sqlalchemy import func, select

    from tui_helpdesk.models import Attachment, Ticket, TicketEntry
    from tui_helpdesk.services import demo

    demo.build_demo(engine, tickets=6, seed=3, admin_username="root")
    with engine.connect() as conn:
        before = [conn.execute(select(func.count()).select_from(m)).scalar_one() for m in (Ticket, TicketEntry)]
    assert before[0] == 6 and before[1] > 6
    cfg = db.alembic_config(engine)
    command.downgrade(cfg, "0004")
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        after = [conn.execute(select(func.count()).select_from(m)).scalar_one() for m in (Ticket, TicketEntry)]
        attachments = conn.execute(select(func.count()).select_from(Attachment)).scalar_one()
    assert after == before and attachments >= 0
    assert _schema_diff(engine) == []
