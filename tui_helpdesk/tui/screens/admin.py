"""The admin screens: a list of sections on the left, the rows of the chosen one on the right.

Sections are a registry, `SECTIONS`, of (title, Section subclass); the mail and lifecycle screens add
theirs with `register_section("Mailboxes", MailboxSection, after="Canned responses")`. A section says
how to list, create, update, archive and delete its rows by calling the services; this screen only
runs those calls in thread workers and shows the results. Keys: n new, e/enter edit, d delete (asks
first), a archive, / filter, r refresh, tab to the section list, esc back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Input, OptionList, Static
from textual.widgets.option_list import Option

from tui_helpdesk.resources import stylesheet
from tui_helpdesk.services import admin, door
from tui_helpdesk.services.context import PERMISSIONS, Tx
from tui_helpdesk.services.errors import Conflict, ServiceError, ValidationError
from tui_helpdesk.tui.context import ctx_of
from tui_helpdesk.tui.widgets.footer import Footer
from tui_helpdesk.untrusted import clean_line

from .admin_forms import (
    AdminForm,
    ConfirmDialog,
    FormField,
    MessageDialog,
    Options,
    PathPrompt,
    RefusedDialog,
)


@dataclass(frozen=True)
class Column:
    title: str
    cell: Callable[[Any], str | Text]


def _yes(value: bool) -> str:
    return "yes" if value else ""


def _swatch(name: str, color: str) -> Text:
    """A status or priority name in its own colour, as agents will see it in the queue."""
    text = Text("● ", style=color or "")
    text.append(clean_line(name))
    return text


class Section:
    """How one kind of row is administered. Subclasses set the class attributes and the service calls."""

    title: ClassVar[str] = ""
    noun: ClassVar[str] = "row"
    columns: ClassVar[Sequence[Column]] = ()
    fields: ClassVar[Sequence[FormField]] = ()
    can_create: ClassVar[bool] = True
    can_edit: ClassVar[bool] = True
    can_delete: ClassVar[bool] = True
    can_archive: ClassVar[bool] = True
    filter_in_database: ClassVar[bool] = False  # large tables (contacts) filter in SQL, the rest in memory
    hint: ClassVar[str] = ""
    # Shown to every agent on their own settings screen (F4), where the services limit the rows to
    # the agent's own (an API key section, say); the other sections are the admins' alone.
    personal: ClassVar[bool] = False

    # An optional extra action on the selected row (test a mailbox, retry a message), key `t`.
    row_action: ClassVar[str] = ""
    # An optional read-only look at the selected row (a message's raw headers), key `v`.
    view_action: ClassVar[str] = ""

    def run_row_action(self, engine: Any, actor: Any, key: Any) -> str:
        """Runs in a thread worker; returns what to tell the admin."""
        raise NotImplementedError

    def view(self, tx: Tx, key: Any) -> tuple[str, list[str]]:
        """The title and lines of the `v` dialog; the dialog cleans each line."""
        raise NotImplementedError

    def rows(self, tx: Tx, search: str) -> list[Any]:
        raise NotImplementedError

    def create(self, tx: Tx, values: dict[str, Any]) -> Any:
        raise NotImplementedError

    def update(self, tx: Tx, key: Any, values: dict[str, Any]) -> Any:
        raise NotImplementedError

    def delete(self, tx: Tx, key: Any) -> None:
        raise NotImplementedError

    def archive(self, tx: Tx, key: Any) -> Any:
        raise NotImplementedError

    def key(self, row: Any) -> Any:
        return row.id

    def label(self, row: Any) -> str:
        return str(getattr(row, "name", self.key(row)))

    def form_fields(self, row: Any | None) -> Sequence[FormField]:
        return self.fields

    def initial(self, row: Any | None) -> dict[str, Any]:
        if row is None:
            return {}
        return {f.name: getattr(row, f.name, None) for f in self.form_fields(row)}

    def options(self, tx: Tx) -> dict[str, Options]:
        """The choices the form's selects offer, loaded in the worker before the form opens."""
        return {}

    def shown_once(self, created: Any) -> tuple[str, list[str]] | None:
        """A dialog (title, lines) to show after a create: what the service returns only once (a new
        API key)."""
        return None

    def is_archived(self, row: Any) -> bool:
        if hasattr(row, "archived"):
            return bool(row.archived)
        if hasattr(row, "active"):
            return not row.active
        return getattr(row, "state", "active") != "active"


SECTIONS: list[tuple[str, type[Section]]] = []


def register_section(title: str, section: type[Section], *, after: str | None = None) -> None:
    """Add (or replace) a section of the admin screen; `after` places it after the named one."""
    for i, (existing, _) in enumerate(SECTIONS):
        if existing == title:
            SECTIONS[i] = (title, section)
            return
    index = len(SECTIONS)
    if after is not None:
        for i, (existing, _) in enumerate(SECTIONS):
            if existing == after:
                index = i + 1
    SECTIONS.insert(index, (title, section))


# --- option loaders shared by several forms ----------------------------------------------------------------


def _departments(tx: Tx) -> Options:
    return [(r.path, r.id) for r in admin.list_departments(tx)]


def _agents(tx: Tx) -> Options:
    return [(f"{r.username} ({r.name})", r.id) for r in admin.list_agents(tx)]


def _priorities(tx: Tx) -> Options:
    return [(r.name, r.id) for r in admin.list_priorities(tx)]


def _roles(tx: Tx) -> Options:
    return [(r.name, r.id) for r in admin.list_roles(tx)]


def _teams(tx: Tx) -> Options:
    return [(r.name, r.id) for r in admin.list_teams(tx)]


def _sla_plans(tx: Tx) -> Options:
    from tui_helpdesk.services import lifecycle_admin

    return [(r.name, r.id) for r in lifecycle_admin.list_plans(tx)]


def _states(values: Sequence[str]) -> Options:
    return [(v, v) for v in values]


# --- the sections -------------------------------------------------------------------------------------------


class DepartmentSection(Section):
    title = "Departments"
    noun = "department"
    columns = (
        Column("Name", lambda r: clean_line(r.path)),
        Column("State", lambda r: r.state),
        Column("Manager", lambda r: r.manager),
        Column("Priority", lambda r: r.default_priority),
        Column("SLA", lambda r: r.sla_plan),
        Column("Email", lambda r: r.email),
    )
    fields = (
        FormField("name", "Name", required=True),
        FormField("parent", "Parent department", "select", options_key="departments"),
        FormField("manager", "Manager", "select", options_key="agents"),
        FormField("default_priority", "Default priority", "select", options_key="priorities"),
        FormField("sla_plan", "Default SLA plan", "select", options_key="sla_plans"),
        FormField("state", "State", "select", options_key="states", blank=""),
        FormField("email", "Reply-from email"),
        FormField("signature", "Signature", "textarea"),
    )

    def rows(self, tx: Tx, search: str) -> list[Any]:
        return admin.list_departments(tx)

    def initial(self, row: Any | None) -> dict[str, Any]:
        if row is None:
            return {"state": "active"}
        return {
            "name": row.name,
            "parent": row.parent_id,
            "manager": row.manager_id,
            "default_priority": row.default_priority_id,
            "sla_plan": row.sla_plan_id,
            "state": row.state,
            "email": row.email,
            "signature": row.signature,
        }

    def options(self, tx: Tx) -> dict[str, Options]:
        from tui_helpdesk.models import DEPARTMENT_STATES

        return {
            "departments": _departments(tx),
            "agents": _agents(tx),
            "priorities": _priorities(tx),
            "sla_plans": _sla_plans(tx),
            "states": _states(DEPARTMENT_STATES),
        }

    def create(self, tx: Tx, values: dict[str, Any]) -> Any:
        return admin.create_department(tx, **values)

    def update(self, tx: Tx, key: Any, values: dict[str, Any]) -> Any:
        return admin.update_department(tx, key, **values)

    def delete(self, tx: Tx, key: Any) -> None:
        admin.delete_department(tx, key)

    def archive(self, tx: Tx, key: Any) -> Any:
        return admin.archive_department(tx, key)


class StatusSection(Section):
    title = "Statuses"
    noun = "status"
    columns = (
        Column("Name", lambda r: _swatch(r.name, r.color)),
        Column("State", lambda r: r.state),
        Column("Order", lambda r: str(r.sort_order)),
        Column("Colour", lambda r: r.color),
        Column("Default", lambda r: _yes(r.is_default)),
        Column("Archived", lambda r: _yes(r.archived)),
    )
    fields = (
        FormField("name", "Name", required=True),
        FormField(
            "state",
            "State",
            "select",
            required=True,
            options_key="states",
            blank="",
            help="new, open, pending, resolved or closed: the state carries the behaviour",
        ),
        FormField("sort_order", "Order", "int"),
        FormField("color", "Colour", help="a colour name or #rrggbb, e.g. green, orange1, #ff8800"),
        FormField("is_default", "Default status for its state", "bool"),
    )

    def rows(self, tx: Tx, search: str) -> list[Any]:
        return admin.list_statuses(tx)

    def initial(self, row: Any | None) -> dict[str, Any]:
        if row is None:
            return {"state": "open", "sort_order": 100}
        return super().initial(row)

    def options(self, tx: Tx) -> dict[str, Options]:
        from tui_helpdesk.models import STATES

        return {"states": _states(STATES)}

    def create(self, tx: Tx, values: dict[str, Any]) -> Any:
        return admin.create_status(tx, **values)

    def update(self, tx: Tx, key: Any, values: dict[str, Any]) -> Any:
        return admin.update_status(tx, key, **values)

    def delete(self, tx: Tx, key: Any) -> None:
        admin.delete_status(tx, key)

    def archive(self, tx: Tx, key: Any) -> Any:
        return admin.archive_status(tx, key)


class PrioritySection(Section):
    title = "Priorities"
    noun = "priority"
    can_archive = False
    columns = (
        Column("Name", lambda r: _swatch(r.name, r.color)),
        Column("Rank", lambda r: str(r.rank)),
        Column("Colour", lambda r: r.color),
        Column("Default", lambda r: _yes(r.is_default)),
    )
    fields = (
        FormField("name", "Name", required=True),
        FormField("rank", "Rank", "int", help="higher is more urgent; the queue sorts by it"),
        FormField("color", "Colour"),
        FormField("is_default", "Default priority", "bool"),
    )

    def rows(self, tx: Tx, search: str) -> list[Any]:
        return admin.list_priorities(tx)

    def create(self, tx: Tx, values: dict[str, Any]) -> Any:
        return admin.create_priority(tx, **values)

    def update(self, tx: Tx, key: Any, values: dict[str, Any]) -> Any:
        return admin.update_priority(tx, key, **values)

    def delete(self, tx: Tx, key: Any) -> None:
        admin.delete_priority(tx, key)


class TopicSection(Section):
    title = "Help topics"
    noun = "help topic"
    columns = (
        Column("Topic", lambda r: clean_line(r.path)),
        Column("Department", lambda r: r.department),
        Column("Priority", lambda r: r.priority),
        Column("Assign to", lambda r: r.auto_assign_agent or r.auto_assign_team),
        Column("Active", lambda r: _yes(r.active)),
    )
    fields = (
        FormField("name", "Name", required=True),
        FormField("parent", "Parent topic", "select", options_key="topics"),
        FormField("department", "Department", "select", options_key="departments"),
        FormField("priority", "Priority", "select", options_key="priorities"),
        FormField("sla_plan", "SLA plan", "select", options_key="sla_plans"),
        FormField("auto_assign_agent", "Auto-assign to agent", "select", options_key="agents"),
        FormField("auto_assign_team", "Auto-assign to team", "select", options_key="teams"),
        FormField("active", "Active", "bool"),
    )

    def rows(self, tx: Tx, search: str) -> list[Any]:
        return admin.list_topics(tx)

    def initial(self, row: Any | None) -> dict[str, Any]:
        if row is None:
            return {"active": True}
        return {
            "name": row.name,
            "parent": row.parent_id,
            "department": row.department_id,
            "priority": row.priority_id,
            "sla_plan": row.sla_plan_id,
            "auto_assign_agent": row.auto_assign_agent_id,
            "auto_assign_team": row.auto_assign_team_id,
            "active": row.active,
        }

    def options(self, tx: Tx) -> dict[str, Options]:
        return {
            "topics": [(r.path, r.id) for r in admin.list_topics(tx)],
            "departments": _departments(tx),
            "priorities": _priorities(tx),
            "sla_plans": _sla_plans(tx),
            "agents": _agents(tx),
            "teams": _teams(tx),
        }

    def create(self, tx: Tx, values: dict[str, Any]) -> Any:
        return admin.create_topic(tx, **values)

    def update(self, tx: Tx, key: Any, values: dict[str, Any]) -> Any:
        return admin.update_topic(tx, key, **values)

    def delete(self, tx: Tx, key: Any) -> None:
        admin.delete_topic(tx, key)

    def archive(self, tx: Tx, key: Any) -> Any:
        return admin.archive_topic(tx, key)


class ClassificationSection(Section):
    title = "Categories"
    noun = "entry"
    hint = "Category > Type > Item"
    columns = (
        Column("Name", lambda r: "  " * r.depth + clean_line(r.name)),
        Column("Kind", lambda r: r.kind),
        Column("Active", lambda r: _yes(r.active)),
    )
    fields = (
        FormField("kind", "Kind", "select", required=True, options_key="kinds", blank=""),
        FormField("name", "Name", required=True),
        FormField(
            "parent",
            "Parent",
            "select",
            options_key="parents",
            help="a type sits under a category, an item under a type",
        ),
        FormField("active", "Active", "bool"),
    )

    def rows(self, tx: Tx, search: str) -> list[Any]:
        return admin.list_classifications(tx)

    def initial(self, row: Any | None) -> dict[str, Any]:
        if row is None:
            return {"kind": "category", "active": True}
        return {"kind": row.kind, "name": row.name, "parent": row.parent_id, "active": row.active}

    def options(self, tx: Tx) -> dict[str, Options]:
        nodes = admin.list_classifications(tx)
        return {
            "kinds": _states(admin.KINDS),
            "parents": [(f"{r.path} ({r.kind})", r.id) for r in nodes if r.kind != "item"],
        }

    def create(self, tx: Tx, values: dict[str, Any]) -> Any:
        return admin.create_classification(tx, **values)

    def update(self, tx: Tx, key: Any, values: dict[str, Any]) -> Any:
        return admin.update_classification(tx, key, **values)

    def delete(self, tx: Tx, key: Any) -> None:
        admin.delete_classification(tx, key)

    def archive(self, tx: Tx, key: Any) -> Any:
        return admin.archive_classification(tx, key)


class AgentSection(Section):
    title = "Agents"
    noun = "agent"
    hint = "archive = deactivate"
    columns = (
        Column("Login", lambda r: clean_line(r.username)),
        Column("Name", lambda r: clean_line(r.name)),
        Column("Department", lambda r: r.department),
        Column("Role", lambda r: r.role),
        Column("Admin", lambda r: _yes(r.is_admin)),
        Column("Active", lambda r: _yes(r.active)),
    )
    fields = (
        FormField("username", "Login (Unix user name)", required=True),
        FormField("name", "Name", required=True),
        FormField("email", "Email"),
        FormField("department", "Primary department", "select", options_key="departments"),
        FormField("role", "Role in it", "select", options_key="roles"),
        FormField("is_admin", "Admin", "bool"),
        FormField("active", "Active", "bool"),
    )

    def rows(self, tx: Tx, search: str) -> list[Any]:
        return admin.list_agents(tx)

    def label(self, row: Any) -> str:
        return row.username

    def initial(self, row: Any | None) -> dict[str, Any]:
        if row is None:
            return {"active": True}
        return {
            "username": row.username,
            "name": row.name,
            "email": row.email,
            "department": row.department_id,
            "role": row.role_id,
            "is_admin": row.is_admin,
            "active": row.active,
        }

    def options(self, tx: Tx) -> dict[str, Options]:
        return {"departments": _departments(tx), "roles": _roles(tx)}

    def create(self, tx: Tx, values: dict[str, Any]) -> Any:
        return admin.create_agent(tx, **values)

    def update(self, tx: Tx, key: Any, values: dict[str, Any]) -> Any:
        return admin.update_agent(tx, key, **values)

    def delete(self, tx: Tx, key: Any) -> None:
        admin.delete_agent(tx, key)

    def archive(self, tx: Tx, key: Any) -> Any:
        return admin.archive_agent(tx, key)


class TeamSection(Section):
    title = "Teams"
    noun = "team"
    columns = (
        Column("Name", lambda r: clean_line(r.name)),
        Column("Lead", lambda r: r.lead),
        Column("Members", lambda r: ", ".join(r.members)),
        Column("Active", lambda r: _yes(r.active)),
    )
    fields = (
        FormField("name", "Name", required=True),
        FormField("lead", "Lead", "select", options_key="agents"),
        FormField("members", "Members (space toggles)", "multi", options_key="agents"),
        FormField("active", "Active", "bool"),
    )

    def rows(self, tx: Tx, search: str) -> list[Any]:
        return admin.list_teams(tx)

    def initial(self, row: Any | None) -> dict[str, Any]:
        if row is None:
            return {"active": True}
        return {"name": row.name, "lead": row.lead_id, "members": list(row.member_ids), "active": row.active}

    def options(self, tx: Tx) -> dict[str, Options]:
        return {"agents": _agents(tx)}

    def create(self, tx: Tx, values: dict[str, Any]) -> Any:
        return admin.create_team(tx, **values)

    def update(self, tx: Tx, key: Any, values: dict[str, Any]) -> Any:
        return admin.update_team(tx, key, **values)

    def delete(self, tx: Tx, key: Any) -> None:
        admin.delete_team(tx, key)

    def archive(self, tx: Tx, key: Any) -> Any:
        return admin.archive_team(tx, key)


class RoleSection(Section):
    title = "Roles"
    noun = "role"
    can_archive = False
    columns = (
        Column("Name", lambda r: clean_line(r.name)),
        Column(
            "Permissions",
            lambda r: (
                f"{len(r.permissions)}/{len(PERMISSIONS)}: "
                + ", ".join(p.removeprefix("ticket.") for p in r.permissions)
            ),
        ),
    )
    fields = (
        FormField("name", "Name", required=True),
        FormField("permissions", "Permissions (space toggles)", "multi", options_key="permissions"),
    )

    def rows(self, tx: Tx, search: str) -> list[Any]:
        return admin.list_roles(tx)

    def initial(self, row: Any | None) -> dict[str, Any]:
        return {} if row is None else {"name": row.name, "permissions": list(row.permissions)}

    def options(self, tx: Tx) -> dict[str, Options]:
        return {"permissions": [(p, p) for p in PERMISSIONS]}

    def create(self, tx: Tx, values: dict[str, Any]) -> Any:
        return admin.create_role(tx, **values)

    def update(self, tx: Tx, key: Any, values: dict[str, Any]) -> Any:
        return admin.update_role(tx, key, **values)

    def delete(self, tx: Tx, key: Any) -> None:
        admin.delete_role(tx, key)


class AccessSection(Section):
    title = "Department access"
    noun = "access grant"
    can_archive = False
    hint = "extended access beyond an agent's primary department"
    columns = (
        Column("Agent", lambda r: r.agent),
        Column("Department", lambda r: r.department),
        Column("Role", lambda r: r.role),
    )
    fields = (
        FormField("agent", "Agent", "select", required=True, options_key="agents", blank=""),
        FormField("department", "Department", "select", required=True, options_key="departments", blank=""),
        FormField("role", "Role there", "select", required=True, options_key="roles", blank=""),
    )

    def rows(self, tx: Tx, search: str) -> list[Any]:
        return admin.list_access(tx)

    def label(self, row: Any) -> str:
        return f"{row.agent} in {row.department}"

    def form_fields(self, row: Any | None) -> Sequence[FormField]:
        return self.fields if row is None else self.fields[2:]  # a grant's agent and department are its key

    def initial(self, row: Any | None) -> dict[str, Any]:
        return {} if row is None else {"role": row.role_id}

    def options(self, tx: Tx) -> dict[str, Options]:
        return {"agents": _agents(tx), "departments": _departments(tx), "roles": _roles(tx)}

    def create(self, tx: Tx, values: dict[str, Any]) -> Any:
        return admin.create_access(tx, **values)

    def update(self, tx: Tx, key: Any, values: dict[str, Any]) -> Any:
        return admin.update_access(tx, key, **values)

    def delete(self, tx: Tx, key: Any) -> None:
        admin.delete_access(tx, key)


class OrganizationSection(Section):
    title = "Organizations"
    noun = "organization"
    filter_in_database = True
    columns = (
        Column("Name", lambda r: clean_line(r.name)),
        Column("Domains", lambda r: ", ".join(r.domains)),
        Column("Contacts", lambda r: str(r.contacts)),
        Column("Archived", lambda r: _yes(r.archived)),
    )
    fields = (
        FormField("name", "Name", required=True),
        FormField(
            "domains", "Email domains", help="comma separated; mail from them is matched to this client"
        ),
        FormField("notes", "Notes", "textarea"),
        FormField("archived", "Archived", "bool"),
    )

    def rows(self, tx: Tx, search: str) -> list[Any]:
        return admin.list_organizations(tx, search)

    def initial(self, row: Any | None) -> dict[str, Any]:
        if row is None:
            return {}
        return {
            "name": row.name,
            "domains": ", ".join(row.domains),
            "notes": row.notes,
            "archived": row.archived,
        }

    def create(self, tx: Tx, values: dict[str, Any]) -> Any:
        return admin.create_organization(tx, **values)

    def update(self, tx: Tx, key: Any, values: dict[str, Any]) -> Any:
        return admin.update_organization(tx, key, **values)

    def delete(self, tx: Tx, key: Any) -> None:
        admin.delete_organization(tx, key)

    def archive(self, tx: Tx, key: Any) -> Any:
        return admin.archive_organization(tx, key)


class ContactSection(Section):
    title = "Contacts"
    noun = "contact"
    filter_in_database = True
    hint = "i import CSV"
    columns = (
        Column("Email", lambda r: clean_line(r.email)),
        Column("Name", lambda r: clean_line(r.name)),
        Column("Phone", lambda r: clean_line(r.phone)),
        Column("Organization", lambda r: clean_line(r.organization)),
        Column("Archived", lambda r: _yes(r.archived)),
    )
    fields = (
        FormField("email", "Email", required=True),
        FormField("name", "Name"),
        FormField("phone", "Phone"),
        FormField(
            "organization",
            "Organization",
            "select",
            options_key="organizations",
            help="left empty, a new contact is matched by its email domain",
        ),
        FormField("archived", "Archived", "bool"),
    )

    def rows(self, tx: Tx, search: str) -> list[Any]:
        return admin.list_contacts(tx, search)

    def label(self, row: Any) -> str:
        return row.email

    def initial(self, row: Any | None) -> dict[str, Any]:
        if row is None:
            return {}
        return {
            "email": row.email,
            "name": row.name,
            "phone": row.phone,
            "organization": row.organization_id,
            "archived": row.archived,
        }

    def options(self, tx: Tx) -> dict[str, Options]:
        return {"organizations": [(r.name, r.id) for r in admin.list_organizations(tx)]}

    def create(self, tx: Tx, values: dict[str, Any]) -> Any:
        if not values.get("organization"):
            values = {k: v for k, v in values.items() if k != "organization"}
        return admin.create_contact(tx, **values)

    def update(self, tx: Tx, key: Any, values: dict[str, Any]) -> Any:
        return admin.update_contact(tx, key, **values)

    def delete(self, tx: Tx, key: Any) -> None:
        admin.delete_contact(tx, key)

    def archive(self, tx: Tx, key: Any) -> Any:
        return admin.archive_contact(tx, key)


class CannedSection(Section):
    title = "Canned responses"
    noun = "canned response"
    columns = (
        Column("Title", lambda r: clean_line(r.title)),
        Column("Department", lambda r: r.department or "all"),
        Column("Owner", lambda r: r.owner or "shared"),
        Column("Active", lambda r: _yes(r.active)),
    )
    fields = (
        FormField("title", "Title", required=True),
        FormField("body", "Body (Markdown)", "textarea", required=True),
        FormField("department", "Department", "select", options_key="departments", blank="(all departments)"),
        FormField("owner", "Owner", "select", options_key="agents", blank="(shared)"),
        FormField("active", "Active", "bool"),
    )

    def rows(self, tx: Tx, search: str) -> list[Any]:
        return admin.list_canned(tx)

    def label(self, row: Any) -> str:
        return row.title

    def initial(self, row: Any | None) -> dict[str, Any]:
        if row is None:
            return {"active": True}
        return {
            "title": row.title,
            "body": row.body,
            "department": row.department_id,
            "owner": row.owner_id,
            "active": row.active,
        }

    def options(self, tx: Tx) -> dict[str, Options]:
        return {"departments": _departments(tx), "agents": _agents(tx)}

    def create(self, tx: Tx, values: dict[str, Any]) -> Any:
        return admin.create_canned(tx, **values)

    def update(self, tx: Tx, key: Any, values: dict[str, Any]) -> Any:
        return admin.update_canned(tx, key, **values)

    def delete(self, tx: Tx, key: Any) -> None:
        admin.delete_canned(tx, key)

    def archive(self, tx: Tx, key: Any) -> Any:
        return admin.archive_canned(tx, key)


class SettingsSection(Section):
    title = "Settings"
    noun = "setting"
    can_create = False
    can_archive = False
    hint = "d resets to the default"
    columns = (
        Column("Setting", lambda r: r.key),
        Column("Value", lambda r: Text(clean_line(r.display), style="" if r.is_default else "bold")),
        Column("About", lambda r: r.description),
    )

    def rows(self, tx: Tx, search: str) -> list[Any]:
        return admin.list_settings(tx)

    def label(self, row: Any) -> str:
        return row.key

    def form_fields(self, row: Any | None) -> Sequence[FormField]:
        kind = {"bool": "bool", "int": "int", "choice": "select"}.get(row.kind, "text") if row else "text"
        help_text = row.description if row else ""
        if row is not None and row.kind == "list":
            help_text = (help_text + "; " if help_text else "") + "comma separated"
        return (
            FormField(
                "value", row.key if row else "Value", kind, options_key="choices", blank="", help=help_text
            ),
        )

    def initial(self, row: Any | None) -> dict[str, Any]:
        if row is None:
            return {}
        if row.secret:
            return {"value": ""}
        value = ", ".join(str(v) for v in row.value) if isinstance(row.value, list) else row.value
        return {"value": value}

    def options(self, tx: Tx) -> dict[str, Options]:
        return {}

    def update(self, tx: Tx, key: Any, values: dict[str, Any]) -> Any:
        return admin.set_setting(tx, key, values["value"])

    def delete(self, tx: Tx, key: Any) -> None:
        admin.reset_setting(tx, key)


for _title, _cls in (
    ("Departments", DepartmentSection),
    ("Statuses", StatusSection),
    ("Priorities", PrioritySection),
    ("Help topics", TopicSection),
    ("Categories", ClassificationSection),
    ("Agents", AgentSection),
    ("Teams", TeamSection),
    ("Roles", RoleSection),
    ("Department access", AccessSection),
    ("Organizations", OrganizationSection),
    ("Contacts", ContactSection),
    ("Canned responses", CannedSection),
    ("Settings", SettingsSection),
):
    register_section(_title, _cls)


# --- the screen -------------------------------------------------------------------------------------------


# Modules that add sections; imported when the screen opens because they import this module.
SECTION_MODULES = (
    "tui_helpdesk.tui.screens.admin_lifecycle",
    "tui_helpdesk.tui.screens.admin_mail",
    "tui_helpdesk.tui.screens.admin_keys",
    "tui_helpdesk.tui.screens.admin_audit",
    "tui_helpdesk.tui.screens.admin_fields",
    "tui_helpdesk.tui.screens.admin_ssh_keys",
)


def load_section_modules() -> None:
    import importlib

    for name in SECTION_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        register = getattr(module, "register", None)
        if callable(register):
            register()  # idempotent: a section registered again replaces itself


class AdminScreen(Screen[None]):
    """Admin sections, their rows, and the forms to change them. Admins only."""

    CSS_PATH = stylesheet("admin.tcss")  # read when the admin screen first opens, not at start-up

    BINDINGS = [
        Binding("escape", "back", "Back", id="admin.back"),
        Binding("n", "new", "New", id="admin.new"),
        Binding("e", "edit", "Edit", id="admin.edit"),
        Binding("d", "delete", "Delete", id="admin.delete"),
        Binding("a", "archive", "Archive", id="admin.archive"),
        Binding("slash", "filter", "Filter", id="admin.filter"),
        Binding("i", "import_contacts", "Import CSV", id="admin.import", show=False),
        Binding("t", "row_action", "Row action", id="admin.row_action", show=False),
        Binding("v", "view_row", "View", id="admin.view", show=False),
        Binding("E", "export", "Export CSV", id="admin.export", show=False),
        Binding("r", "refresh", "Refresh", id="admin.refresh", show=False),
        Binding("tab", "switch_focus", "Sections", id="admin.sections", show=False),
        Binding("j", "cursor_down", "Down", id="admin.down", show=False),
        Binding("k", "cursor_up", "Up", id="admin.up", show=False),
    ]

    def __init__(self, personal: bool = False) -> None:
        super().__init__(classes="admin-screen")
        load_section_modules()
        self.personal = personal
        self.sections: list[Section] = [cls() for _, cls in SECTIONS if cls.personal or not personal]
        self.section: Section = self.sections[0]
        self.all_rows: list[Any] = []
        self.shown: list[Any] = []
        self.allowed = True

    # --- layout ---

    def compose(self) -> ComposeResult:
        ctx = ctx_of(self)
        self.allowed = bool(ctx.actor.is_admin) or self.personal
        if not self.allowed:
            yield Static(
                Text(
                    f"Only admins can open the admin screens; {ctx.actor.username} is not an admin.\n\n"
                    "Press esc to go back."
                ),
                id="admin-refused",
            )
            yield Footer()
            return
        with Horizontal(id="admin-body"):
            yield OptionList(
                *[Option(s.title, id=str(i)) for i, s in enumerate(self.sections)], id="admin-sections"
            )
            with Vertical(id="admin-main"):
                yield Static("", id="admin-title")
                yield Input(placeholder="filter rows (esc clears)", id="admin-filter")
                yield DataTable(id="admin-table", cursor_type="row", zebra_stripes=True)
                yield Static("", id="admin-status")
        yield Footer()

    def on_mount(self) -> None:
        if not self.allowed:
            return
        self.query_one("#admin-filter", Input).display = False
        self.query_one("#admin-sections", OptionList).highlighted = 0
        self.query_one("#admin-table", DataTable).focus()
        self._show_section(self.sections[0])

    # --- helpers ---

    @property
    def table(self) -> DataTable:
        return self.query_one("#admin-table", DataTable)

    def _status(self, message: str, error: bool = False) -> None:
        status = self.query_one("#admin-status", Static)
        status.update(Text(message))
        status.set_class(error, "error")

    def _title(self) -> None:
        s = self.section
        keys = [
            k
            for k, ok in (
                ("n new", s.can_create),
                ("e edit", s.can_edit),
                ("d delete", s.can_delete),
                ("a archive", s.can_archive),
                (f"t {s.row_action}", bool(s.row_action)),
            )
            if ok
        ]
        count = (
            f"{len(self.shown)}"
            if len(self.shown) == len(self.all_rows)
            else f"{len(self.shown)} of {len(self.all_rows)}"
        )
        text = Text(s.title, style="bold")
        text.append(f"  {count} {'row' if len(self.all_rows) == 1 else 'rows'}", style="dim")
        if s.hint:
            text.append(f"  · {s.hint}", style="dim")
        text.append("   " + "  ".join(keys), style="dim")
        self.query_one("#admin-title", Static).update(text)

    def _current(self) -> Any | None:
        table = self.table
        if not self.shown or table.cursor_row < 0 or table.cursor_row >= len(self.shown):
            return None
        return self.shown[table.cursor_row]

    def _show_section(self, section: Section) -> None:
        self.section = section
        self.all_rows, self.shown = [], []
        table = self.table
        table.clear(columns=True)
        for col in section.columns:
            table.add_column(col.title)
        self._title()
        self._status("loading…")
        self._load(section, self._search())

    def _search(self) -> str:
        field = self.query_one("#admin-filter", Input)
        return field.value.strip() if field.display else ""

    # --- workers: every database call runs off the UI thread ---

    @work(thread=True, exclusive=True, group="admin-load")
    def _load(self, section: Section, search: str, select_key: Any = None) -> None:
        ctx = ctx_of(self)
        try:
            rows = door.read(ctx.engine, ctx.actor, section.rows, search if section.filter_in_database else "")
        except ServiceError as exc:
            self.app.call_from_thread(self._status, str(exc), True)
            return
        self.app.call_from_thread(self._loaded, section, rows, select_key)

    def _loaded(self, section: Section, rows: list[Any], select_key: Any) -> None:
        if section is not self.section:
            return  # the user moved on to another section while this one loaded
        self.all_rows = rows
        self._apply_filter(select_key)
        # the outcome of the last write stays readable after the reload that follows it
        message, self._after_load = getattr(self, "_after_load", ""), ""
        self._status(message)

    def _apply_filter(self, select_key: Any = None) -> None:
        section = self.section
        previous = self._current()
        keep = (
            select_key
            if select_key is not None
            else (section.key(previous) if previous is not None else None)
        )
        needle = self._search().lower()
        rows = self.all_rows
        if needle and not section.filter_in_database:
            rows = [r for r in rows if any(needle in str(col.cell(r)).lower() for col in section.columns)]
        self.shown = rows
        table = self.table
        lines: list[list[Text]] = []
        for row in rows:
            cells = []
            for col in section.columns:
                value = col.cell(row)
                cell = value if isinstance(value, Text) else Text(clean_line(str(value)))
                if section.is_archived(row):
                    cell.stylize("dim")
                cells.append(cell)
            lines.append(cells)
        # The columns get their widths from the rows here, not from the table's own measuring: that
        # happens on its next idle, and lines it painted before then stayed at the header's width
        # (addresses cut to "support" on a busy machine).
        table.clear(columns=True)
        for i, col in enumerate(section.columns):
            width = max([Text(col.title).cell_len, *(cells[i].cell_len for cells in lines)])
            table.add_column(col.title, width=width)
        for cells in lines:
            table.add_row(*cells)
        if keep is not None:
            for i, row in enumerate(rows):
                if section.key(row) == keep:
                    table.move_cursor(row=i)
                    break
        self._title()

    def _write(
        self,
        call: Callable[[Tx], Any],
        done: str,
        select_key: Any = None,
        on_conflict: Callable[[str], None] | None = None,
    ) -> None:
        self._run_write(self.section, call, done, select_key, on_conflict)

    @work(thread=True, group="admin-write")
    def _run_write(
        self,
        section: Section,
        call: Callable[[Tx], Any],
        done: str,
        select_key: Any,
        on_conflict: Callable[[str], None] | None,
    ) -> None:
        ctx = ctx_of(self)
        try:
            door.write(ctx.engine, ctx.actor, call)
        except Conflict as exc:
            if on_conflict is not None:
                self.app.call_from_thread(on_conflict, str(exc))
            else:
                self.app.call_from_thread(self._failed, str(exc))
            return
        except ValidationError as exc:
            self.app.call_from_thread(self._failed, exc.message)
            return
        except ServiceError as exc:
            self.app.call_from_thread(self._failed, str(exc))
            return
        self.app.call_from_thread(self._written, section, done, select_key)

    def _failed(self, message: str) -> None:
        self._status(message, True)
        self.notify(message, severity="error", timeout=6)

    def _written(self, section: Section, done: str, select_key: Any) -> None:
        self._status(done)
        self._after_load = done
        self.notify(done, timeout=3)
        if section is self.section:
            self._load(section, self._search(), select_key)

    @work(thread=True, exclusive=True, group="admin-form")
    def _open_form(self, section: Section, row: Any | None) -> None:
        ctx = ctx_of(self)
        try:
            options = door.read(ctx.engine, ctx.actor, section.options)
        except ServiceError as exc:
            self.app.call_from_thread(self._failed, str(exc))
            return
        self.app.call_from_thread(self._push_form, section, row, options)

    def _push_form(self, section: Section, row: Any | None, options: dict[str, Options]) -> None:
        ctx = ctx_of(self)
        if isinstance(section, SettingsSection) and row is not None:
            options = {"choices": [(c, c) for c in row.choices]}
        key = section.key(row) if row is not None else None
        saved: list[Any] = []

        def save(values: dict[str, Any]) -> None:
            # runs in the form's thread worker, in a transaction of its own
            if row is None:
                result = door.write(ctx.engine, ctx.actor, section.create, values)
            else:
                result = door.write(ctx.engine, ctx.actor, section.update, key, values)
            saved.append(result)

        title = (
            f"New {section.noun}"
            if row is None
            else f"Edit {section.noun} {clean_line(section.label(row))!r}"
        )

        def closed(ok: bool | None) -> None:
            if ok and saved:
                result = saved[0]
                label = clean_line(section.label(result)) if result is not None else ""
                new_key = section.key(result) if result is not None else key
                self._written(
                    section, f"{'Created' if row is None else 'Saved'} {section.noun} {label!r}", new_key
                )
                once = section.shown_once(result) if row is None and result is not None else None
                if once is not None:
                    self.app.push_screen(MessageDialog(*once))
            self.table.focus()

        self.app.push_screen(
            AdminForm(title, section.form_fields(row), section.initial(row), options, save), closed
        )

    # --- actions ---

    def action_back(self) -> None:
        if self.allowed:
            field = self.query_one("#admin-filter", Input)
            if field.display:
                field.value = ""
                field.display = False
                self._reload_for_filter()
                self.table.focus()
                return
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    def action_new(self) -> None:
        if not self.allowed:
            return
        if not self.section.can_create:
            self._status(f"{self.section.title}: nothing to create here; e edits a row", True)
            return
        self._open_form(self.section, None)

    def action_edit(self) -> None:
        row = self._current() if self.allowed else None
        if row is not None and self.section.can_edit:
            self._open_form(self.section, row)

    def action_delete(self) -> None:
        row = self._current() if self.allowed else None
        section = self.section
        if row is None or not section.can_delete:
            return
        label = clean_line(section.label(row))
        key = section.key(row)
        if isinstance(section, SettingsSection):
            question, detail, yes = f"Reset {label} to its default?", f"Default: {row.default}", "Reset"
        else:
            question, detail, yes = f"Delete {section.noun} {label!r}?", "This cannot be undone.", "Delete"

        def refused(reason: str) -> None:
            def chosen(choice: str | None) -> None:
                if choice == "archive":
                    self._write(
                        lambda tx: section.archive(tx, key), f"Archived {section.noun} {label!r}", key
                    )

            self._status(reason, True)
            self.app.push_screen(RefusedDialog(reason, section.can_archive), chosen)

        def answered(yes_: bool | None) -> None:
            if yes_:
                done = (
                    f"Reset {label}"
                    if isinstance(section, SettingsSection)
                    else f"Deleted {section.noun} {label!r}"
                )
                self._write(lambda tx: section.delete(tx, key), done, None, refused)

        self.app.push_screen(ConfirmDialog(question, detail, yes), answered)

    def action_archive(self) -> None:
        row = self._current() if self.allowed else None
        section = self.section
        if row is None:
            return
        if not section.can_archive:
            self._status(f"{section.title} cannot be archived", True)
            return
        label = clean_line(section.label(row))
        key = section.key(row)
        self._write(lambda tx: section.archive(tx, key), f"Archived {section.noun} {label!r}", key)

    def action_filter(self) -> None:
        if not self.allowed:
            return
        field = self.query_one("#admin-filter", Input)
        field.display = True
        field.focus()

    def action_refresh(self) -> None:
        if self.allowed:
            self._load(self.section, self._search())

    def action_switch_focus(self) -> None:
        if not self.allowed:
            return
        sections = self.query_one("#admin-sections", OptionList)
        (self.table if sections.has_focus else sections).focus()

    def action_cursor_down(self) -> None:
        if self.allowed:
            self.table.action_cursor_down() if self.table.has_focus else self.query_one(
                "#admin-sections", OptionList
            ).action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.allowed:
            self.table.action_cursor_up() if self.table.has_focus else self.query_one(
                "#admin-sections", OptionList
            ).action_cursor_up()

    def action_row_action(self) -> None:
        row = self._current() if self.allowed else None
        if row is None or not self.section.row_action:
            return
        self._status(f"{self.section.row_action}: working...")
        self._run_row_action(self.section, self.section.key(row))

    @work(thread=True, group="admin-write")
    def _run_row_action(self, section: Section, key: Any) -> None:
        ctx = ctx_of(self)
        try:
            message = section.run_row_action(ctx.engine, ctx.actor, key)
        except ServiceError as exc:
            self.app.call_from_thread(self._failed, str(exc))
            return
        self.app.call_from_thread(self._written, section, clean_line(message), key)

    def action_view_row(self) -> None:
        row = self._current() if self.allowed else None
        if row is None or not self.section.view_action:
            return
        self._load_view(self.section, self.section.key(row))

    @work(thread=True, group="admin-read")
    def _load_view(self, section: Section, key: Any) -> None:
        ctx = ctx_of(self)
        try:
            title, lines = door.read(ctx.engine, ctx.actor, section.view, key)
        except ServiceError as exc:
            self.app.call_from_thread(self._failed, str(exc))
            return
        self.app.call_from_thread(self.app.push_screen, MessageDialog(title, lines))

    def action_export(self) -> None:
        """E: a section that can export (the audit log) writes what its filter matches to a file."""
        section = self.section
        if not self.allowed or not callable(getattr(section, "export", None)):
            return
        search = self._search()

        def chosen(path: str | None) -> None:
            if path:
                self._export(section, search, path)

        self.app.push_screen(PathPrompt(f"Export {section.title} as CSV", "Every row the filter matches."), chosen)

    @work(thread=True, group="admin-read")
    def _export(self, section: Section, search: str, path: str) -> None:
        ctx = ctx_of(self)
        try:
            message = section.export(ctx.engine, ctx.actor, search, path)  # type: ignore[attr-defined]
        except ValidationError as exc:
            self.app.call_from_thread(self._failed, exc.message)
            return
        except ServiceError as exc:
            self.app.call_from_thread(self._failed, str(exc))
            return
        self.app.call_from_thread(self._written, section, clean_line(message), None)

    def action_import_contacts(self) -> None:
        if not self.allowed or not isinstance(self.section, ContactSection):
            return

        def chosen(path: str | None) -> None:
            if path:
                self._import(path)

        self.app.push_screen(
            PathPrompt(
                "Import contacts from CSV", "Columns: email,name,phone,organization (a header line first)."
            ),
            chosen,
        )

    @work(thread=True, group="admin-write")
    def _import(self, path: str) -> None:
        ctx = ctx_of(self)
        try:
            report = door.write(ctx.engine, ctx.actor, admin.import_contacts_file, path)
        except ValidationError as exc:
            self.app.call_from_thread(self._failed, exc.message)
            return
        except ServiceError as exc:
            self.app.call_from_thread(self._failed, str(exc))
            return
        self.app.call_from_thread(self._imported, report)

    def _imported(self, report: admin.ImportReport) -> None:
        lines = [report.summary()]
        if report.errors:
            lines.append("")
            lines += [f"line {e.line} {e.email or '(no email)'}: {e.message}" for e in report.errors[:200]]
            if len(report.errors) > 200:
                lines.append(f"… and {len(report.errors) - 200} more")
        self._written(self.section, f"Import: {report.summary()}", None)
        self.app.push_screen(MessageDialog("Contacts imported", lines))

    # --- events ---

    @on(OptionList.OptionHighlighted, "#admin-sections")
    def _section_chosen(self, event: OptionList.OptionHighlighted) -> None:
        index = int(event.option.id or 0)
        if self.sections[index] is not self.section:
            self._show_section(self.sections[index])

    @on(OptionList.OptionSelected, "#admin-sections")
    def _section_entered(self) -> None:
        self.table.focus()

    @on(DataTable.RowSelected, "#admin-table")
    def _row_entered(self) -> None:
        if not self.section.can_edit and self.section.view_action:
            self.action_view_row()  # a read-only section (the audit log): enter reads the row
            return
        self.action_edit()

    @on(Input.Changed, "#admin-filter")
    def _filter_changed(self) -> None:
        self._reload_for_filter()

    @on(Input.Submitted, "#admin-filter")
    def _filter_done(self) -> None:
        self.table.focus()

    def _reload_for_filter(self) -> None:
        if self.section.filter_in_database:
            self._load(self.section, self._search())
        else:
            self._apply_filter()
