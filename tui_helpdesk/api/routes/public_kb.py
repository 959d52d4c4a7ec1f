"""/api/public/kb: published knowledge-base articles, no key needed (services/kb.py, public=True).

`GET /api/public/kb/{slug}` is the "public text" the composer links to (kb_public_url + this path):
the article as Markdown, readable in a browser or by curl. Internal articles answer 404, as missing ones.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, PlainTextResponse
from pydantic import BaseModel

from tui_helpdesk.services import door, kb
from tui_helpdesk.services.context import Actor
from tui_helpdesk.services.errors import NotFound
from tui_helpdesk.untrusted import safe_filename

from .. import schemas
from ..auth import engine_of

router = APIRouter(tags=["public"])

PUBLIC = Actor(agent_id=None, username="public view", is_admin=False, origin="api")
NOT_FOUND = {404: {"model": schemas.Error, "description": "no published article by that id or slug"}}


class PublicArticle(BaseModel):
    id: int
    slug: str
    title: str
    category: str
    tags: list[str]
    updated_at: datetime


class PublicArticles(BaseModel):
    articles: list[PublicArticle]


@router.get("/public/kb", response_model=PublicArticles, summary="Published articles (search with q)",
            responses={422: {"model": schemas.Error, "description": "invalid input"}})
def public_articles(request: Request, q: str = Query("", max_length=400, description="search words")
                    ) -> PublicArticles:
    rows = door.read(engine_of(request), PUBLIC, kb.list_articles, words=q, public=True, limit=200)
    return PublicArticles(articles=[
        PublicArticle(id=r.id, slug=r.slug, title=r.title, category=r.category, tags=list(r.tags),
                      updated_at=r.updated_at) for r in rows
    ])


@router.get("/public/kb/{ref}", response_class=PlainTextResponse, responses={
    200: {"content": {"text/markdown": {}}, "description": "the article: its title, then its Markdown"},
    **NOT_FOUND,
}, summary="A published article's text (Markdown)")
def public_article(request: Request, ref: str) -> PlainTextResponse:
    row = door.read(engine_of(request), PUBLIC, kb.get, ref, public=True)
    text = f"# {row.title}\n\n{row.body.strip()}\n"
    if row.attachments:
        base = f"{kb.PUBLIC_PATH}{row.slug}/attachments"
        text += "\n## Attachments\n\n" + "".join(
            f"- [{safe_filename(a.filename)}]({base}/{a.id})\n" for a in row.attachments
        )
    return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")


def _attachments_dir(request: Request) -> Path:
    """The store the desk's config names (a test server sets app.state.attachments_dir)."""
    found = getattr(request.app.state, "attachments_dir", None)
    if found is None:
        from tui_helpdesk.config import load_config

        found = request.app.state.attachments_dir = load_config().attachments_dir
    return Path(found)


@router.get("/public/kb/{ref}/attachments/{attachment_id}", response_class=FileResponse, responses={
    200: {"content": {"application/octet-stream": {}}, "description": "the file"}, **NOT_FOUND,
}, summary="A file attached to a published article")
def public_attachment(request: Request, ref: str, attachment_id: int) -> FileResponse:
    engine = engine_of(request)
    row = door.read(engine, PUBLIC, kb.get, ref, public=True)
    if attachment_id not in {a.id for a in row.attachments}:
        raise NotFound(f"no attachment {attachment_id} on {ref}")
    meta, path = door.read(engine, PUBLIC, kb.attachment_path, attachment_id, _attachments_dir(request), public=True)
    if not path.is_file():
        raise NotFound(f"the stored file of attachment {attachment_id} is missing")
    return FileResponse(path, media_type=meta.content_type, filename=safe_filename(meta.filename))
