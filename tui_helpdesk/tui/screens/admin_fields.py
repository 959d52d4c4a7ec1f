"""The admin screen's custom fields and assets sections.

Custom fields (osTicket's forms): a field's name is fixed once made (it is the `cf.NAME` of filters and
the `%{ticket.custom.NAME}` of templates), so the edit form leaves it out. Every rule (types, choices,
where it applies, required at create or close) is services/custom_fields.py's; this only lays it out.
Assets belong to an organization (ITFlow's related asset); a ticket's header picks one of them.
"""

from __future__ import annotations

from typing import Any

from tui_helpdesk.models import FIELD_TARGETS, FIELD_TYPES
from tui_helpdesk.services import admin, assets, custom_fields
from tui_helpdesk.services.context import Tx
from tui_helpdesk.untrusted import clean_line

from .admin import Column, Section, _departments, register_section
from .admin_forms import FormField, Options

_ABOUT = FormField("name", "Name (variable)", required=True,
                   help="lower case, as typed in cf.NAME:VALUE filters and %{ticket.custom.NAME}")
_TARGET = FormField("target", "On", "select", required=True, options_key="targets", blank="")
_DEFINITION = (
    FormField("label", "Label", required=True),
    FormField("type", "Type", "select", required=True, options_key="types", blank=""),
    FormField("choices", "Choices", help="choice and multi-choice: comma separated"),
    FormField("help_text", "Help text", help="shown under the field in the forms"),
    FormField("required_at_create", "Required to open", "bool"),
    FormField("required_at_close", "Required to close", "bool", help="tickets only"),
    FormField("topics", "Help topics", "multi", options_key="topics", help="none chosen: every ticket"),
    FormField("departments", "Departments", "multi", options_key="departments"),
    FormField("sort_order", "Order", "int"),
    FormField("active", "Active", "bool"),
)


class CustomFieldSection(Section):
    title = "Custom fields"
    noun = "custom field"
    can_archive = False
    hint = "cf.NAME in / filters, %{ticket.custom.NAME} in templates"
    columns = (
        Column("On", lambda r: r.target),
        Column("Name", lambda r: r.name),
        Column("Label", lambda r: clean_line(r.label)),
        Column("Type", lambda r: custom_fields.TYPE_LABELS.get(r.type, r.type)),
        Column("Required", lambda r: r.required),
        Column("Applies to", lambda r: clean_line(r.where)),
        Column("Active", lambda r: "yes" if r.active else "no"),
    )
    fields = (_TARGET, _ABOUT, *_DEFINITION)

    def rows(self, tx: Tx, search: str) -> list[Any]:
        return custom_fields.list_fields(tx)

    def label(self, row: Any) -> str:
        return f"{row.label} ({row.target} field {row.name})"

    def form_fields(self, row: Any | None) -> tuple[FormField, ...]:
        return self.fields if row is None else _DEFINITION

    def initial(self, row: Any | None) -> dict[str, Any]:
        if row is None:
            return {"target": "ticket", "type": "text", "active": True, "sort_order": 0}
        return {
            "label": row.label, "type": row.type, "choices": ", ".join(row.choices), "help_text": row.help_text,
            "required_at_create": row.required_at_create, "required_at_close": row.required_at_close,
            "topics": list(row.topic_ids), "departments": list(row.department_ids),
            "sort_order": row.sort_order, "active": row.active,
        }

    def options(self, tx: Tx) -> dict[str, Options]:
        return {
            "targets": [(t, t) for t in FIELD_TARGETS],
            "types": [(custom_fields.TYPE_LABELS[t], t) for t in FIELD_TYPES],
            "topics": [(r.path, r.id) for r in admin.list_topics(tx)],
            "departments": _departments(tx),
        }

    def create(self, tx: Tx, values: dict[str, Any]) -> Any:
        values = dict(values)
        return custom_fields.create_field(tx, name=values.pop("name", ""), target=values.pop("target", "ticket"),
                                          **values)

    def update(self, tx: Tx, key: Any, values: dict[str, Any]) -> Any:
        return custom_fields.update_field(tx, key, **values)

    def delete(self, tx: Tx, key: Any) -> None:
        custom_fields.remove_field(tx, key)

    def is_archived(self, row: Any) -> bool:
        return not row.active


class AssetSection(Section):
    title = "Assets"
    noun = "asset"
    can_archive = False
    hint = "what clients own (laptops, printers, lines); a ticket's header picks one of its organization's"
    columns = (
        Column("Organization", lambda r: clean_line(r.organization)),
        Column("Name", lambda r: clean_line(r.name)),
        Column("Type", lambda r: clean_line(r.type)),
        Column("Serial", lambda r: clean_line(r.serial)),
        Column("Tickets", lambda r: str(r.tickets)),
    )
    fields = (
        FormField("organization", "Organization", "select", required=True, options_key="orgs", blank=""),
        FormField("name", "Name", required=True),
        FormField("type", "Type", help="laptop, printer, server, line, ..."),
        FormField("serial", "Serial"),
        FormField("notes", "Notes", "textarea"),
    )

    def rows(self, tx: Tx, search: str) -> list[Any]:
        return assets.list_all(tx, search)

    def form_fields(self, row: Any | None) -> tuple[FormField, ...]:
        return self.fields if row is None else self.fields[1:]

    def initial(self, row: Any | None) -> dict[str, Any]:
        if row is None:
            return {}
        return {"name": row.name, "type": row.type, "serial": row.serial, "notes": row.notes}

    def options(self, tx: Tx) -> dict[str, Options]:
        return {"orgs": [(r.name, r.id) for r in admin.list_organizations(tx)]}

    def create(self, tx: Tx, values: dict[str, Any]) -> Any:
        values = dict(values)
        return assets.add_asset(tx, values.pop("organization", None) or "", **values)

    def update(self, tx: Tx, key: Any, values: dict[str, Any]) -> Any:
        return assets.update_asset(tx, key, **values)

    def delete(self, tx: Tx, key: Any) -> None:
        assets.remove_asset(tx, key)


def register() -> None:
    register_section("Custom fields", CustomFieldSection, after="Categories")
    register_section("Assets", AssetSection, after="Contacts")
