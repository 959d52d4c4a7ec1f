"""Shared column helpers for the tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from tui_helpdesk import clock

# Stable constraint names, so migrations can address them on PostgreSQL and in SQLite batch mode.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def created_field() -> datetime:
    return Field(default_factory=clock.now, nullable=False)


def json_field(default_factory=dict):
    return Field(default_factory=default_factory, sa_column=Column(JSON, nullable=False))


def text_field(default: str = "", nullable: bool = False):
    return Field(default=default, sa_column=Column(Text, nullable=nullable))
