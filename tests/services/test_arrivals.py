"""New work for an agent (issue 12 item 10): what arrived in their views since they last looked, and
customers' replies on their tickets; their bell preference. Both engines."""

from __future__ import annotations

from tui_helpdesk.models import Contact
from tui_helpdesk.services import agent_prefs, arrivals, queries, tickets
from tui_helpdesk.services.context import Actor, reading


def _lists(agent_id: int | None) -> dict[str, queries.TicketQuery]:
    return {
        "open": queries.sidebar_query("open", agent_id),
        "pending": queries.sidebar_query("pending", agent_id),
        "mine": queries.sidebar_query("mine", agent_id),
    }


def test_others_work_arrives_in_the_views_that_list_it_and_only_once(desk):
    with reading(desk.engine, desk.admin) as tx:
        seen = arrivals.marks(tx)
    with desk.tx() as tx:
        own = tickets.create(tx, subject="Mine", body="Hi", contact_email="a@acme.example", department="Support")
    with desk.tx(Actor.system("worker")) as tx:
        tickets.set_tags(tx, own.number, ["noise"])  # not a change that brings a ticket anywhere
    with desk.tx(desk.agent) as tx:
        new = tickets.create(tx, subject="Warm", body="Fans.", contact_email="b@acme.example", department="Support")
    with reading(desk.engine, desk.admin) as tx:
        news = arrivals.since(tx, seen, _lists(desk.admin.agent_id))
        assert news.in_views == {"open": (new.id,)}  # root's own ticket is not news to root
        assert news.numbers[new.id] == new.number
        assert arrivals.since(tx, news.marks, _lists(desk.admin.agent_id)).in_views == {}  # heard once
    with reading(desk.engine, desk.outsider) as tx:  # Billing only: a Support ticket is not theirs to hear of
        assert arrivals.since(tx, seen, _lists(desk.outsider.agent_id)).in_views == {}


def test_a_customer_reply_on_my_ticket_is_news_to_me_only(desk):
    with desk.tx() as tx:
        t = tickets.create(tx, subject="Printer", body="Jams.", contact_email="c@acme.example", department="Support")
        tickets.assign(tx, t.number, "sam")
    with reading(desk.engine, desk.agent) as tx:
        seen = arrivals.marks(tx)
    with desk.tx(Actor.system("mail")) as tx:
        ticket = tickets.load(tx, t.number)
        tickets.add_customer_message(tx, ticket, tx.session.get(Contact, ticket.contact_id), "Still jams.")
    with reading(desk.engine, desk.agent) as tx:
        news = arrivals.since(tx, seen, _lists(desk.agent.agent_id))
        assert news.replies == (t.number,)
        assert set(news.in_views) == {"open", "mine"}
    with reading(desk.engine, desk.supervisor) as tx:
        assert arrivals.since(tx, seen, _lists(desk.supervisor.agent_id)).replies == ()


def test_the_bell_is_off_until_the_agent_turns_it_on(desk):
    with reading(desk.engine, desk.agent) as tx:
        assert agent_prefs.get(tx, "bell") is False
    with desk.tx(desk.agent) as tx:
        agent_prefs.put(tx, "bell", True)
    with reading(desk.engine, desk.agent) as tx:
        assert agent_prefs.get(tx, "bell") is True
    with reading(desk.engine, desk.supervisor) as tx:
        assert agent_prefs.get(tx, "bell") is False  # each agent's own
