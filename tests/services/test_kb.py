"""The knowledge base: who may write and publish, who reads what, full-text search on both engines, stale
edits refused, the public link and the composer's text, attachments."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_helpdesk.db import session_scope
from tui_helpdesk.services import kb, settings
from tui_helpdesk.services.context import Actor
from tui_helpdesk.services.errors import Conflict, NotFound, PermissionDenied, StaleVersion, ValidationError


@pytest.fixture
def articles(desk) -> dict[str, kb.ArticleRow]:
    with desk.tx(desk.supervisor) as tx:
        printer = kb.create(tx, "Clearing a paper jam", "Open tray 2 and pull the **paper** out gently.",
                            "Printers", tags="printer, Hardware", published=True, new_category=True)
        vpn = kb.create(tx, "VPN on the café wifi", "Use the backup gateway; never share the token.",
                        "Network", tags=["vpn"], new_category=True)
    return {"printer": printer, "vpn": vpn}


def test_a_supervisor_writes_and_publishes_a_plain_agent_only_reads(desk, articles) -> None:
    with desk.tx(desk.agent) as tx, pytest.raises(PermissionDenied, match="kb.edit"):
        kb.create(tx, "Mine", "text", "Printers")
    with desk.tx(desk.agent) as tx, pytest.raises(PermissionDenied, match="kb.edit"):
        kb.set_published(tx, "vpn-on-the-cafe-wifi", True)
    with desk.tx(desk.agent) as tx:  # agents read internal articles too
        assert {r.slug for r in kb.list_articles(tx)} == {"clearing-a-paper-jam", "vpn-on-the-cafe-wifi"}
        assert kb.get(tx, articles["vpn"].id).body.startswith("Use the backup")
        assert kb.can_edit(tx) is False
    with desk.tx(desk.supervisor) as tx:
        assert kb.can_edit(tx) is True
    assert articles["printer"].tags == ("printer", "hardware")


def test_customers_read_only_published_articles(desk, articles) -> None:
    with desk.tx(Actor.system("api")) as tx:
        assert [r.slug for r in kb.list_articles(tx, public=True)] == ["clearing-a-paper-jam"]
        with pytest.raises(NotFound):
            kb.get(tx, "vpn-on-the-cafe-wifi", public=True)
    with desk.tx(desk.supervisor) as tx:
        kb.set_published(tx, "clearing-a-paper-jam", False)
    with desk.tx(Actor.system("api")) as tx:
        assert kb.list_articles(tx, public=True) == []


def test_full_text_search_uses_the_queue_words(desk, articles) -> None:
    def found(words: str) -> list[str]:
        with desk.tx(desk.agent) as tx:
            return sorted(r.slug for r in kb.list_articles(tx, words=words))

    assert found("paper") == ["clearing-a-paper-jam"]
    assert found("cafe") == ["vpn-on-the-cafe-wifi"]  # accents ignored
    assert found('"backup gateway"') == ["vpn-on-the-cafe-wifi"]
    assert found("gate*") == ["vpn-on-the-cafe-wifi"]
    assert found("hardware") == ["clearing-a-paper-jam"]  # tags are searched
    assert found("-paper") == ["vpn-on-the-cafe-wifi"]
    with desk.tx(desk.agent) as tx:
        assert [r.slug for r in kb.list_articles(tx, tag="Hardware")] == ["clearing-a-paper-jam"]
        assert [r.slug for r in kb.list_articles(tx, category="Network", published=False)] == ["vpn-on-the-cafe-wifi"]
    with desk.tx(desk.supervisor) as tx:
        kb.update(tx, "clearing-a-paper-jam", body="Call facilities about the toner.")
    assert found("paper") == ["clearing-a-paper-jam"]  # still in the title
    assert found("tray") == [] and found("toner") == ["clearing-a-paper-jam"]


def test_a_stale_edit_is_refused_and_changes_nothing(desk, articles) -> None:
    seen = articles["vpn"].version
    with desk.tx(desk.supervisor) as tx:
        kb.update(tx, "vpn-on-the-cafe-wifi", expected_version=seen, title="VPN from a café")
    with desk.tx(desk.admin) as tx, pytest.raises(StaleVersion, match="changed by sue"):
        kb.update(tx, "vpn-on-the-cafe-wifi", expected_version=seen, body="overwritten")
    with desk.tx(desk.agent) as tx:
        row = kb.get(tx, "vpn-on-the-cafe-wifi")
    assert (row.title, row.body.startswith("Use the backup"), row.version) == ("VPN from a café", True, seen + 1)
    with desk.tx(desk.supervisor) as tx, pytest.raises(ValidationError, match="title: is required"):
        kb.update(tx, row.id, title="  ")
    with desk.tx(desk.supervisor) as tx, pytest.raises(ValidationError, match="category: no category 'Nope'"):
        kb.create(tx, "T", "b", "Nope")


def test_the_composer_inserts_the_text_or_the_public_link(desk, articles) -> None:
    with desk.tx(desk.agent) as tx:
        assert kb.insert_text(tx, "clearing-a-paper-jam").startswith("Clearing a paper jam\n\nOpen tray 2")
        with pytest.raises(ValidationError, match="kb_public_url: is not set"):
            kb.insert_text(tx, "clearing-a-paper-jam", "link")
        with pytest.raises(Conflict, match="publish it"):
            kb.insert_text(tx, "vpn-on-the-cafe-wifi", "link")
    with pytest.raises(ValidationError, match="kb_public_url: an address starting with https://"):
        settings.coerce("kb_public_url", "help.example.com")
    with session_scope(desk.engine) as s:
        settings.put(s, "kb_public_url", "https://help.example.com/")
    with desk.tx(desk.agent) as tx:
        assert kb.insert_text(tx, articles["printer"].id, "link") == (
            "Clearing a paper jam: https://help.example.com/api/public/kb/clearing-a-paper-jam"
        )


def test_attachments_are_stored_apart_and_go_with_the_article(desk, articles, tmp_path: Path) -> None:
    src = tmp_path / "diagram.png"
    src.write_bytes(b"\x89PNG data")
    store = tmp_path / "store"
    with desk.tx(desk.supervisor) as tx:
        row = kb.attach(tx, "clearing-a-paper-jam", src, store)
    with desk.tx(Actor.system("api")) as tx:
        meta, path = kb.attachment_path(tx, row.id, store, public=True)
    assert meta.filename == "diagram.png" and path.read_bytes() == b"\x89PNG data"
    assert path.is_relative_to(store / kb.STORE_FOLDER)
    with desk.tx(desk.supervisor) as tx:
        assert kb.get(tx, "clearing-a-paper-jam").attachments == (meta,)
        kb.delete(tx, "clearing-a-paper-jam", store)
    assert not path.exists()
    with desk.tx(desk.agent) as tx:
        assert kb.list_articles(tx, words="paper") == []
