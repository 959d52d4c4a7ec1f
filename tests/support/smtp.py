"""An aiosmtpd listener that records every message it accepts."""

from __future__ import annotations

import email
import email.policy
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import TYPE_CHECKING

from .common import free_port

# aiosmtpd is imported when a listener starts: tests/conftest.py imports this module, so every xdist worker
# would import it at collection, while only the workers running a mail test start a listener.
if TYPE_CHECKING:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass(frozen=True)
class ReceivedMessage:
    """One accepted SMTP transaction, as the wire carried it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        """The data parsed with the modern email policy (headers decoded, get_body() available)."""
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class _Recorder:
    def __init__(self, sink: list[ReceivedMessage], lock: threading.Lock) -> None:
        self._sink = sink
        self._lock = lock

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        with self._lock:
            self._sink.append(ReceivedMessage(envelope.mail_from or "", tuple(envelope.rcpt_tos), content))
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    """A plain SMTP listener on 127.0.0.1 (no TLS, no AUTH). `stop()` closes the port so clients get
    connection refused; `start()` listens again on the same port."""

    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    messages: list[ReceivedMessage] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _controller: Controller | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        if self._controller is not None:
            return
        # A Controller's event loop is closed on stop, so each start gets a new one.
        controller = Controller(
            _Recorder(self.messages, self._lock),
            hostname=self.host,
            port=self.port,
            # Keep the bytes exactly as sent: the tests check what our sender put on the wire.
            decode_data=False,
            ready_timeout=10,
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def received(self) -> list[ReceivedMessage]:
        """A snapshot of everything accepted so far, oldest first."""
        with self._lock:
            return list(self.messages)

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
