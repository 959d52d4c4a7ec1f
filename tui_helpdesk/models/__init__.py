"""The tables. The core modules are imported with the package; the leaf ones (_LAZY) only when one of
their names is first asked for (PEP 562), so the app's start skips the tables its first screen never
reads (issue 11: ~150-230 ms of CPU). Whatever must see every table on SQLModel.metadata (autogenerate,
the foreign-key scan of a ticket's deletion) calls `load_all()`; `models.metadata` does it too.

A leaf module may refer to core tables, never the other way round (tests/test_models_lazy.py): so a
foreign key of any loaded table always finds its target, and a leaf loaded late changes nothing loaded
before it. There are no relationship() attributes to resolve by name.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sqlalchemy import MetaData
from sqlmodel import SQLModel

from .billing import BillingRate, Invoice, InvoiceLine
from .custom_fields import FIELD_TARGETS, FIELD_TYPES, Asset, CustomField, TicketAsset, TicketFieldValue
from .org import (
    DEPARTMENT_STATES,
    STATES,
    Classification,
    Department,
    HelpTopic,
    Holiday,
    Priority,
    Schedule,
    SLAPlan,
    Status,
)
from .people import Agent, Contact, DepartmentAccess, Organization, OrganizationDomain, Role, Team, TeamMember
from .reports import FACT_KINDS, ReportBacklog, ReportFact
from .system import AuditLog, Counter, Presence, ScheduledTicket, Setting, WorkerLock
from .views import CannedResponse, SavedView
from .tickets import (
    ENTRY_KINDS,
    LINK_INVERSE,
    SOURCES,
    Attachment,
    Collaborator,
    DepartmentCount,
    EntryRevision,
    Tag,
    Task,
    Ticket,
    TicketCount,
    TicketEntry,
    TicketEvent,
    TicketLink,
    TicketTag,
    TimeEntry,
)

if TYPE_CHECKING:
    from .api_keys import ApiKey
    from .deletion import TicketDeletion
    from .drafts import ReplyDraft
    from .kb import KbArticle, KbAttachment, KbCategory
    from .mail import BanRule, EmailTemplate, InboundMessage, Mailbox, OutboundMessage, TicketFilter
    from .ssh import AgentTotp, SshKey

# module -> the names it holds, imported on first use
_LAZY: dict[str, tuple[str, ...]] = {
    "api_keys": ("ApiKey",),
    "deletion": ("TicketDeletion",),
    "drafts": ("ReplyDraft",),
    "kb": ("KbArticle", "KbAttachment", "KbCategory"),
    "mail": ("BanRule", "EmailTemplate", "InboundMessage", "Mailbox", "OutboundMessage", "TicketFilter"),
    "ssh": ("AgentTotp", "SshKey"),
}
_HOME = {name: module for module, names in _LAZY.items() for name in names}


def load_all() -> MetaData:
    """Import every table module; SQLModel.metadata then holds every table."""
    for module in _LAZY:
        importlib.import_module(f"{__name__}.{module}")
    return SQLModel.metadata


def __getattr__(name: str) -> Any:
    if name == "metadata":
        return load_all()
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME) | {"metadata"})


__all__ = [n for n in __dir__() if not n.startswith("_") and n not in ("TYPE_CHECKING", "Any", "MetaData", "annotations", "importlib")]
