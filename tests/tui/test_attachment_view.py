"""Enter on an attachment shows it inside the app (text, CSV as a table, an image's dimensions); p and o
hand a private copy to $PAGER / xdg-open; the services decide who may read it (issue 12, item 12)."""

from __future__ import annotations

import stat
import struct
import zlib
from pathlib import Path

import pytest
from test_ticket_screen import Data, Harness, on_top, opened, pick, pilot_test
from test_ticket_screen import data as data  # noqa: F401 - the fixture
from textual.widgets import DataTable, Static
from waiting import until

from tui_helpdesk.models import Attachment
from tui_helpdesk.services import attachment_view, drafts
from tui_helpdesk.services.context import reading
from tui_helpdesk.services.errors import NoAccess
from tui_helpdesk.tui.screens.attachment import AttachmentScreen
from tui_helpdesk.tui.screens.ticket import TicketScreen


def png(width: int, height: int) -> bytes:
    head = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + head
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(head)) + chunk + struct.pack(">I", zlib.crc32(chunk))


def _attach(data: Data, tmp_path: Path) -> None:
    files = {
        "notes.txt": b"line one\x1b[2J\x1b]0;pwned\x07 and more\n",
        "prices.csv": b"item;price\nlaptop;900\nmouse;20\n",
        "photo.png": png(640, 480),
    }
    paths = []
    for name, body in files.items():
        (tmp_path / name).write_bytes(body)
        paths.append(tmp_path / name)
    drafts.send(data.engine, data.admin, "TCK-1000", "note", "files attached", expected_version=None,
                attachments_dir=data.config.attachments_dir, files=paths)


def test_image_dimensions_come_from_the_header() -> None:
    assert attachment_view.image_size(png(3, 2)) == ("PNG", 3, 2)
    assert attachment_view.image_size(b"GIF89a" + struct.pack("<HH", 7, 5)) == ("GIF", 7, 5)
    jpeg = b"\xff\xd8\xff\xe0" + struct.pack(">H", 4) + b"JF" + b"\xff\xc0" + struct.pack(">HBHH", 11, 8, 48, 64)
    assert attachment_view.image_size(jpeg + b"\x00" * 8) == ("JPEG", 64, 48)
    assert attachment_view.image_size(b"MZ\x90\x00") is None


@pilot_test
async def test_enter_views_text_csv_and_image_and_p_hands_a_private_copy_to_the_pager(
    data: Data, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _attach(data, tmp_path)
    monkeypatch.setenv("PAGER", "less -R")
    app = Harness(data, data.vpn)
    async with app.run_test(size=(120, 36)) as pilot:
        await opened(pilot)
        await pilot.press("enter")  # the newest entry, the note with three files: which one?
        await pick(pilot, "prices")
        viewer = await on_top(pilot, AttachmentScreen)
        table = viewer.query_one(DataTable)
        await until(pilot, lambda: table.display and table.row_count == 2, "the CSV as a table")
        assert [str(c.label) for c in table.columns.values()] == ["item", "price"]
        assert [str(v) for v in table.get_row_at(0)] == ["laptop", "900"]
        await pilot.press("escape")
        await on_top(pilot, TicketScreen)
        await pilot.press("enter")
        await pick(pilot, "notes")
        viewer = await on_top(pilot, AttachmentScreen)
        text = viewer.query_one("#attachment-text", Static)
        await until(pilot, lambda: "line one" in str(text.render()), "the text")
        assert "\x1b" not in str(text.render()) and "pwned" not in str(text.render()).split("one")[0]
        await pilot.press("p")
        await until(pilot, lambda: viewer.handed, "the pager asked for")
        command = viewer.handed[-1]
        assert command[:2] == ["less", "-R"] and command[-1].endswith("notes.txt")
        copy = Path(command[-1])
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600 and stat.S_IMODE(copy.parent.stat().st_mode) == 0o700
        assert copy.read_bytes().startswith(b"line one")
        await pilot.press("escape")
        await on_top(pilot, TicketScreen)
        await pilot.press("enter")
        await pick(pilot, "photo")
        viewer = await on_top(pilot, AttachmentScreen)
        meta = viewer.query_one("#attachment-meta", Static)
        await until(pilot, lambda: "640 × 480" in str(meta.render()), "the image's dimensions")
        assert "PNG" in str(meta.render())


def test_reading_an_attachment_is_refused_outside_the_department(data: Data, tmp_path: Path) -> None:
    _attach(data, tmp_path)
    with reading(data.engine, data.admin) as tx:
        att = tx.session.query(Attachment).filter(Attachment.filename == "notes.txt").one()
    outsider = data.agent  # sam: Support; move the ticket out of reach by asking as sam for a Billing one
    with reading(data.engine, outsider) as tx:
        assert attachment_view.view(tx, att.id, data.config.attachments_dir).kind == "text"
    from tui_helpdesk.services import tickets
    from tui_helpdesk.services.context import transaction

    with transaction(data.engine, data.admin) as tx:
        tickets.transfer(tx, "TCK-1000", "Billing", reason="billing question")
    with reading(data.engine, outsider) as tx, pytest.raises(NoAccess):
        attachment_view.view(tx, att.id, data.config.attachments_dir)
    with reading(data.engine, outsider) as tx, pytest.raises(NoAccess):
        attachment_view.private_copy(tx, att.id, data.config.attachments_dir)
