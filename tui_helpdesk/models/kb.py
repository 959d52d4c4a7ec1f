"""The knowledge base (osTicket's FAQs): articles in categories, published for customers or internal.

The full-text index of articles (kb_fts on SQLite, kb_search on PostgreSQL) is made by migration 0018
and kept by services/kb.py; like the tickets' index it is not described here (models/search.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from ._base import created_field, json_field, text_field


class KbCategory(SQLModel, table=True):
    __tablename__ = "kb_category"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    description: str = text_field()
    created_at: datetime = created_field()


class KbArticle(SQLModel, table=True):
    __tablename__ = "kb_article"
    id: int | None = Field(default=None, primary_key=True)
    category_id: int = Field(foreign_key="kb_category.id", index=True)
    title: str = Field(max_length=255)
    # the article's address in the public URL (GET /kb/{slug}); unique, made from the title
    slug: str = Field(max_length=120, unique=True)
    body: str = text_field()  # Markdown
    tags: list[str] = json_field(list)
    published: bool = Field(default=False, index=True)
    published_at: datetime | None = None
    author_id: int | None = Field(default=None, foreign_key="agent.id")
    updated_by_id: int | None = Field(default=None, foreign_key="agent.id")
    created_at: datetime = created_field()
    updated_at: datetime = created_field()
    version: int = Field(default=1)


class KbAttachment(SQLModel, table=True):
    __tablename__ = "kb_attachment"
    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="kb_article.id", index=True)
    filename: str = Field(max_length=255)
    content_type: str = Field(default="application/octet-stream", max_length=150)
    size: int = Field(default=0)
    sha256: str = Field(max_length=64)
    storage_name: str = Field(max_length=100)  # random name under the data dir's kb/ folder
    created_at: datetime = created_field()
