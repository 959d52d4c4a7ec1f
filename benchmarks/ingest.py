"""End-to-end ingest throughput: raw bytes in, journal row, parse, thread, ticket or reply, commit.

    python benchmarks/ingest.py [--db URL] [--limit N] [--corpus DIR] [--imap] [--agents N] [--profile F]

Feeds every file of the mail corpus (../shared/mail-corpus next to the repo), then a synthetic
conversation mix (new tickets, and replies by header from the people who wrote the messages they
answer, on an existing desk half of them to its own tickets), into a fresh SQLite database by default,
and prints messages per second for each run and the outcome counts ("/stranger": a threaded message from
a non-participant, which opens a linked ticket; the mix should have none). This is the service the
IMAP worker calls per fetched message, without the IMAP round trips.

``--imap`` runs the synthetic mix through the IMAP worker instead: a private Dovecot (tests/support)
holds the messages, and the worker's mail steps (``inbound_fetch.poll`` and ``process_pending`` under
the worker's lease, as ``worker.run_once`` runs them) fetch, journal, process and flag them.
Beside each rate the script prints its floor, measured in the same run: journaling alone (Core
INSERTs, no processing) and, with ``--imap``, fetching the same messages from the same server alone.
It also counts SQL statements and transactions per message, and then times the sender's split of the
department alerts the pass queued as one "fanout" row each (outbound.expand_fanouts), apart from the pass.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from email.utils import make_msgid
from pathlib import Path

from sqlalchemy import event, select

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tui_helpdesk.db import get_engine, session_scope  # noqa: E402
from tui_helpdesk.models import Agent, Contact, Department, Mailbox, Ticket, TicketEntry  # noqa: E402
from tui_helpdesk.services import inbound, setup  # noqa: E402


def corpus_files(root: Path) -> list[Path]:
    skip = {".tsv", ".md", ".txt"}
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and p.suffix.lower() not in skip and p.name not in ("LICENSE", ".gitattributes")
    )


def synthetic(n: int, existing: list[tuple[str, str]] | None = None) -> list[bytes]:
    """New tickets and, every third message, a reply by header from the person who wrote the message it
    answers (a participant: a stranger's threaded mail opens a linked ticket, which is not a reply).
    ``existing`` (Message-ID, requester) pairs of the desk's own tickets: every other reply goes there."""
    out = []
    parents: list[tuple[str, str]] = []
    existing = existing or []
    stamp = time.time_ns()
    for i in range(n):
        mid = make_msgid(domain="bench.test")
        if i % 3 == 2 and parents:
            parent, sender = existing[i % len(existing)] if existing and i % 2 else parents[-1]
            head = [f"From: {sender}", f"Subject: Re: issue {i - 1}", f"In-Reply-To: {parent}"]
        else:
            sender = f"customer{i % 50}.{stamp}@bench.test"
            head = [f"From: {sender}", f"Subject: issue {i}"]
            parents.append((mid, sender))
        head += ["To: support@bench.test", f"Message-ID: {mid}"]
        out.append(
            ("\r\n".join(head) + "\r\n\r\nHello,\r\nthe thing broke again.\r\n\r\n> quoted\r\n").encode()
        )
    return out


def existing_threads(engine, limit: int = 500) -> list[tuple[str, str]]:
    """(Message-ID, requester email) of the desk's latest customer messages on tickets they requested."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(TicketEntry.message_id, Contact.email)
            .join(Ticket, Ticket.id == TicketEntry.ticket_id)
            .join(Contact, Contact.id == Ticket.contact_id)
            .where(TicketEntry.kind == "message", TicketEntry.message_id.is_not(None),
                   TicketEntry.contact_id == Ticket.contact_id)
            .order_by(TicketEntry.id.desc())
            .limit(limit)
        ).all()  # fmt: skip
    return [(mid, email) for mid, email in rows]


def prepare(url: str, agents: int = 0):
    """A fresh desk gets its first admin (and ``agents`` more in the mailbox's department, each alerted of
    every new ticket); any desk gets the benchmark's mailbox (an existing desk: use a copy)."""
    engine = get_engine(url)
    with session_scope(engine) as s:
        if s.execute(select(Agent.id).limit(1)).first() is None:
            setup.create_first_admin(s, "bench", "Bench Admin", "bench@bench.test")
            dept = s.execute(select(Department).order_by(Department.id)).scalars().first()
            for n in range(agents):
                s.add(Agent(username=f"agent{n}", name=f"Agent {n}", email=f"agent{n}@bench.test",
                            primary_department_id=dept.id))  # fmt: skip
        if s.execute(select(Mailbox.id).where(Mailbox.address == "support@bench.test")).first() is None:
            dept = s.execute(select(Department).order_by(Department.id)).scalars().first()
            s.add(Mailbox(address="support@bench.test", department_id=dept.id))
    return engine


class StatementCount:
    """SQL statements and committed transactions on the engine while counting."""

    def __init__(self, engine) -> None:
        self.statements = self.commits = 0
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def _statement(self, *_a) -> None:
        self.statements += 1

    def _commit(self, *_a) -> None:
        self.commits += 1


def run(engine, messages: list[bytes], attachments: Path) -> tuple[float, Counter]:
    outcomes: Counter = Counter()
    start, cpu = time.perf_counter(), time.process_time()
    for raw in messages:
        r = inbound.ingest_raw(engine, raw, attachments_dir=attachments)
        outcomes[f"{r.state}/{r.outcome}" + ("/stranger" if "not a participant" in r.reason else "")] += 1
    outcomes["cpu seconds"] = round(time.process_time() - cpu, 2)
    return time.perf_counter() - start, outcomes


def journal_floor(engine, messages: list[bytes]) -> float:
    """Messages per second journaling alone (each its own committed transaction, as the pipe does)."""
    from tui_helpdesk.services.inbound_journal import inbound_message, inbound_raw, journal

    start = time.perf_counter()
    ids = [journal(engine, raw.replace(b"Message-ID: <", b"Message-ID: <floor."))[0] for raw in messages]
    rate = len(messages) / (time.perf_counter() - start)
    with engine.begin() as conn:  # gone again: the worker's pass must not find them pending
        conn.execute(inbound_raw.delete().where(inbound_raw.c.journal_id.in_(ids)))
        conn.execute(inbound_message.delete().where(inbound_message.c.id.in_(ids)))
    return rate


def outcome_counts(engine, after_id: int) -> Counter:
    from tui_helpdesk.models import InboundMessage

    with engine.connect() as conn:
        rows = conn.execute(
            select(InboundMessage.state, InboundMessage.outcome, InboundMessage.reason).where(InboundMessage.id > after_id)
        ).all()
    return Counter(f"{s}/{o}" + ("/stranger" if "not a participant" in (r or "") else "") for s, o, r in rows)


def run_imap(
    engine, messages: list[bytes], attachments: Path, counted: StatementCount, profiler=None
) -> tuple[float, float, float, Counter]:
    """(seconds and CPU seconds of the worker's pass, messages/s fetching alone, outcomes): the messages are appended
    to a private Dovecot's INBOX first (untimed); the pass runs with the pinned mailbox only."""
    sys.path.insert(0, str(REPO / "tests"))
    from support import dovecot

    from tui_helpdesk import worker
    from tui_helpdesk.mail import imap
    from tui_helpdesk.models import InboundMessage
    from tui_helpdesk.services import inbound_fetch

    server = dovecot.start()
    user = "support"
    try:
        with server.client(user) as client:
            for raw in messages:
                client.append("INBOX", raw)
        # the floor: the same messages fetched in the worker's batches, nothing stored
        with server.client(user) as client:
            client.select_folder("INBOX", readonly=True)
            uids = sorted(client.search("ALL"))
            start = time.perf_counter()
            for i in range(0, len(uids), imap.FETCH_BATCH):
                client.fetch(uids[i : i + imap.FETCH_BATCH], [b"BODY.PEEK[]"])
            fetch_rate = len(uids) / (time.perf_counter() - start)
        with session_scope(engine) as s:
            box = s.execute(select(Mailbox).where(Mailbox.address == "support@bench.test")).scalar_one()
            box.imap_host, box.imap_port, box.imap_security = server.host, server.port, "none"
            box.imap_user, box.imap_password, box.active = user, server.users[user], True
            box.last_polled_at, box.uidvalidity, box.last_uid = None, None, 0
            others = s.execute(select(Mailbox).where(Mailbox.id != box.id, Mailbox.imap_host != "")).scalars()
            for other in others:
                other.active = False  # a copied desk's own mailboxes point at servers that are not here
            last = s.execute(select(InboundMessage.id).order_by(InboundMessage.id.desc()).limit(1)).scalar() or 0
            box_id = box.id
        counted.statements = counted.commits = 0
        if profiler is not None:
            profiler.enable()
        start, cpu = time.perf_counter(), time.process_time()
        # the mail steps of worker.run_once, under its lease (its outbox step would try SMTP for the alerts)
        lease = worker.Lease(engine)
        assert lease.take(), "another worker holds this desk's lease"
        try:
            counts = inbound_fetch.poll(engine, box_id, attachments_dir=attachments)
            counts.update(inbound.process_pending(engine, attachments_dir=attachments))
        finally:
            lease.drop()
        took, cpu = time.perf_counter() - start, time.process_time() - cpu
        if profiler is not None:
            profiler.disable()
        if counts.get("fetched") != len(messages):
            print(f"worker pass: {counts}")
        return took, cpu, fetch_rate, outcome_counts(engine, last)
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file in a temp dir; an existing "
                        "desk gets new tickets and replies: use a copy)")  # fmt: skip
    parser.add_argument("--agents", type=int, default=0, help="a fresh desk's agents in the mailbox's department")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the synthetic run here")
    parser.add_argument("--limit", type=int, default=0, help="at most this many corpus files")
    parser.add_argument("--synthetic", type=int, default=1000, help="synthetic messages (default 1000)")
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "mail-corpus")
    parser.add_argument("--imap", action="store_true", help="the synthetic mix through a Dovecot and the worker")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{tmp}/bench.db"
        engine = prepare(url, args.agents)
        files = corpus_files(args.corpus) if args.corpus.is_dir() else []
        if args.limit:
            files = files[: args.limit]
        if files:
            raws = [p.read_bytes() for p in files]
            took, outcomes = run(engine, raws, Path(tmp) / "att")
            outcomes.pop("cpu seconds")
            print(f"corpus: {len(raws)} messages in {took:.1f} s = {len(raws) / took:.1f} messages/s")
            print("  " + ", ".join(f"{k} {v}" for k, v in outcomes.most_common()))
        raws = synthetic(args.synthetic, existing_threads(engine))
        floor = journal_floor(engine, synthetic(max(len(raws) // 4, 1)))
        profiler = None
        if args.profile:
            import cProfile

            # CPU time, not wall time: on a shared machine the wall clock charges other people's work
            # to whatever was running; only the worker's pass is profiled (not the Dovecot appends)
            profiler = cProfile.Profile(time.process_time)
            if not args.imap:
                profiler.enable()
        counted = StatementCount(engine)
        if args.imap:
            took, cpu, fetch_rate, outcomes = run_imap(engine, raws, Path(tmp) / "att", counted, profiler)
        else:
            took, outcomes = run(engine, raws, Path(tmp) / "att")
            cpu = outcomes.pop("cpu seconds")
        if args.profile:
            profiler.disable()
            profiler.dump_stats(args.profile)
        name = "IMAP worker" if args.imap else "synthetic"
        print(f"{name}: {len(raws)} messages in {took:.1f} s = {len(raws) / took:.1f} messages/s "
              f"({len(raws) / cpu:.1f} per CPU second; load average {os.getloadavg()[0]:.1f})")  # fmt: skip
        print(f"  floor: journal only {floor:.1f} messages/s"
              + (f"; IMAP fetch only {fetch_rate:.1f} messages/s" if args.imap else ""))
        print(f"  {counted.statements / len(raws):.1f} SQL statements and {counted.commits / len(raws):.2f} "
              f"transactions per message")  # fmt: skip
        print("  " + ", ".join(f"{k} {v}" for k, v in outcomes.most_common()))
        if args.imap:
            split_fanouts(engine, len(raws), cpu)


def split_fanouts(engine, messages: int, pass_cpu: float) -> None:
    """The sender's share of the alerts, timed apart from the worker's mail steps: a department's alert is
    one "fanout" row until the outbox step splits it into one row per agent (outbound.expand_fanouts)."""
    from tui_helpdesk.services import outbound

    rows = 0
    start, cpu = time.perf_counter(), time.process_time()
    while made := outbound.expand_fanouts(engine):
        rows += made
    took, cpu = time.perf_counter() - start, time.process_time() - cpu
    if rows:
        print(f"  the sender's split of the alerts: {rows} agent rows in {took:.2f} s ({cpu:.2f} CPU s, "
              f"{cpu * 1000 / messages:.1f} ms CPU per message); the pass and the split together "
              f"{messages / (pass_cpu + cpu):.1f} messages per CPU second")


if __name__ == "__main__":
    main()
