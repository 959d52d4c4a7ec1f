"""All tables. Importing this package registers every table on SQLModel.metadata."""

from .api_keys import ApiKey
from .billing import BillingRate, Invoice, InvoiceLine
from .custom_fields import FIELD_TARGETS, FIELD_TYPES, Asset, CustomField, TicketAsset, TicketFieldValue
from .deletion import TicketDeletion
from .drafts import ReplyDraft
from .kb import KbArticle, KbAttachment, KbCategory
from .mail import BanRule, EmailTemplate, InboundMessage, Mailbox, OutboundMessage, TicketFilter
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
from .ssh import AgentTotp, SshKey
from .system import AuditLog, Counter, Presence, ScheduledTicket, Setting, WorkerLock
from .views import CannedResponse, SavedView
from .tickets import (
    ENTRY_KINDS,
    LINK_INVERSE,
    SOURCES,
    Attachment,
    Collaborator,
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
from sqlmodel import SQLModel

metadata = SQLModel.metadata

__all__ = [name for name in dir() if not name.startswith("_")]
