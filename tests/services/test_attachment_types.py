"""What may be attached is decided by content as well as by name (issue 14; seed 001: blocked types
"regardless of extension", 10 files per upload), one rule for the app, the CLI and the mail."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_helpdesk.db import session_scope
from tui_helpdesk.services import attachments, settings
from tui_helpdesk.services.context import reading
from tui_helpdesk.services.errors import ValidationError

ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 120
PE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 120
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(("name", "data", "what"), [
    ("report.pdf", ELF, "Linux program"),
    ("photo.jpg", PE, "Windows program"),
    ("notes.txt", b"#!/bin/sh\nrm -rf ~\n", "a script"),
])
def test_executable_content_is_refused_whatever_its_name(desk, tmp_path, name, data, what):
    path = _file(tmp_path, name, data)
    with reading(desk.engine, desk.admin) as tx, pytest.raises(ValidationError, match=f"{name}: its content is.*{what}"):
        attachments.check_file(tx, path)


def test_documents_pass_and_are_typed_by_content(desk, tmp_path):
    with reading(desk.engine, desk.admin) as tx:
        assert attachments.check_file(tx, _file(tmp_path, "chart.png", PNG))
        assert attachments.check_file(tx, _file(tmp_path, "memo.txt", b"MZ Corp minutes: nothing binary"))
        assert attachments.check_file(tx, _file(tmp_path, "spec.pdf", b"%PDF-1.7\n%\xe2\xe3\n1 0 obj\n"))
    assert attachments.sniff("chart.png", PNG).content_type == "image/png"
    assert attachments.sniff("upload.bin", PNG).content_type == "image/png"  # the content, not the name


def test_the_blocked_list_drives_the_content_rule_and_uploads_are_counted(desk, tmp_path):
    script = _file(tmp_path, "deploy.txt", b"#!/usr/bin/env bash\necho\n")
    with session_scope(desk.engine) as s:
        settings.put(s, "attachment_blocked_ext", [".exe", ".so"])  # .sh taken off: scripts welcome
        settings.put(s, "attachment_max_files", 2)
    files = [_file(tmp_path, f"f{i}.txt", b"x") for i in range(3)]
    with reading(desk.engine, desk.admin) as tx:
        assert attachments.check_file(tx, script)
        with pytest.raises(ValidationError, match="3 files in one upload; the limit is 2"):
            attachments.check_files(tx, files)
        assert len(attachments.check_files(tx, files[:2])) == 2
