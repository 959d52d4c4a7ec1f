"""Who is involved: organizations (clients), contacts (requesters), agents, teams, roles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel

from ._base import created_field, json_field, text_field


class Organization(SQLModel, table=True):
    __tablename__ = "organization"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    notes: str = text_field()
    archived: bool = Field(default=False)
    created_at: datetime = created_field()
    custom_fields: dict = json_field(dict)  # values of the admin's organization fields (models/custom_fields.py)


class OrganizationDomain(SQLModel, table=True):
    """An email domain owned by a client: mail from it can be matched to the organization."""

    __tablename__ = "organization_domain"
    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    domain: str = Field(max_length=255, unique=True)


class Contact(SQLModel, table=True):
    __tablename__ = "contact"
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True)  # stored lower-cased
    name: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=50)
    organization_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    archived: bool = Field(default=False)
    created_at: datetime = created_field()
    # Mail to this address bounced (the latest report): agents see it in the ticket header.
    bounced_at: datetime | None = None
    bounce_status: str = Field(default="", max_length=200)
    custom_fields: dict = json_field(dict)  # values of the admin's contact fields (models/custom_fields.py)


class Role(SQLModel, table=True):
    """A named set of permissions an agent holds in a department."""

    __tablename__ = "role"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    permissions: list[str] = json_field(list)


class Agent(SQLModel, table=True):
    __tablename__ = "agent"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=100, unique=True)  # the Unix login
    name: str = Field(max_length=200)
    email: str = Field(default="", max_length=320)
    is_admin: bool = Field(default=False)
    active: bool = Field(default=True)
    # use_alter: department.manager_id points back here, so one side of the cycle is added later
    primary_department_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("department.id", use_alter=True, name="fk_agent_primary_department")),
    )
    role_id: int | None = Field(default=None, foreign_key="role.id")
    signature: str = text_field()
    created_at: datetime = created_field()


class DepartmentAccess(SQLModel, table=True):
    """Extended access: an agent working in a department other than their primary one."""

    __tablename__ = "department_access"
    agent_id: int = Field(foreign_key="agent.id", primary_key=True)
    department_id: int = Field(foreign_key="department.id", primary_key=True)
    role_id: int = Field(foreign_key="role.id")


class Team(SQLModel, table=True):
    __tablename__ = "team"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    lead_id: int | None = Field(default=None, foreign_key="agent.id")
    active: bool = Field(default=True)


class TeamMember(SQLModel, table=True):
    __tablename__ = "team_member"
    team_id: int = Field(foreign_key="team.id", primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", primary_key=True)
