"""A department's alert is one outbox row until the sender splits it into one row per agent (issue 11):
each agent's copy is then sent, retried and failed on its own, and the per-ticket alert limit holds."""

from __future__ import annotations

from datetime import timedelta

from mailflow_support import MailDesk, build_desk, message
from sqlalchemy import select
from support.common import free_port

from tui_helpdesk import clock
from tui_helpdesk.db import get_engine, session_scope
from tui_helpdesk.models import Agent, Department, OutboundMessage
from tui_helpdesk.services import mailboxes, outbound

HIRED = 9  # with root and sam: 11 agents, over outbound.FANOUT_MIN


def _hire(desk: MailDesk, n: int = HIRED) -> list[str]:
    with session_scope(desk.engine) as s:
        support = s.execute(select(Department).where(Department.name == "Support")).scalar_one()
        for i in range(n):
            s.add(Agent(username=f"a{i}", name=f"Agent {i}", email=f"A{i}@helpdesk.test",
                        primary_department_id=support.id))  # fmt: skip
    return [f"a{i}@helpdesk.test" for i in range(n)]


def _rows(desk: MailDesk, kind: str) -> list[OutboundMessage]:
    return [m for m in desk.outbox(kind)]


def test_a_department_alert_is_one_row_that_the_sender_splits_per_agent(lite_desk: MailDesk) -> None:
    desk = lite_desk
    r = desk.ingest(message(sender="Carol C <carol@customer.test>"))  # two agents: a row each at once
    small = _rows(desk, "alert.new_ticket")
    assert len(small) == 2 and {m.state for m in small} == {"queued"}
    hired = _hire(desk)
    everyone = {"root@helpdesk.test", "sam@helpdesk.test", *hired}
    r = desk.ingest(message(sender="Carol C <carol@customer.test>", subject="Scanner too"))
    [fan] = [m for m in _rows(desk, "alert.new_ticket") if m.ticket_id == r.ticket_id]
    assert fan.state == "fanout" and set(fan.to_addrs) == everyone and fan.recipient is None
    with desk.tx() as tx:  # the admin's outbox shows it waiting to go out to every agent, as queued
        [listed] = [o for o in mailboxes.outbox(tx, state="queued") if o.id == fan.id]
    assert listed.state == "queued" and set(listed.to) == everyone
    assert outbound.expand_fanouts(desk.engine) == len(everyone)
    assert outbound.expand_fanouts(desk.engine) == 0  # split once
    rows = [m for m in _rows(desk, "alert.new_ticket") if m.ticket_id == r.ticket_id]
    assert sorted(a for m in rows for a in m.to_addrs) == sorted(everyone)
    assert {m.state for m in rows} == {"queued"} and all(m.recipient == m.to_addrs[0] for m in rows)
    by_agent = {m.to_addrs[0]: m for m in rows}
    # each agent's copy reads as the few agents' rows written at once: their name, the sender, the token
    assert by_agent["a3@helpdesk.test"].body.startswith("Hello Agent 3,\n\nA new ticket arrived in Support.")
    assert "From: Carol C <carol@customer.test>" in by_agent["a3@helpdesk.test"].body
    assert by_agent["sam@helpdesk.test"].body.startswith("Hello Sam Agent,")
    number = desk.ticket(r.ticket_id).number
    for m in rows:
        assert m.subject == f"New ticket {number}: Scanner too" and m.headers == small[0].headers | {
            "X-Helpdesk-Ticket": number}
        assert m.body.rstrip().endswith("]") and "[ref:" in m.body and "{{recipient" not in m.body
        assert m.created_at == fan.created_at and m.next_attempt_at == fan.next_attempt_at and m.attempts == 0
        assert m.message_id.startswith(f"<tck.{r.ticket_id}.") and m.fanout is None
    assert len({m.message_id for m in rows} | {fan.message_id}) == len(rows) + 1


class _Refusing:
    """An SMTP server that refuses one recipient for now and records what it accepted."""

    def __init__(self, refused: str) -> None:
        self.refused, self.got = refused, []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, ANN201
        if address == self.refused:
            return "450 mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201
        self.got.extend(envelope.rcpt_tos)
        return "250 Message accepted for delivery"


def test_one_agents_refused_alert_is_retried_alone(sqlite_url: str, tmp_path) -> None:
    from aiosmtpd.controller import Controller  # here: every xdist worker collects this file

    handler, port = _Refusing("a4@helpdesk.test"), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    try:
        desk = build_desk(get_engine(sqlite_url), tmp_path, smtp=("127.0.0.1", port))
        hired = _hire(desk)
        desk.set("autoresponse_new_ticket", False)
        desk.set("notify_client_on_create", False)
        desk.ingest(message())
        counts = outbound.send_due(desk.engine)
        everyone = {"root@helpdesk.test", "sam@helpdesk.test", *hired}
        assert counts == {"sent": len(everyone) - 1, "retry": 1, "failed": 0}
        assert sorted(handler.got) == sorted(everyone - {"a4@helpdesk.test"})
        [left] = [m for m in desk.outbox("alert") if m.state == "queued"]
        assert left.to_addrs == ["a4@helpdesk.test"] and left.attempts == 1 and "450" in left.last_error
        handler.refused, handler.got = "", []
        clock.set_now(clock.now() + timedelta(minutes=5))
        assert outbound.send_due(desk.engine) == {"sent": 1, "retry": 0, "failed": 0}
        assert handler.got == ["a4@helpdesk.test"]  # nobody else got a second copy
    finally:
        controller.stop()


def test_the_per_ticket_alert_limit_counts_each_agent_of_a_fanout(lite_desk: MailDesk) -> None:
    desk = lite_desk
    hired = _hire(desk)
    first = desk.ingest(message(sender="loop@robot.test", subject="Ping"))
    for i in range(14):
        r = desk.ingest(message(sender="loop@robot.test", subject=f"Re: Ping {i}",
                                in_reply_to=desk.entries(first.ticket_id)[-1].message_id))  # fmt: skip
        assert r.ticket_id == first.ticket_id
        if i == 6:
            outbound.expand_fanouts(desk.engine)  # some split, some not: both are counted
    outbound.expand_fanouts(desk.engine)
    alerts = desk.outbox("alert.")
    per_agent = {a: sum(a in m.to_addrs for m in alerts) for a in ("root@helpdesk.test", "sam@helpdesk.test", *hired)}
    assert set(per_agent.values()) == {10}  # the default alert_rate_limit_per_ticket_per_hour


def test_an_admins_retry_of_a_waiting_fanout_leaves_it_one_row_to_split(lite_desk: MailDesk) -> None:
    """Queued as it was, a fan-out row would go out as one message to every agent, with the marks where
    each name belongs; the retry only brings it forward, and the sender splits it as ever."""
    desk = lite_desk
    hired = _hire(desk)
    desk.ingest(message())
    [fan] = _rows(desk, "alert.new_ticket")
    with desk.tx() as tx:
        assert mailboxes.outbox_retry(tx, fan.id).state == "queued"  # as the admin sees it
    assert [m.state for m in _rows(desk, "alert.new_ticket")] == ["fanout"]  # still one row to split
    assert outbound.expand_fanouts(desk.engine) == len(hired) + 2
    assert {len(m.to_addrs) for m in _rows(desk, "alert.new_ticket")} == {1}
