"""Mail templates: overrides per department, unknown variables refused, reset to the built-in text."""

from __future__ import annotations

import pytest

from tui_helpdesk.mail import templates
from tui_helpdesk.services import mail_admin
from tui_helpdesk.services.errors import NotFound, PermissionDenied, ValidationError


def test_template_overrides_apply_by_department_and_reset(desk):
    with desk.tx() as tx:
        row = mail_admin.save_template(
            tx,
            "notice.closed",
            "Done: %{ticket.subject}",
            "Hi %{recipient.name}, %{ticket.number} is closed.",
            "Billing",
        )
    assert row.department == "Billing" and row.overridden
    with desk.tx() as tx:
        billing = templates.source(tx.session, "notice.closed", 2)
        support = templates.source(tx.session, "notice.closed", 1)
    assert billing[0] == "Done: %{ticket.subject}"
    assert support == templates.DEFAULTS["notice.closed"]
    with desk.tx() as tx:
        mail_admin.reset_template(tx, row.key)
    with desk.tx() as tx:
        assert templates.source(tx.session, "notice.closed", 2) == templates.DEFAULTS["notice.closed"]
    with pytest.raises(NotFound):
        with desk.tx() as tx:
            mail_admin.reset_template(tx, row.key)


def test_template_validation(desk):
    with pytest.raises(ValidationError) as err:
        with desk.tx() as tx:
            mail_admin.save_template(tx, "notice.closed", "x", "Hi %{recipient.nmae}")
    assert err.value.field == "body" and "recipient.nmae" in err.value.message
    with pytest.raises(ValidationError) as err:
        with desk.tx() as tx:
            mail_admin.save_template(tx, "no.such", "x", "y")
    assert err.value.field == "code"
    with pytest.raises(PermissionDenied):
        with desk.tx(desk.agent) as tx:
            mail_admin.save_template(tx, "notice.closed", "x", "y")


def test_a_saved_filter_routes_arriving_mail(desk, tmp_path):
    from tui_helpdesk.services import inbound as ingest
    from tui_helpdesk.services import tickets
    from tui_helpdesk.services.context import reading

    with desk.tx() as tx:
        row = mail_admin.save_filter(
            tx,
            name="Invoices",
            conditions="subject contains invoice",
            actions=["department=Billing", "priority=High", "tag=billing"],
        )
    assert row.actions == ("department=Billing", "priority=High", "tag=billing")
    raw = (
        b"From: Bob <bob@acme.example>\r\nTo: support@example.com\r\nSubject: Invoice 42 is wrong\r\n"
        b"Message-ID: <inv42@acme.example>\r\n\r\nPlease check.\r\n"
    )
    result = ingest.ingest_raw(desk.engine, raw, attachments_dir=tmp_path)
    with reading(desk.engine) as tx:
        d = tickets.view(tx, result.ticket_id)
    assert (d.department, d.priority, d.tags) == ("Billing", "High", ("billing",))


@pytest.mark.parametrize(
    ("conditions", "actions", "field"),
    [
        ("subject has invoice", "tag=x", "conditions"),
        ("subject regex ([", "tag=x", "conditions"),
        ("subjectline contains x", "tag=x", "conditions"),
        ("subject contains x", "department=Nowhere", "actions"),
        ("subject contains x", "explode", "actions"),
        ("", "tag=x", "conditions"),
    ],
)
def test_filter_validation_names_the_part(desk, conditions, actions, field):
    with pytest.raises(ValidationError) as err:
        with desk.tx() as tx:
            mail_admin.save_filter(tx, name="F", conditions=conditions, actions=actions)
    assert err.value.field == field


# --- helpers -----------------------------------------------------------------------------------------


def _mail(sender: str, subject: str, msgid: str, extra: str = "") -> bytes:
    return (
        f"From: {sender}\r\nTo: support@example.com\r\nSubject: {subject}\r\nMessage-ID: <{msgid}>\r\n"
        f"{extra}\r\nHello.\r\n"
    ).encode()


def _ticket_of(desk, raw: bytes, tmp_path):
    from tui_helpdesk.services import inbound as ingest
    from tui_helpdesk.services import tickets
    from tui_helpdesk.services.context import reading

    result = ingest.ingest_raw(desk.engine, raw, attachments_dir=tmp_path)
    if result.ticket_id is None:
        return result, None
    with reading(desk.engine) as tx:
        return result, tickets.view(tx, result.ticket_id)


def _audit_actions(desk, prefix: str) -> list[str]:
    """The audit trail's actions starting with prefix, oldest first, with who did them."""
    from sqlalchemy import select

    from tui_helpdesk.models import AuditLog
    from tui_helpdesk.services.context import reading

    with reading(desk.engine) as tx:
        rows = tx.session.execute(
            select(AuditLog.action, AuditLog.actor)
            .where(AuditLog.action.startswith(prefix))
            .order_by(AuditLog.id)
        ).all()
    return [f"{action} by {actor}" for action, actor in rows]


# --- templates ---------------------------------------------------------------------------------------


def test_every_built_in_template_and_every_outbox_variable_is_known():
    """The list admins are told about is the list the outbox fills: a drift either way is a bug."""
    import inspect

    from tui_helpdesk.services import inbound
    from tui_helpdesk.services import outbound as outbox

    for subject, body in templates.DEFAULTS.values():
        mail_admin.check_text("subject", subject)
        mail_admin.check_text("body", body)
    mail_admin.check_text("body", templates.GENERIC_ALERT[1])
    # the outbox fills most; the intake fills the too-big notice's own (message.size, limit)
    source = inspect.getsource(outbox) + inspect.getsource(inbound)
    for name in mail_admin.KNOWN_VARIABLES:
        assert f'"{name}"' in source, f"%{{{name}}} is offered to admins but no notice ever fills it"


def test_template_list_shows_defaults_beside_overrides_and_audits(desk):
    with desk.tx() as tx:
        before = {r.key: r for r in mail_admin.list_templates(tx)}
    assert set(before) == set(templates.DEFAULTS)
    assert not any(r.overridden for r in before.values())
    with desk.tx() as tx:
        mail_admin.save_template(tx, "notice.closed", "All done", "Bye %{recipient.name}")
    with desk.tx() as tx:
        row = next(r for r in mail_admin.list_templates(tx) if r.key == "notice.closed")
    assert (row.subject, row.overridden) == ("All done", True)
    assert (row.default_subject, row.default_body) == templates.DEFAULTS["notice.closed"]
    with desk.tx() as tx:
        mail_admin.reset_template(tx, "notice.closed")
    assert _audit_actions(desk, "template.") == ["template.save by root", "template.reset by root"]
    assert "%{ticket.number}" in mail_admin.template_variables()


# --- the ban list ------------------------------------------------------------------------------------


def test_a_banned_domain_stops_its_mail_until_the_ban_is_lifted(desk, tmp_path):
    with desk.tx() as tx:
        row = mail_admin.add_ban(tx, "  @Spam.Example ", "sells pills")
    assert (row.pattern, row.note) == ("@spam.example", "sells pills")
    result, ticket = _ticket_of(desk, _mail("eve@spam.example", "Buy now", "p1@spam.example"), tmp_path)
    assert (result.state, result.outcome, ticket) == ("ignored", "banned", None)
    with desk.tx() as tx:
        mail_admin.remove_ban(tx, "@spam.example")
        assert mail_admin.list_bans(tx) == []
    result, ticket = _ticket_of(desk, _mail("eve@spam.example", "Sorry", "p2@spam.example"), tmp_path)
    assert result.outcome == "new_ticket" and ticket is not None
    assert _audit_actions(desk, "ban.") == ["ban.add by root", "ban.remove by root"]


def test_ban_addresses_are_normalised_and_bad_patterns_refused(desk):
    with desk.tx() as tx:
        row = mail_admin.add_ban(tx, "Eve@Example.COM")
    assert row.pattern == "eve@example.com"
    for bad in ("@nodot", "@a@b.example", "not an address", "", "eve@example.com"):
        with pytest.raises(ValidationError) as err:
            with desk.tx() as tx:
                mail_admin.add_ban(tx, bad)
        assert err.value.field == "pattern", bad
    with pytest.raises(NotFound):
        with desk.tx() as tx:
            mail_admin.remove_ban(tx, "nobody@example.com")
    with pytest.raises(PermissionDenied):
        with desk.tx(desk.agent) as tx:
            mail_admin.add_ban(tx, "@other.example")
    with desk.tx() as tx:
        mail_admin.remove_ban(tx, row.id)  # by id, as the admin screen does
        assert mail_admin.list_bans(tx) == []


# --- ticket filters ----------------------------------------------------------------------------------


def test_filter_order_decides_which_department_wins(desk, tmp_path):
    with desk.tx() as tx:
        support = mail_admin.save_filter(
            tx, name="Acme to Support", conditions="from ends @acme.example", actions="department=Support"
        )
        billing = mail_admin.save_filter(
            tx, name="Invoices", conditions="subject regex ^invoice\\s+\\d+", actions="department=Billing"
        )
    # equal sort order: the older filter runs first and fills the department
    _, t = _ticket_of(desk, _mail("bob@acme.example", "Invoice 7", "a1@acme.example"), tmp_path)
    assert t.department == "Support"
    with desk.tx() as tx:
        rows = mail_admin.reorder_filters(tx, [billing.id])
    assert [r.name for r in rows] == ["Invoices", "Acme to Support"]
    _, t = _ticket_of(desk, _mail("bob@acme.example", "Invoice 8", "a2@acme.example"), tmp_path)
    assert t.department == "Billing"
    with desk.tx() as tx:
        rows = mail_admin.move_filter(tx, support.id, -1)
    assert [r.name for r in rows] == ["Acme to Support", "Invoices"]
    assert [r.sort_order for r in rows] == [10, 20]
    with desk.tx() as tx:
        mail_admin.set_filter_active(tx, support.id, False)
    _, t = _ticket_of(desk, _mail("bob@acme.example", "Invoice 9", "a3@acme.example"), tmp_path)
    assert t.department == "Billing"
    assert _audit_actions(desk, "filter.reorder") == ["filter.reorder by root"] * 2


def test_header_conditions_reject_and_skip(desk, tmp_path):
    with desk.tx() as tx:
        mail_admin.save_filter(
            tx, name="No newsletters", conditions=["header:X-Campaign starts spring"], actions="reject"
        )
    result, ticket = _ticket_of(
        desk, _mail("news@shop.example", "Deals", "n1@shop.example", "X-Campaign: Spring-2026\r\n"), tmp_path
    )
    assert (result.state, result.outcome, ticket) == ("ignored", "rejected", None)
    result, ticket = _ticket_of(desk, _mail("news@shop.example", "Question", "n2@shop.example"), tmp_path)
    assert ticket is not None


def test_filter_reorder_refuses_unknown_and_repeated_ids(desk):
    with desk.tx() as tx:
        f = mail_admin.save_filter(tx, name="F", conditions="subject contains x", actions="tag=x")
    with pytest.raises(NotFound):
        with desk.tx() as tx:
            mail_admin.reorder_filters(tx, [f.id + 100])
    with pytest.raises(ValidationError):
        with desk.tx() as tx:
            mail_admin.reorder_filters(tx, [f.id, f.id])


# --- the quarantine ----------------------------------------------------------------------------------


def test_message_headers_are_the_header_block_as_it_arrived(desk):
    from tui_helpdesk.services import inbound as ingest

    raw = b"From: bob@acme.example\r\nSubject: Hi\r\nX-Long: one\r\n two\r\n\r\nSubject: not a header\r\n"
    journal_id, _ = ingest.journal(desk.engine, raw)
    with desk.tx() as tx:
        assert mail_admin.message_headers(tx, journal_id) == [
            "From: bob@acme.example",
            "Subject: Hi",
            "X-Long: one",
            " two",
        ]
    with pytest.raises(PermissionDenied):
        with desk.tx(desk.agent) as tx:
            mail_admin.message_headers(tx, journal_id)


# --- the commands ------------------------------------------------------------------------------------


@pytest.fixture
def helpdesk(desk, db_url, monkeypatch, capsys):
    """helpdesk("ban", "list") -> (exit code, stdout, stderr), in-process, as root."""
    import io

    from tui_helpdesk import cli

    monkeypatch.setenv("HELPDESK_DATABASE_URL", db_url)
    monkeypatch.setenv("HELPDESK_AGENT", "root")

    def run(*argv: str, stdin: str | None = None) -> tuple[int, str, str]:
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        capsys.readouterr()
        code = cli.main(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_template_commands(helpdesk):
    code, out, _ = helpdesk("template", "list")
    assert code == 0 and "notice.closed" in out
    code, _, err = helpdesk("template", "set", "notice.closed", "--subject", "Bye", "--body", "%{nope}")
    assert code == 1 and "%{nope}" in err
    code, out, _ = helpdesk(
        "template", "set", "notice.closed", "--subject", "Bye", "--body", "-", "--department", "Billing",
        stdin="Bye %{recipient.name}\n",
    )  # fmt: skip
    assert code == 0 and "notice.closed@" in out
    key = out.split()[-1]
    code, out, _ = helpdesk("template", "show", key)
    assert code == 0 and "Bye %{recipient.name}" in out and "built-in text" in out
    assert helpdesk("template", "reset", key)[0] == 0
    assert helpdesk("template", "reset", key)[0] == 3
    assert helpdesk("template", "show", key)[0] == 3


def test_filter_and_ban_commands(helpdesk):
    import json

    code, out, _ = helpdesk(
        "--json",
        "filter",
        "add",
        "Invoices",
        "--when",
        "subject contains invoice",
        "--then",
        "department=Billing",
    )
    assert code == 0
    first = json.loads(out)["id"]
    code, out, _ = helpdesk(
        "--json", "filter", "add", "VIP", "--when", "from ends @vip.example", "--then", "tag=vip"
    )
    second = json.loads(out)["id"]
    code, _, err = helpdesk(
        "--json", "filter", "add", "Bad", "--when", "subject regex ([", "--then", "reject"
    )
    assert code == 1 and json.loads(err)["field"] == "conditions"
    code, out, _ = helpdesk("filter", "order", str(second))
    assert code == 0 and out.index("VIP") < out.index("Invoices")
    assert helpdesk("filter", "delete", str(first))[0] == 0
    code, out, _ = helpdesk("filter", "list")
    assert "VIP" in out and "Invoices" not in out

    assert helpdesk("ban", "add", "@spam.example", "--note", "pills")[0] == 0
    assert helpdesk("ban", "add", "@spam.example")[0] == 1
    code, out, _ = helpdesk("--json", "ban", "list")
    assert [(r["pattern"], r["note"]) for r in json.loads(out)] == [("@spam.example", "pills")]
    assert helpdesk("ban", "remove", "@spam.example")[0] == 0
    assert helpdesk("ban", "remove", "@spam.example")[0] == 3
    assert "nobody is banned" in helpdesk("ban", "list")[1]
    assert helpdesk("--as", "sam", "ban", "add", "@x.example")[0] == 4
