"""Drafts kept across screens and runs: one per agent, ticket and kind; gone once sent; private."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_helpdesk.services import drafts, tickets
from tui_helpdesk.services.context import reading
from tui_helpdesk.services.errors import NoAccess, ValidationError


def _ticket(desk, dept: str = "Support") -> str:
    with desk.tx() as tx:
        return tickets.create(tx, subject="VPN", body="down", contact_email="bob@acme.example",
                              department=dept).number


def test_a_kept_draft_replaces_the_last_is_private_and_goes_when_sent(desk, tmp_path: Path) -> None:
    ref = _ticket(desk)
    with desk.tx(desk.agent) as tx:
        assert drafts.keep(tx, ref, "reply", "Hello", cc=["a@x.com"], time_spent=5)
        assert drafts.keep(tx, ref, "reply", "Hello Bob", cc=["a@x.com"], time_spent=5, files=["/tmp/log.txt"])
        assert drafts.keep(tx, ref, "note", "internal")
        assert not tx.changed  # keeping a draft is not a change of the ticket
    with reading(desk.engine, desk.agent) as tx:
        kept = {d.kind: d for d in drafts.kept(tx, ref)}
        assert kept["reply"].body == "Hello Bob" and kept["reply"].cc == ("a@x.com",)
        assert kept["reply"].files == ("/tmp/log.txt",) and kept["reply"].time_spent == 5
        assert [(d.number, d.kind) for d in drafts.mine(tx)][0][0] == ref
    with reading(desk.engine, desk.supervisor) as tx:  # another agent of the department sees none of it
        assert drafts.kept(tx, ref) == [] and drafts.mine(tx) == []
    drafts.send(desk.engine, desk.agent, ref, "reply", "Hello Bob", expected_version=None,
                attachments_dir=tmp_path)
    with reading(desk.engine, desk.agent) as tx:
        assert [d.kind for d in drafts.kept(tx, ref)] == ["note"]
    with desk.tx(desk.agent) as tx:
        assert not drafts.keep(tx, ref, "note", "   ")  # emptied: nothing kept
        assert drafts.kept(tx, ref) == []


def test_a_failed_send_keeps_the_draft(desk, tmp_path: Path) -> None:
    ref = _ticket(desk)
    with desk.tx(desk.agent) as tx:
        drafts.keep(tx, ref, "reply", "my words")
    with pytest.raises(ValidationError):
        drafts.send(desk.engine, desk.agent, ref, "reply", "my words", expected_version=None,
                    attachments_dir=tmp_path, files=[tmp_path / "missing.pdf"])
    with reading(desk.engine, desk.agent) as tx:
        assert [d.body for d in drafts.kept(tx, ref)] == ["my words"]


def test_drafts_refuse_a_ticket_out_of_reach_and_a_bad_kind(desk) -> None:
    ref = _ticket(desk, "Billing")
    with desk.tx(desk.agent) as tx, pytest.raises(NoAccess):
        drafts.keep(tx, ref, "reply", "x")
    with desk.tx(desk.admin) as tx, pytest.raises(ValidationError, match="kind"):
        drafts.keep(tx, ref, "memo", "x")
