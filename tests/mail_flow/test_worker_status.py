"""Issue 12 item 13: the worker's status line says what is wrong with the mail in words."""

from __future__ import annotations

import threading

from mailflow_support import MailDesk
from sqlalchemy import update

from tui_helpdesk import clock, worker
from tui_helpdesk.db import session_scope
from tui_helpdesk.models import Mailbox, OutboundMessage
from tui_helpdesk.services import settings
from tui_helpdesk.services.outbox_status import waiting_words


def _queue(desk: MailDesk, n: int) -> None:
    with session_scope(desk.engine) as s:
        s.execute(update(Mailbox).values(smtp_host=""))
        settings.put(s, "smtp_host", "")
        for i in range(n):
            s.add(
                OutboundMessage(
                    kind="notice", from_addr="help@example.com", to_addrs=[f"c{i}@example.com"],
                    subject=f"Notice {i}", body="body", message_id=f"<n{i}@example.com>",
                )
            )  # fmt: skip


def test_the_status_line_says_why_mail_waits(lite_desk: MailDesk) -> None:
    clock.set_now(None)
    _queue(lite_desk, 2)
    assert waiting_words(lite_desk.engine) == ""  # not tried yet: nothing is wrong so far
    lines: list[str] = []
    seen = threading.Event()

    def on_status(line: str) -> None:
        lines.append(line)
        seen.set()

    handle = worker.start_thread(lite_desk.engine, on_status, interval=30)
    try:
        assert seen.wait(20)
    finally:
        handle.stop()
    assert lines[0].startswith("worker: 2 messages waiting: no SMTP server is configured ("), lines
    assert "retry" not in lines[0]
