"""Attachments: stored under random names with their hash, limits from settings, saved back to a path."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tui_helpdesk.db import session_scope
from tui_helpdesk.models import Attachment
from tui_helpdesk.services import attachments, settings, tickets
from tui_helpdesk.services.errors import PermissionDenied, ValidationError


@pytest.fixture
def ticket(desk, db_url, built_once) -> str:
    """One Support ticket, made once per session and engine, then copied (tests/support/snapshots.py)."""

    def build() -> str:
        with desk.tx() as tx:
            return tickets.create(
                tx, subject="Logs", body="see file", contact_email="a@acme.com", department="Support"
            ).number

    return built_once(db_url, "attachments-ticket", build)


def test_store_copies_under_a_random_name_and_records_the_hash(desk, ticket, tmp_path: Path) -> None:
    src = tmp_path / "evil name.log"
    src.write_bytes(b"hello log")
    store = tmp_path / "store"
    with desk.tx() as tx:
        entry = tickets.note(tx, ticket, "with file")
        saved = attachments.store(tx, ticket, src, store, entry_id=entry.id)
    assert saved.path.parent.parent == store and saved.path.name != src.name
    assert saved.path.read_bytes() == b"hello log"
    with session_scope(desk.engine, write=False) as s:
        row = s.get(Attachment, saved.id)
        assert (row.filename, row.size, row.sha256) == (
            "evil name.log",
            9,
            hashlib.sha256(b"hello log").hexdigest(),
        )
        assert row.entry_id == entry.id and row.content_type == "text/plain"  # sniffed: text, named .log


def test_blocked_types_and_size_limit_are_refused_with_the_reason(desk, ticket, tmp_path: Path) -> None:
    exe = tmp_path / "invoice.pdf.EXE"
    exe.write_bytes(b"MZ")
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * (1024 * 1024 + 1))
    with session_scope(desk.engine) as s:
        settings.put(s, "attachment_max_mb", 1)
    with desk.tx() as tx, pytest.raises(ValidationError, match=r"\.exe are not accepted"):
        attachments.store(tx, ticket, exe, tmp_path / "store")
    with desk.tx() as tx, pytest.raises(ValidationError, match="the limit is 1 MB"):
        attachments.store(tx, ticket, big, tmp_path / "store")
    with desk.tx() as tx, pytest.raises(ValidationError, match="does not exist"):
        attachments.store(tx, ticket, tmp_path / "missing.txt", tmp_path / "store")
    assert not (tmp_path / "store").exists() or not any((tmp_path / "store").rglob("*.*"))


def test_save_to_a_directory_or_file_never_overwrites(desk, ticket, tmp_path: Path) -> None:
    src = tmp_path / "report.txt"
    src.write_text("numbers")
    store = tmp_path / "store"
    with desk.tx() as tx:
        saved = attachments.store(tx, ticket, src, store)
    out = tmp_path / "out"
    out.mkdir()
    with desk.tx() as tx:
        path = attachments.save(tx, saved.id, out, store)
    assert path == out / "report.txt" and path.read_text() == "numbers"
    with desk.tx() as tx, pytest.raises(ValidationError, match="already exists"):
        attachments.save(tx, saved.id, out, store)
    with desk.tx() as tx:
        assert attachments.save(tx, saved.id, out / "copy.txt", store).read_text() == "numbers"


def test_damaged_store_file_is_detected(desk, ticket, tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_text("original")
    store = tmp_path / "store"
    with desk.tx() as tx:
        saved = attachments.store(tx, ticket, src, store)
    saved.path.write_text("tampered")
    with desk.tx() as tx, pytest.raises(ValidationError, match="damaged"):
        attachments.save(tx, saved.id, tmp_path / "out.txt", store)
    assert not (tmp_path / "out.txt").exists()


def test_an_agent_without_access_cannot_store_or_save(desk, ticket, tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_text("x")
    store = tmp_path / "store"
    with desk.tx() as tx:
        saved = attachments.store(tx, ticket, src, store)
    with desk.tx(desk.outsider) as tx, pytest.raises(PermissionDenied):
        attachments.store(tx, ticket, src, store)
    with desk.tx(desk.outsider) as tx, pytest.raises(PermissionDenied):
        attachments.save(tx, saved.id, tmp_path / "o.txt", store)
