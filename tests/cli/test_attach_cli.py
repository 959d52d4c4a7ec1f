"""`--attach PATH` (repeatable) on ticket create, reply and note: checked by content, all or nothing."""

from __future__ import annotations

from tui_helpdesk.cli import EXIT_ERROR


def test_attach_on_create_and_note_and_a_disguised_program_refused_naming_it(sqlite_desk, tmp_path):
    run = sqlite_desk
    log, png = tmp_path / "vpn.log", tmp_path / "screen.png"
    log.write_text("connect failed\n")
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40)
    made = run("--json", "ticket", "create", "--subject", "VPN", "--body", "Down", "--contact", "a@acme.example",
               "--department", "Support", "--attach", log, "--attach", png)
    assert made.code == 0, made.err
    files = [a for item in made.data["thread"] for a in item.get("attachments", [])]
    assert sorted(a["filename"] for a in files) == ["screen.png", "vpn.log"]
    number, version = made.data["number"], made.data["version"]
    fake = tmp_path / "invoice.pdf"
    fake.write_bytes(b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64)
    refused = run("--json", "ticket", "note", number, "--body", "see file", "--attach", fake)
    assert refused.code == EXIT_ERROR and refused.error["field"] == "attachment"
    assert "invoice.pdf: its content is a Linux program" in refused.error["error"]
    after = run("--json", "ticket", "show", number)
    assert after.data["version"] == version and [i["kind"] for i in after.data["thread"]
                                                  if i["kind"] == "note"] == []  # nothing was posted
    noted = run("--json", "ticket", "note", number, "--body", "log again", "--attach", log)
    assert noted.code == 0, noted.err
