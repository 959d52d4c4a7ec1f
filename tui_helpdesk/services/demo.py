"""A realistic demo help desk, built through the services so every event and audit row is real.

`build_demo(engine)` adds reference data (departments, agents, teams, topics, organizations, contacts,
SLA plans, canned responses, saved views) and then replays a few hundred tickets over the last 90 days:
each ticket's history runs in one transaction, step by step, with the clock pinned to the moment each
step happened. The same seed gives the same help desk (relative to the time it was built).
"""

from __future__ import annotations

import getpass
import random
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.engine import make_url
from sqlmodel import Session

from tui_helpdesk import clock, db
from tui_helpdesk.models import (
    Agent,
    Classification,
    Contact,
    Department,
    DepartmentAccess,
    HelpTopic,
    Organization,
    OrganizationDomain,
    OutboundMessage,
    Priority,
    Role,
    Setting,
    SLAPlan,
    Status,
    Team,
    TeamMember,
    Ticket,
)
from tui_helpdesk.models.views import CannedResponse, SavedView

from . import links, lookup, notify, setup, tickets
from .context import Actor, Tx, event, transaction

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


# --- the cast ------------------------------------------------------------------------------------

DEPARTMENTS = (
    # name, email, state
    ("Support", "support@northwind.example", "active"),
    ("IT Operations", "itops@northwind.example", "active"),
    ("Billing", "billing@northwind.example", "active"),
    ("Field Services", "field@northwind.example", "active"),
    ("Legacy Helpdesk", "old-helpdesk@northwind.example", "archived"),
)
TRIAGE_PERMISSIONS = ["ticket.create", "ticket.reply", "ticket.edit", "ticket.assign", "ticket.link"]
AGENTS = (
    # username, name, primary department, role, extended access (department, role)
    ("alice", "Alice Moreau", "Support", "Supervisor", [("IT Operations", "Agent")]),
    ("bram", "Bram de Vries", "Support", "Agent", []),
    ("chen", "Chen Wei", "IT Operations", "Supervisor", [("Support", "Agent")]),
    ("dana", "Dana Okafor", "IT Operations", "Agent", []),
    ("emil", "Emil Lindqvist", "IT Operations", "Agent", [("Field Services", "Agent")]),
    ("fatima", "Fatima Haddad", "Billing", "Supervisor", []),
    ("gus", "Gus Ferreira", "Billing", "Agent", [("Support", "Triage")]),
    ("hana", "Hana Sato", "Field Services", "Agent", [("IT Operations", "Agent")]),
)
TEAMS = (
    ("Network Squad", "chen", ("chen", "dana", "emil", "hana")),
    ("Billing Desk", "fatima", ("fatima", "gus")),
)
ORGANIZATIONS = (
    ("Acme Manufacturing", ("acme.example", "acme-mfg.example")),
    ("Globex Corporation", ("globex.example",)),
    ("Initech", ("initech.example",)),
    ("Umbrella Health", ("umbrella-health.example",)),
    ("Stark Logistics", ("stark-logistics.example",)),
)
FIRST = (
    "Ava",
    "Ben",
    "Carla",
    "Dev",
    "Elif",
    "Finn",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Kira",
    "Liam",
    "Maya",
    "Nils",
    "Olga",
    "Pavel",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "Umar",
    "Vera",
    "Wes",
    "Xena",
    "Yusuf",
    "Zoe",
)
LAST = (
    "Abbott",
    "Brandt",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Horvat",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Meyer",
    "Novak",
    "Ortiz",
    "Petrov",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Ueda",
)
FREEMAIL = ("mailbox.example", "freemail.example")
CLASSIFICATION = {
    "Hardware": {"Laptop": ("Battery", "Keyboard", "Screen"), "Printer": ("Paper jam", "Toner", "Driver")},
    "Software": {"Email": ("Outlook", "Mobile mail"), "Office suite": ("Licence", "Crash")},
    "Network": {"VPN": ("Client", "Certificate"), "Wi-Fi": ("Coverage", "Authentication")},
    "Access": {"Account": ("Password", "MFA", "New starter"), "Permissions": ("Shared drive", "CRM")},
    "Finance": {"Invoice": ("Wrong amount", "Copy request"), "Payment": ("Refund", "Card declined")},
}
TOPICS = (
    # name, parent, department, priority, auto-assign agent, auto-assign team
    ("Accounts", None, "Support", None, None, None),
    ("Password reset", "Accounts", "Support", "High", None, None),
    ("New starter", "Accounts", "Support", None, "bram", None),
    ("Network", None, "IT Operations", None, None, None),
    ("VPN", "Network", "IT Operations", "High", None, "Network Squad"),
    ("Wi-Fi", "Network", "IT Operations", None, None, "Network Squad"),
    ("Hardware", None, "Field Services", None, None, None),
    ("Printers", "Hardware", "Field Services", "Low", "hana", None),
    ("Billing", None, "Billing", None, None, None),
    ("Invoices", "Billing", "Billing", None, None, "Billing Desk"),
    ("Refunds", "Billing", "Billing", "Normal", "fatima", None),
)
CANNED = (
    (
        "Password reset instructions",
        "Support",
        "You can reset your password at **https://id.northwind.example/reset**.\n\n"
        "1. Enter your work email\n2. Follow the link we send you (valid for 30 minutes)\n"
        "3. Choose a password of at least 14 characters",
    ),
    (
        "VPN reinstall",
        "IT Operations",
        "Please remove the VPN client, reboot, and install the current version from the software centre. "
        "Then sign in again with your usual credentials.",
    ),
    ("Invoice copy", "Billing", "A copy of the invoice is attached. Let us know if anything looks wrong."),
    (
        "Closing - no reply",
        None,
        "We have not heard back from you, so we are closing this ticket. Reply to this email to reopen it.",
    ),
    (
        "Thanks for the details",
        None,
        "Thanks, that helps. We are looking into it and will update you shortly.",
    ),
)
VIEWS = (
    ("My open tickets", False, "assignee:me status:new,open", "updated"),
    ("Urgent and unassigned", True, "prio:urgent,high assignee:none", "priority"),
    ("Overdue in IT Operations", True, 'is:overdue dept:"IT Operations"', "due"),
    ("Waiting on customers", True, "state:pending", "oldest"),
)


@dataclass(frozen=True)
class Scenario:
    subject: str
    department: str
    topic: str | None
    cti: tuple[str, str, str] | None
    opening: str
    detail: str  # the customer's answer to a question
    fix: str  # what the agent did
    tags: tuple[str, ...] = ()


SCENARIOS = (
    Scenario(
        "VPN disconnects every {n} minutes",
        "IT Operations",
        "VPN",
        ("Network", "VPN", "Client"),
        "Since this morning my VPN drops roughly every {n} minutes while working from home. "
        "I have to log in again each time.",
        "I'm on the {device}, home broadband, no other network problems.",
        "The client was two versions behind; pushed the update and reset the tunnel profile.",
        ("vpn",),
    ),
    Scenario(
        "Cannot log in after password change",
        "Support",
        "Password reset",
        ("Access", "Account", "Password"),
        "I changed my password yesterday and now I'm locked out of everything on the {device}.",
        "The error says *account locked*. I tried about five times.",
        "Unlocked the account; the old password was cached on the phone and kept retrying.",
        ("login",),
    ),
    Scenario(
        "Printer on floor {n} jams constantly",
        "Field Services",
        "Printers",
        ("Hardware", "Printer", "Paper jam"),
        "The big printer next to the kitchen on floor {n} jams on almost every job.",
        "It happens with both trays, even with a fresh ream.",
        "Replaced the pickup roller and cleaned the fuser area.",
        ("printer", "onsite"),
    ),
    Scenario(
        "Invoice {inv} shows the wrong amount",
        "Billing",
        "Invoices",
        ("Finance", "Invoice", "Wrong amount"),
        "Invoice {inv} charges us for {n} seats but we cancelled five of them last month.",
        "The cancellation confirmation number is CX-{n}{n}.",
        "Issued a credit note for the five seats and corrected the subscription.",
        ("invoice",),
    ),
    Scenario(
        "Request for refund on order {inv}",
        "Billing",
        "Refunds",
        ("Finance", "Payment", "Refund"),
        "We were charged twice for order {inv}. Please refund the duplicate payment.",
        "Both charges are on the same card ending 4242.",
        "Refunded the duplicate charge; it takes 3-5 working days to appear.",
        ("refund",),
    ),
    Scenario(
        "New starter: laptop and accounts for {person}",
        "Support",
        "New starter",
        ("Access", "Account", "New starter"),
        "{person} joins the finance team on Monday. Please set up a laptop, email and CRM access.",
        "Same access as the rest of the finance team, please.",
        "Laptop imaged, accounts created, credentials handed to the line manager.",
        ("onboarding",),
    ),
    Scenario(
        "Outlook keeps asking for my password",
        "Support",
        None,
        ("Software", "Email", "Outlook"),
        "Outlook on my {device} asks for my password every few minutes and never accepts it.",
        "It started after the Windows update on Tuesday.",
        "Cleared the stored credentials and re-created the mail profile.",
        ("email",),
    ),
    Scenario(
        "Wi-Fi very slow in meeting room {n}",
        "IT Operations",
        "Wi-Fi",
        ("Network", "Wi-Fi", "Coverage"),
        "Video calls in meeting room {n} freeze; the Wi-Fi there barely works.",
        "Worst in the afternoons when the room is full.",
        "Added a second access point and moved the room to the 5 GHz network.",
        ("wifi",),
    ),
    Scenario(
        "Laptop battery drains in an hour",
        "Field Services",
        "Hardware",
        ("Hardware", "Laptop", "Battery"),
        "My {device} goes from full to empty in about an hour, even when idle.",
        "The battery report says the design capacity is at 41%.",
        "Battery replaced under warranty.",
        ("hardware",),
    ),
    Scenario(
        "Need access to the shared drive for {person}",
        "Support",
        "Accounts",
        ("Access", "Permissions", "Shared drive"),
        "Could you give {person} read access to the Projects share?",
        "Read-only is enough for now.",
        "Added to the Projects-Readers group; access works after signing out and in.",
        ("access",),
    ),
    Scenario(
        "Office suite licence expired",
        "Support",
        None,
        ("Software", "Office suite", "Licence"),
        "Word says my licence expired and opens everything read-only.",
        "My username is on the screenshot I attached.",
        "Reassigned a licence from a leaver's account.",
        ("licence",),
    ),
    Scenario(
        "Card declined when paying invoice {inv}",
        "Billing",
        "Billing",
        ("Finance", "Payment", "Card declined"),
        "Our company card is declined when I pay invoice {inv} online.",
        "The bank says they see no attempt at all.",
        "Payment page had an outdated 3-D Secure setting; fixed and the payment went through.",
        ("payment",),
    ),
    Scenario(
        "Monitor flickering at desk {n}",
        "Field Services",
        "Hardware",
        ("Hardware", "Laptop", "Screen"),
        "The external monitor at desk {n} flickers constantly.",
        "Swapping the cable made no difference.",
        "Replaced the docking station.",
        ("hardware", "onsite"),
    ),
    Scenario(
        "MFA codes not arriving",
        "Support",
        "Accounts",
        ("Access", "Account", "MFA"),
        "I get no text message with the sign-in code any more.",
        "I changed phones last week but kept the number.",
        "Re-registered the authenticator on the new phone.",
        ("mfa", "login"),
    ),
    Scenario(
        "Mobile email stopped syncing",
        "Support",
        None,
        ("Software", "Email", "Mobile mail"),
        "Work email on my phone stopped syncing two days ago.",
        "It's an Android phone, the mail app is the standard one.",
        "Removed and re-added the account with modern authentication.",
        ("email", "mobile"),
    ),
)
OUTAGE = Scenario(
    "VPN gateway down at {office}",
    "IT Operations",
    "VPN",
    ("Network", "VPN", "Client"),
    "Nobody at {office} can connect to the VPN since 08:40.",
    "All of us see the same timeout.",
    "The gateway's certificate had expired; renewed it and restarted the service.",
    ("vpn", "outage"),
)
DEVICES = ("ThinkPad T14", "MacBook Air", "Dell Latitude 7440", "Surface Laptop", "HP EliteBook")
OFFICES = ("the Leeds office", "the Rotterdam office", "the Lyon office")
NOTES = (
    "Checked the logs: nothing obvious. Will try a remote session.",
    "Called the customer, no answer. Left a voicemail.",
    "Similar to last month's issue, see the linked ticket.",
    "Root cause looks like:\n\n- stale cached credentials\n- an old client build\n\nPlan: update first.",
    "Escalated internally; waiting for the vendor.",
    "Steps tried so far:\n\n```\nipconfig /flushdns\nnetsh winsock reset\n```\n\nNo change.",
)
QUESTIONS = (
    "Thanks for reporting this. Could you tell us which device you are using and when it started?",
    "Sorry to hear that. Could you send a screenshot of the error?",
    "Thanks. Does this happen every time, or only sometimes?",
)
ACKS = (
    "Thanks, we are looking into it.",
    "Thanks for the details. I am working on this now and will update you today.",
)
FOLLOWUPS = (
    "Any news on this? It is blocking my work.",
    "Just checking in - is there an update?",
    "Thanks, it works now!",
    "Great, thank you for the quick help.",
)


# --- summary and entry points --------------------------------------------------------------------


def has_tickets(engine: Engine) -> bool:
    with db.session_scope(engine, write=False) as s:
        return bool(s.execute(select(func.count()).select_from(Ticket)).scalar())


def reset_database(url: str) -> None:
    """Erase everything: SQLite deletes the file; PostgreSQL downgrades to base and upgrades to head."""
    url = db.normalise_url(url)
    db.dispose_all()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(parsed.database + suffix).unlink(missing_ok=True)
        return
    from alembic import command

    engine = db.get_engine(url, migrate=False)
    cfg = db.alembic_config(engine)
    command.downgrade(cfg, "base")
    command.upgrade(cfg, "head")
    db.dispose_all()


@dataclass
class _Cast:
    admin: Actor
    agents: dict[str, Actor]  # username -> actor
    dept_agents: dict[str, list[str]]  # department name -> usernames who work there (primary first)
    supervisors: dict[str, str]  # department name -> supervisor username
    contacts: list[int]
    mail: Actor = field(default_factory=lambda: Actor.system("mail"))


def build_demo(
    engine: Engine, *, tickets: int = 300, seed: int = 42, admin_username: str | None = None
) -> dict:
    """Fill a database (with no tickets yet) with a demo help desk. Returns counts of what was made."""
    rng = random.Random(seed)
    admin_username = admin_username or getpass.getuser()
    previous_pin = clock.pinned()  # restored at the end (tests pin the clock)
    now = clock.now()
    try:
        # reference data is dated 100 days back, before the first ticket
        clock.set_now(now - timedelta(days=100))
        cast = _reference_data(engine, rng, admin_username)
        with notify.suppressed():
            made = _tickets(engine, rng, cast, now, tickets)
        _mark_outbox_sent(engine)
    finally:
        clock.set_now(previous_pin)
    return made


# --- reference data -----------------------------------------------------------------------------------


def _get_or_add(s: Session, model: Any, where: dict[str, Any], **values: Any) -> Any:
    row = s.execute(select(model).filter_by(**where)).scalars().first()
    if row is None:
        row = model(**where, **values)
        s.add(row)
        s.flush()
    return row


def _reference_data(engine: Engine, rng: random.Random, admin_username: str) -> _Cast:
    with db.session_scope(engine) as s:
        setup.ensure_defaults(s)
        from . import settings

        settings.put(s, "helpdesk_name", "Northwind Help Desk")
        # Stored explicitly (same values as the defaults): the services read these on nearly every call,
        # and a stored row is served from the session's identity map while a missing one costs a query.
        for key in (
            "number_prefix",
            "number_start",
            "closed_reopen_policy",
            "reopen_window_days",
            "edit_window_minutes",
            "late_reply_policy",
        ):
            settings.put(s, key, settings.get(s, key))
        roles = {r.name: r for r in s.execute(select(Role)).scalars()}
        if "Triage" not in roles:
            roles["Triage"] = _get_or_add(s, Role, {"name": "Triage"}, permissions=list(TRIAGE_PERMISSIONS))
        standard = _get_or_add(s, SLAPlan, {"name": "Standard"}, grace_hours=48, is_default=True)
        urgent_plan = _get_or_add(s, SLAPlan, {"name": "Critical"}, grace_hours=8)
        depts: dict[str, Department] = {}
        for name, email, state in DEPARTMENTS:
            d = _get_or_add(s, Department, {"name": name})
            d.email, d.state, d.sla_plan_id = email, state, standard.id
            s.add(d)
            depts[name] = d
        s.flush()

        admin = s.execute(select(Agent).where(Agent.username == admin_username)).scalars().first()
        if admin is None:
            admin = Agent(
                username=admin_username,
                name=_display_name(admin_username),
                email=f"{admin_username}@northwind.example",
                is_admin=True,
                primary_department_id=depts["Support"].id,
                role_id=roles["Supervisor"].id,
            )
            s.add(admin)
        agents: dict[str, Agent] = {}
        dept_agents: dict[str, list[str]] = {name: [] for name, _, _ in DEPARTMENTS}
        supervisors: dict[str, str] = {}
        for username, name, dept, role, extra in AGENTS:
            if username == admin_username:
                continue
            a = _get_or_add(
                s,
                Agent,
                {"username": username},
                name=name,
                email=f"{username}@northwind.example",
                primary_department_id=depts[dept].id,
                role_id=roles[role].id,
            )
            agents[username] = a
            dept_agents[dept].insert(0, username)
            if role == "Supervisor":
                supervisors[dept] = username
            for other, other_role in extra:
                if s.get(DepartmentAccess, (a.id, depts[other].id)) is None:
                    s.add(
                        DepartmentAccess(
                            agent_id=a.id, department_id=depts[other].id, role_id=roles[other_role].id
                        )
                    )
                if other_role == "Agent":
                    dept_agents[other].append(username)
        # one former colleague: deactivated, kept for the history
        _get_or_add(
            s,
            Agent,
            {"username": "ivan"},
            name="Ivan Former",
            email="ivan@northwind.example",
            active=False,
            primary_department_id=depts["Support"].id,
            role_id=roles["Agent"].id,
        )
        s.flush()
        depts["Support"].manager_id = agents["alice"].id if "alice" in agents else admin.id
        depts["IT Operations"].manager_id = agents["chen"].id if "chen" in agents else admin.id

        teams: dict[str, Team] = {}
        for team_name, lead, members in TEAMS:
            lead_agent = agents.get(lead)
            team = _get_or_add(s, Team, {"name": team_name}, lead_id=lead_agent.id if lead_agent else None)
            teams[team_name] = team
            for member in members:
                if member in agents and s.get(TeamMember, (team.id, agents[member].id)) is None:
                    s.add(TeamMember(team_id=team.id, agent_id=agents[member].id))

        for org_name, domains in ORGANIZATIONS:
            org = _get_or_add(s, Organization, {"name": org_name})
            for domain in domains:
                _get_or_add(s, OrganizationDomain, {"domain": domain}, organization_id=org.id)
        s.flush()

        _classification(s)
        topic_ids: dict[str, int] = {}
        for name, parent, dept, prio, agent_name, team_name in TOPICS:
            auto_agent = agents.get(agent_name) if agent_name else None
            topic = _get_or_add(
                s,
                HelpTopic,
                {"name": name},
                parent_id=topic_ids.get(parent) if parent else None,
                department_id=depts[dept].id,
                priority_id=lookup.priority(s, prio).id if prio else None,
                sla_plan_id=urgent_plan.id if prio == "High" else None,
                auto_assign_agent_id=auto_agent.id if auto_agent else None,
                auto_assign_team_id=teams[team_name].id if team_name else None,
            )
            topic_ids[name] = topic.id

        contact_ids: list[int] = []
        used: set[str] = set()
        domains_all = [d for _, ds in ORGANIZATIONS for d in ds[:1]]
        while len(contact_ids) < 40:
            first, last = rng.choice(FIRST), rng.choice(LAST)
            domain = rng.choice(domains_all) if len(contact_ids) < 34 else rng.choice(FREEMAIL)
            email = f"{first}.{last}@{domain}".lower()
            if email in used:
                continue
            used.add(email)
            contact_ids.append(lookup.contact(s, email, f"{first} {last}").id)

        for title, dept, body in CANNED:
            _get_or_add(
                s, CannedResponse, {"title": title}, body=body, department_id=depts[dept].id if dept else None
            )
        for order, (name, shared, query, sort) in enumerate(VIEWS):
            _get_or_add(
                s,
                SavedView,
                {"name": name},
                owner_id=None if shared else admin.id,
                shared=shared,
                query=query,
                sort=sort,
                sort_order=order,
                columns=["number", "subject", "requester", "status", "priority", "assignee", "updated"],
            )
        s.flush()
        admin_actor = Actor(admin.id, admin.username, admin.is_admin, "tui")
        actors = {u: Actor(a.id, a.username, a.is_admin, "tui") for u, a in agents.items()}
        actors[admin.username] = admin_actor
        for dept in dept_agents:
            dept_agents[dept] = dept_agents[dept] or [admin.username]
            supervisors.setdefault(dept, admin.username)
        return _Cast(
            admin=admin_actor,
            agents=actors,
            dept_agents=dept_agents,
            supervisors=supervisors,
            contacts=contact_ids,
        )


def _display_name(username: str) -> str:
    try:
        import pwd

        gecos = pwd.getpwnam(username).pw_gecos.split(",")[0].strip()
        if gecos:
            return gecos
    except (ImportError, KeyError):
        pass
    return username.replace(".", " ").replace("_", " ").title()


def _classification(s: Session) -> None:
    for cat, types in CLASSIFICATION.items():
        c = _get_or_add(s, Classification, {"kind": "category", "name": cat, "parent_id": None})
        for typ, items in types.items():
            t = _get_or_add(s, Classification, {"kind": "type", "name": typ, "parent_id": c.id})
            for item in items:
                _get_or_add(s, Classification, {"kind": "item", "name": item, "parent_id": t.id})


# --- tickets --------------------------------------------------------------------------------------------


class _StoryOver(Exception):
    """The next step of a ticket's history would happen after now: the story ends where it is."""


class _Story:
    """One ticket's history, replayed step by step in one transaction with the clock at each step."""

    def __init__(self, tx: Tx, now: datetime, start: datetime, strict: bool = False) -> None:
        self.outer = tx
        self.limit = now - timedelta(minutes=5)
        self.t = start
        self.ticket_id: int | None = None
        self.strict = strict

    def at(self, actor: Actor, gap: timedelta = timedelta(0)) -> Tx:
        """A Tx for the next step, `gap` after the previous one. A step that would be in the future ends
        a strict story (raises _StoryOver); otherwise it happens just before now."""
        if self.strict and self.t + gap > self.limit:
            raise _StoryOver
        self.t = min(self.t + gap, self.limit)
        clock.set_now(self.t)
        self.outer.changed = True
        return Tx(session=self.outer.session, actor=actor, now=self.t)

    def room(self, gap: timedelta) -> bool:
        return self.t + gap < self.limit

    def ticket(self) -> Ticket:
        return self.outer.session.get(Ticket, self.ticket_id)


def _fill(text: str, values: dict[str, str]) -> str:
    return text.format(**values)


def _hours(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(minutes=int(rng.uniform(low, high) * 60))


def _final_state(rng: random.Random, age_days: float) -> str:
    if age_days < 1:
        weights = {"new": 55, "open": 35, "pending": 10, "resolved": 0, "closed": 0}
    elif age_days < 7:
        weights = {"new": 8, "open": 35, "pending": 22, "resolved": 25, "closed": 10}
    elif age_days < 30:
        weights = {"new": 1, "open": 10, "pending": 9, "resolved": 25, "closed": 55}
    else:
        weights = {"new": 0, "open": 3, "pending": 3, "resolved": 6, "closed": 88}
    states = list(weights)
    return rng.choices(states, weights=[weights[s] for s in states])[0]


def _tickets(engine: Engine, rng: random.Random, cast: _Cast, now: datetime, count: int) -> dict:
    # One transaction for every history: the reference rows then stay in the session's identity map
    # (a transaction per ticket read each department, status, agent and setting again, ticket after
    # ticket), and a desk half built is never left behind.
    with transaction(engine, cast.admin) as outer:
        reference = _keep_reference_rows(outer.session)
        made = _histories(outer, rng, cast, now, count)
        del reference
    return made


def _keep_reference_rows(s: Session) -> list[Any]:
    """Load the rows every step looks up and hold them: the identity map keeps only what is referenced,
    and `session.get` of a row it holds costs no query."""
    rows: list[Any] = []
    for model in (
        Department,
        DepartmentAccess,
        Role,
        Agent,
        Team,
        TeamMember,
        HelpTopic,
        Classification,
        Organization,
        Contact,
        SLAPlan,
        Status,
        Priority,
        Setting,
    ):
        rows += s.execute(select(model)).scalars().all()
    return rows


def _histories(outer: Tx, rng: random.Random, cast: _Cast, now: datetime, count: int) -> dict:
    with_outage = count >= 20
    regular = count - 6 if with_outage else count
    starts = sorted(now - timedelta(minutes=rng.randint(30, 90 * 24 * 60)) for _ in range(regular))
    made: dict[str, int] = {"tickets": 0}
    numbers: list[str] = []
    by_scenario: dict[str, list[str]] = {}
    outage_at = now - timedelta(days=12, hours=3)
    outage_done = not with_outage
    for start in starts:
        if not outage_done and start > outage_at:
            numbers += _outage(outer, rng, cast, now, outage_at, made)
            outage_done = True
        scenario = rng.choice(SCENARIOS)
        number = _one_ticket(outer, rng, cast, now, start, scenario, made)
        numbers.append(number)
        by_scenario.setdefault(scenario.subject, []).append(number)
    _relations(outer, rng, cast, now, by_scenario, made)
    _window_closed(outer, now, made)
    _overdue(outer, now, made)
    made["tickets"] = len(numbers)
    return made


def _values(rng: random.Random, cast: _Cast) -> dict[str, str]:
    return {
        "n": str(rng.randint(2, 9)),
        "inv": f"INV-{rng.randint(20000, 29999)}",
        "device": rng.choice(DEVICES),
        "office": rng.choice(OFFICES),
        "person": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
    }


def _one_ticket(
    outer: Tx,
    rng: random.Random,
    cast: _Cast,
    now: datetime,
    start: datetime,
    sc: Scenario,
    made: dict[str, int],
    *,
    values: dict[str, str] | None = None,
    contact_id: int | None = None,
    final: str | None = None,
) -> str:
    values = values or _values(rng, cast)
    final = final or _final_state(rng, (now - start) / DAY)
    dept = sc.department
    workers = cast.dept_agents[dept]
    worker = cast.agents[rng.choice(workers)]
    boss = cast.agents[cast.supervisors[dept]]
    # a history cut short by the present is kept as far as it got
    with suppress(_StoryOver):
        story = _Story(outer, now, start, strict=True)
        s = outer.session
        source = rng.choices(("email", "phone", "tui", "cli"), weights=(70, 15, 10, 5))[0]
        opener = cast.mail if source == "email" else worker
        tx = story.at(opener)
        contact = s.get(Contact, contact_id or rng.choice(cast.contacts))
        cti = sc.cti if sc.cti and rng.random() < 0.8 else None
        cc = []
        if rng.random() < 0.15:
            peer = s.get(Contact, rng.choice(cast.contacts))
            if peer.id != contact.id:
                cc.append(peer.email)
        priority = rng.choices((None, "Low", "Normal", "High", "Urgent"), weights=(50, 12, 20, 12, 6))[0]
        detail = tickets.open_ticket(
            tx,
            subject=_fill(sc.subject, values),
            body=_fill(sc.opening, values),
            contact_id=contact.id,
            department=dept,
            topic=sc.topic if rng.random() < 0.7 else None,
            priority=priority,
            category=cti[0] if cti else None,
            type=cti[1] if cti else None,
            item=cti[2] if cti else None,
            tags=sc.tags if rng.random() < 0.6 else (),
            cc=cc,
            source=source,
            custom_fields={"asset": f"NW-{rng.randint(1000, 9999)}"} if rng.random() < 0.25 else None,
        )
        story.ticket_id = detail.id
        made["tickets"] += 1
        number = detail.number
        ref = detail.id  # later steps find it by id: no number to parse and match
        if final == "new":
            if rng.random() < 0.3:
                tickets.note(story.at(worker, _hours(rng, 0.1, 2)), ref, rng.choice(NOTES))
            return number

        # triage: take it, or the supervisor assigns it
        if story.ticket().assignee_id is None:
            if rng.random() < 0.6:
                tickets.assign_to_me(story.at(worker, _hours(rng, 0.2, 4)), ref)
            else:
                tickets.assign(story.at(boss, _hours(rng, 0.2, 4)), ref, worker.agent_id)
        elif story.ticket().assignee_id != worker.agent_id:
            worker = cast.agents.get(_username(cast, story.ticket().assignee_id), worker)
        if rng.random() < 0.06 and dept != "Support":
            # landed in the wrong place first; bounced to Support and back
            tickets.transfer(story.at(boss, _hours(rng, 0.5, 3)), ref, "Support", reason="wrong queue")
            tickets.transfer(
                story.at(cast.admin, _hours(rng, 0.5, 3)),
                ref,
                dept,
                reason="needs the specialists after all",
            )
        if rng.random() < 0.1:
            tickets.update_fields(
                story.at(boss, _hours(rng, 0.1, 1)),
                ref,
                {"priority": "Urgent"},
                reason="affects a whole team",
            )
        asks = rng.random() < 0.6
        first = rng.choice(QUESTIONS) if asks else rng.choice(ACKS)
        tickets.reply(
            story.at(worker, _hours(rng, 0.3, 6)),
            ref,
            first,
            time_spent=rng.choice((0, 5, 10)),
            status="Pending" if asks else None,
        )
        if asks and (final != "pending" or rng.random() < 0.4):
            _customer(story, rng, cast, contact, _fill(sc.detail, values), _hours(rng, 1, 20))
        if rng.random() < 0.5:
            tickets.note(
                story.at(worker, _hours(rng, 0.2, 5)),
                ref,
                rng.choice(NOTES),
                time_spent=rng.choice((0, 15, 30)),
            )
        if final == "open":
            if rng.random() < 0.3 and story.room(DAY):
                _customer(story, rng, cast, contact, FOLLOWUPS[rng.randint(0, 1)], _hours(rng, 10, 30))
            return number
        if final == "pending":
            if story.ticket().state != "pending":
                tickets.reply(
                    story.at(worker, _hours(rng, 1, 8)), ref, rng.choice(QUESTIONS), status="Pending"
                )
            return number

        # resolved or closed
        if rng.random() < 0.3:
            tickets.log_time(
                story.at(worker, _hours(rng, 0.5, 3)),
                ref,
                rng.choice((15, 30, 45, 60, 90)),
                billable=rng.random() < 0.7,
                note="remote session",
            )
        fix = _fill(sc.fix, values)
        tickets.reply(
            story.at(worker, _hours(rng, 2, 30)),
            ref,
            f"{fix}\n\nPlease let us know if the problem comes back.",
            time_spent=rng.choice((10, 20, 30)),
            status="Resolved",
            resolution_notes=fix,
        )
        if rng.random() < 0.15 and story.room(2 * DAY):
            # the fix did not hold: the customer's reply reopens it, the second fix sticks
            _customer(
                story,
                rng,
                cast,
                contact,
                "Sorry, it is happening again since this morning.",
                _hours(rng, 20, 40),
            )
            tickets.reply(
                story.at(worker, _hours(rng, 1, 6)),
                ref,
                "Thanks for letting us know. I've applied a permanent fix this time.",
                status="Resolved",
                resolution_notes=fix + " Applied the permanent fix on a second visit.",
            )
            made["reopened"] = made.get("reopened", 0) + 1
        elif rng.random() < 0.4 and story.room(DAY):
            _customer(story, rng, cast, contact, FOLLOWUPS[rng.randint(2, 3)], _hours(rng, 0.5, 12))
        if final == "closed":
            tickets.set_status(story.at(boss, _hours(rng, 72, 120)), ref, "Closed")
            age = (now - story.t) / DAY
            if age > 45 and rng.random() < 0.15:
                tickets.archive(story.at(cast.admin, _hours(rng, 24, 200)), ref)
                made["archived"] = made.get("archived", 0) + 1
    return number


def _username(cast: _Cast, agent_id: int | None) -> str:
    for username, actor in cast.agents.items():
        if actor.agent_id == agent_id:
            return username
    return cast.admin.username


def _customer(
    story: _Story, rng: random.Random, cast: _Cast, contact: Contact, body: str, gap: timedelta
) -> None:
    tx = story.at(cast.mail, gap)
    tickets.add_customer_message(
        tx,
        story.ticket(),
        contact,
        body,
        body_format="text",
        message_id=f"<demo-{story.ticket_id}-{int(story.t.timestamp())}@mail.example>",
    )


def _outage(
    outer: Tx, rng: random.Random, cast: _Cast, now: datetime, at: datetime, made: dict[str, int]
) -> list[str]:
    """An incident: one parent, reports from several people linked as children, two merged duplicates."""
    values = _values(rng, cast) | {"office": "the Leeds office"}
    parent = _one_ticket(outer, rng, cast, now, at, OUTAGE, made, values=values, final="new")
    children = [
        _one_ticket(
            outer,
            rng,
            cast,
            now,
            at + timedelta(minutes=7 * (i + 1)),
            OUTAGE,
            made,
            values=values,
            final="new",
        )
        for i in range(5)
    ]
    lead = cast.agents[cast.supervisors["IT Operations"]]
    story = _Story(outer, now, at + timedelta(minutes=45))
    tickets.assign_to_me(story.at(lead), parent)
    tickets.reply(
        story.at(lead, timedelta(minutes=5)),
        parent,
        "We know about the VPN outage at the Leeds office and are working on it.",
    )
    for child in children[:3]:
        links.link(story.at(lead, timedelta(minutes=3)), child, parent, "child_of")
    links.merge(story.at(lead, timedelta(minutes=5)), children[3], [children[4]])
    links.link(story.at(lead, timedelta(minutes=2)), children[3], parent, "duplicate_of")
    tickets.set_status(story.at(lead, timedelta(minutes=1)), children[3], "Closed")
    tickets.note(
        story.at(lead, timedelta(minutes=20)),
        parent,
        "**Incident**: VPN gateway certificate expired at 08:38.\n\n"
        "- renewed the certificate\n- restarted `vpn-gw-01`\n- monitoring for an hour",
    )
    tickets.reply(
        story.at(lead, HOUR),
        parent,
        OUTAGE.fix,
        status="Resolved",
        resolution_notes=OUTAGE.fix,
        time_spent=90,
    )
    links.resolve_children(story.at(lead, timedelta(minutes=2)), parent)
    tickets.set_status(story.at(lead, 4 * DAY), parent, "Closed")
    made["merged"] = made.get("merged", 0) + 1
    made["links"] = made.get("links", 0) + 4
    return [parent, *children]


def _relations(
    outer: Tx,
    rng: random.Random,
    cast: _Cast,
    now: datetime,
    by_scenario: dict[str, list[str]],
    made: dict[str, int],
) -> None:
    """Links between tickets of the same kind of problem: related, caused-by, duplicates, one more merge."""
    groups = [nums for nums in by_scenario.values() if len(nums) >= 4]
    story = _Story(outer, now, now - 90 * DAY)
    for nums in groups[:6]:
        a, b, c = sorted(rng.sample(nums, 3), key=lambda n: _created(outer.session, n))
        # linked when the later ticket came in
        story.t = _created(outer.session, c)
        links.link(story.at(cast.admin, _hours(rng, 0.5, 3)), b, a, "related_to")
        links.link(story.at(cast.admin, timedelta(minutes=5)), c, a, rng.choice(("caused_by", "child_of")))
        made["links"] = made.get("links", 0) + 2
    open_pairs = [
        [n for n in nums if _state(outer.session, n) in ("new", "open")] for nums in by_scenario.values()
    ]
    pair = next((p for p in open_pairs if len(p) >= 2), None)
    if pair:
        story.t = _created(outer.session, pair[1])
        links.link(story.at(cast.admin, HOUR), pair[1], pair[0], "duplicate_of")
        links.merge(story.at(cast.admin, timedelta(minutes=2)), pair[0], [pair[1]])
        made["merged"] = made.get("merged", 0) + 1
        made["links"] = made.get("links", 0) + 1


def _created(s: Session, number: str) -> datetime:
    return s.execute(select(Ticket.created_at).where(Ticket.number == number)).scalar_one()


def _state(s: Session, number: str) -> str:
    return s.execute(select(Ticket.state).where(Ticket.number == number)).scalar_one()


def _window_closed(outer: Tx, now: datetime, made: dict[str, int]) -> None:
    """Close what the reopen-window timer would have closed over the 90 days, as it would have (lifecycle's
    own selection and close, dated when each window ended): the first worker pass after `helpdesk demo`
    must not close a few dozen tickets behind the user's back."""
    from . import lifecycle

    s = outer.session
    probe = Tx(session=s, actor=lifecycle.TIMER_ACTOR, now=now)
    expired = s.execute(lifecycle._expired_resolved(probe)).scalars().all()
    window = lifecycle._reopen_window(probe)
    for ticket in expired:
        when = ticket.resolved_at + window
        clock.set_now(when)
        lifecycle._close(Tx(session=s, actor=lifecycle.TIMER_ACTOR, now=when), ticket, when=when,
                         why="reopen window ended")  # fmt: skip
    outer.changed = True
    made["closed_after_window"] = len(expired)


def _overdue(outer: Tx, now: datetime, made: dict[str, int]) -> None:
    """Flag what the lifecycle timer would have flagged: open work past its due time."""
    worker = Actor.system("worker")
    s = outer.session
    late = (
        s.execute(
            select(Ticket)
            .where(
                Ticket.state.in_(("new", "open", "pending")),
                Ticket.due_at < now,
                Ticket.is_overdue.is_(False),
                Ticket.visible.is_(True),
            )
            .order_by(Ticket.id)
        )
        .scalars()
        .all()
    )
    for ticket in late:
        # flagged when it fell due; later work keeps its own, newer updated time
        last_update = ticket.updated_at
        tx = Tx(session=s, actor=worker, now=ticket.due_at)
        clock.set_now(ticket.due_at)
        ticket.is_overdue = True
        event(tx, ticket, "overdue", due_at=ticket.due_at)
        ticket.updated_at = max(last_update, ticket.due_at)
    outer.changed = True
    made["overdue"] = len(late)


def _mark_outbox_sent(engine: Engine) -> None:
    """The demo's mail was never meant to leave: record it as sent so the worker leaves it alone."""
    with db.session_scope(engine) as s:
        s.execute(
            update(OutboundMessage)
            .where(OutboundMessage.state.in_(("queued", "fanout")))  # fanout: a department's alert, one row
            .values(state="sent", sent_at=OutboundMessage.created_at)
        )
