"""The knowledge base (osTicket's FAQs): every rule about articles lives here.

- Agents (any active agent) read every article; customers, and the HTTP API without a key, read only
  published ones (`public=True`).
- Writing, publishing and unpublishing need the `kb.edit` permission in any of the agent's roles
  (primary or extended access); admins hold it. Every write carries the version the writer saw.
- The index (kb_fts on SQLite, kb_search on PostgreSQL; migration 0018) is refreshed in the write's
  transaction. The words are parsed and compiled by services/search.py, so `printer "paper jam" -toner
  cafe*` means the same here as in the queue's `/`.
- A published article has a public address: the `kb_public_url` setting (the HTTP API's base, e.g.
  https://help.example.com) + `/api/public/kb/<slug>`.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import secrets
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, column, func, or_, select, table, text

from tui_helpdesk.models import Agent, DepartmentAccess, KbArticle, KbAttachment, KbCategory, Role
from tui_helpdesk.untrusted import safe_filename

from . import search, settings
from .attachments import CHUNK, check_file
from .context import Tx, audit
from .errors import Conflict, NotFound, PermissionDenied, StaleVersion, ValidationError

PERMISSION = "kb.edit"
# under the attachment store; two letters would look like one of its hash buckets to the orphan sweep
STORE_FOLDER = "knowledge"
PUBLIC_PATH = "/api/public/kb/"
TITLE_MAX = 255
_SLUG_MAX = 100
_FTS = table("kb_fts", column("rowid", Integer))
_PG = table("kb_search", column("article_id", Integer))


@dataclass(frozen=True)
class CategoryRow:
    id: int
    name: str
    description: str
    articles: int = 0


@dataclass(frozen=True)
class AttachmentRow:
    id: int
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class ArticleRow:
    id: int
    slug: str
    title: str
    category: str
    category_id: int
    tags: tuple[str, ...]
    published: bool
    published_at: datetime | None
    updated_at: datetime
    updated_by: str
    version: int
    body: str = ""
    attachments: tuple[AttachmentRow, ...] = field(default_factory=tuple)
    url: str = ""  # the public address, when published and kb_public_url is set

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["tags"] = list(self.tags)
        out["attachments"] = [asdict(a) for a in self.attachments]
        for key in ("published_at", "updated_at"):
            out[key] = out[key].isoformat() if out[key] else None
        return out


# --- who may ---------------------------------------------------------------------------------------


def can_edit(tx: Tx) -> bool:
    """kb.edit in any role the agent holds (the knowledge base belongs to no department)."""
    if tx.actor.is_admin:
        return True
    agent = tx.agent()
    if agent is None or not agent.active:
        return False
    role_ids = {agent.role_id} if agent.role_id else set()
    role_ids |= set(
        tx.session.execute(select(DepartmentAccess.role_id).where(DepartmentAccess.agent_id == agent.id)).scalars()
    )
    role_ids.discard(None)
    if not role_ids:
        return False
    for perms in tx.session.execute(select(Role.permissions).where(Role.id.in_(role_ids))).scalars():
        if PERMISSION in (perms or []):
            return True
    return False


def _require_edit(tx: Tx) -> None:
    if not can_edit(tx):
        raise PermissionDenied(f"{tx.actor.username} lacks the permission {PERMISSION} (knowledge base)")


def _require_reader(tx: Tx, public: bool) -> None:
    """Internal articles are for agents; a face serving customers asks with public=True."""
    if public or tx.actor.is_admin:
        return
    agent = tx.agent()
    if agent is None or not agent.active:
        raise PermissionDenied("only agents read internal knowledge-base articles")


# --- reading ---------------------------------------------------------------------------------------


def categories(tx: Tx, *, public: bool = False) -> list[CategoryRow]:
    _require_reader(tx, public)
    counted = select(KbArticle.category_id, func.count().label("n")).group_by(KbArticle.category_id)
    if public:
        counted = counted.where(KbArticle.published.is_(True))
    counts = dict(tx.session.execute(counted).all())
    rows = tx.session.execute(select(KbCategory).order_by(KbCategory.name)).scalars()
    return [CategoryRow(c.id or 0, c.name, c.description, int(counts.get(c.id, 0))) for c in rows]


def list_articles(
    tx: Tx,
    *,
    words: str = "",
    category: str | int | None = None,
    tag: str | None = None,
    published: bool | None = None,
    public: bool = False,
    limit: int = 200,
) -> list[ArticleRow]:
    """Articles, newest change first; `words` searches title, tags and body (search.py's syntax)."""
    _require_reader(tx, public)
    s = tx.session
    stmt = select(KbArticle, KbCategory.name).join(KbCategory, KbCategory.id == KbArticle.category_id)
    if public:
        stmt = stmt.where(KbArticle.published.is_(True))
    elif published is not None:
        stmt = stmt.where(KbArticle.published.is_(published))
    if category not in (None, ""):
        stmt = stmt.where(KbArticle.category_id == _category(tx, category).id)
    if tag:
        # tags are kept lower case without spaces (_tags): the JSON text holds the quoted name
        stmt = stmt.where(func.lower(_json_text(KbArticle.tags)).contains(f'"{_tag(tag)}"'))
    hits = _hits(tx, words)
    if hits is not None:
        stmt = stmt.where(hits)
    stmt = stmt.order_by(KbArticle.updated_at.desc(), KbArticle.id.desc()).limit(max(1, min(limit, 1000)))
    rows = s.execute(stmt).all()
    names = _agent_names(tx, rows)
    return [_row(tx, a, cat, names, body=False) for a, cat in rows]


def get(tx: Tx, ref: str | int, *, public: bool = False) -> ArticleRow:
    """One article with its body and attachments, by id or slug."""
    _require_reader(tx, public)
    article = _article(tx, ref)
    if public and not article.published:
        raise NotFound(f"no published article {ref}")
    cat = tx.session.get(KbCategory, article.category_id)
    return _row(tx, article, cat.name if cat else "", _agent_names(tx, [(article, None)]), body=True)


def attachment_path(tx: Tx, attachment_id: int, attachments_dir: Path, *, public: bool = False) -> tuple[
    AttachmentRow, Path
]:
    """Where an article's file is stored (public: only a published article's)."""
    _require_reader(tx, public)
    row = tx.session.get(KbAttachment, attachment_id)
    article = tx.session.get(KbArticle, row.article_id) if row else None
    if row is None or article is None or (public and not article.published):
        raise NotFound(f"no attachment {attachment_id}")
    return _attachment_row(row), Path(attachments_dir) / STORE_FOLDER / row.storage_name


def public_url(tx: Tx, article: ArticleRow) -> str:
    """The published article's address for a customer; an error naming the setting when unset."""
    if not article.published:
        raise Conflict(f"article {article.slug} is internal: publish it before linking to it")
    base = str(settings.get(tx.session, "kb_public_url") or "").strip().rstrip("/")
    if not base:
        raise ValidationError("kb_public_url", "is not set: it is the HTTP API's address as customers reach it")
    return f"{base}{PUBLIC_PATH}{article.slug}"


def insert_text(tx: Tx, ref: str | int, mode: str = "text") -> str:
    """What the composer inserts: the article's text (title and body) or its public link."""
    row = get(tx, ref)
    if mode == "link":
        return f"{row.title}: {public_url(tx, row)}"
    if mode != "text":
        raise ValidationError("mode", "must be text or link")
    return f"{row.title}\n\n{row.body.strip()}\n"


# --- writing ---------------------------------------------------------------------------------------


def add_category(tx: Tx, name: str, description: str = "") -> CategoryRow:
    _require_edit(tx)
    name = _clean(name, "name", 100)
    if tx.session.execute(select(KbCategory.id).where(func.lower(KbCategory.name) == name.lower())).first():
        raise Conflict(f"a category named {name!r} exists")
    cat = KbCategory(name=name, description=description or "", created_at=tx.now)
    tx.session.add(cat)
    tx.session.flush()
    audit(tx, "kb.category_added", "kb_category", cat.id, after={"name": name, "description": description})
    return CategoryRow(cat.id or 0, cat.name, cat.description)


def create(
    tx: Tx,
    title: str,
    body: str,
    category: str | int,
    *,
    tags: list[str] | str | None = None,
    published: bool = False,
    slug: str | None = None,
    new_category: bool = False,
) -> ArticleRow:
    """A new article (internal unless `published`); `new_category` makes the category if it is new."""
    _require_edit(tx)
    title = _clean(title, "title", TITLE_MAX)
    cat = _category(tx, category, create=new_category)
    article = KbArticle(
        category_id=cat.id or 0,
        title=title,
        slug=_unique_slug(tx, slug or title, None),
        body=_body(tx, body),
        tags=_tags(tags),
        published=bool(published),
        published_at=tx.now if published else None,
        author_id=tx.actor.agent_id,
        updated_by_id=tx.actor.agent_id,
        created_at=tx.now,
        updated_at=tx.now,
    )
    tx.session.add(article)
    tx.session.flush()
    _reindex(tx, article)
    audit(tx, "kb.article_created", "kb_article", article.id, after=_state(article, cat.name))
    return get(tx, article.id or 0)


def update(
    tx: Tx,
    ref: str | int,
    *,
    expected_version: int | None = None,
    title: str | None = None,
    body: str | None = None,
    category: str | int | None = None,
    tags: list[str] | str | None = None,
    slug: str | None = None,
) -> ArticleRow:
    """Change what is given; a copy older than the stored one is refused (StaleVersion)."""
    _require_edit(tx)
    article = _article(tx, ref, lock=True)
    _check_version(tx, article, expected_version)
    before = _state(article, _category_name(tx, article.category_id))
    if title is not None:
        article.title = _clean(title, "title", TITLE_MAX)
    if body is not None:
        article.body = _body(tx, body)
    if category not in (None, ""):
        article.category_id = _category(tx, category).id or 0
    if tags is not None:
        article.tags = _tags(tags)
    if slug:
        article.slug = _unique_slug(tx, slug, article.id)
    after = _state(article, _category_name(tx, article.category_id))
    if after == before:
        return get(tx, article.id or 0)
    _save(tx, article)
    changed = [k for k in after if after[k] != before[k]]
    audit(tx, "kb.article_edited", "kb_article", article.id,
          before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    return get(tx, article.id or 0)


def set_published(tx: Tx, ref: str | int, published: bool, *, expected_version: int | None = None) -> ArticleRow:
    _require_edit(tx)
    article = _article(tx, ref, lock=True)
    _check_version(tx, article, expected_version)
    if article.published == published:
        raise Conflict(f"article {article.slug} is already {'published' if published else 'internal'}")
    article.published = published
    if published:
        article.published_at = tx.now
    _save(tx, article)
    audit(tx, "kb.article_published" if published else "kb.article_unpublished", "kb_article", article.id,
          before={"published": not published}, after={"published": published}, slug=article.slug)
    return get(tx, article.id or 0)


def delete(tx: Tx, ref: str | int, attachments_dir: Path, *, expected_version: int | None = None) -> str:
    """Remove an article, its index document and its files; the audit row keeps what it said."""
    _require_edit(tx)
    article = _article(tx, ref, lock=True)
    _check_version(tx, article, expected_version)
    kept = _state(article, _category_name(tx, article.category_id))
    files = list(tx.session.execute(select(KbAttachment).where(KbAttachment.article_id == article.id)).scalars())
    for row in files:
        tx.session.delete(row)
    tx.session.flush()  # the files' rows before the article they point at
    _unindex(tx, article.id or 0)
    tx.session.delete(article)
    tx.session.flush()
    audit(tx, "kb.article_deleted", "kb_article", article.id, before=kept)
    # files go last: a failure above leaves them in place with their rows
    for row in files:
        (Path(attachments_dir) / STORE_FOLDER / row.storage_name).unlink(missing_ok=True)
    return article.slug


def attach(tx: Tx, ref: str | int, path: Path, attachments_dir: Path, *,
           expected_version: int | None = None) -> AttachmentRow:
    """Copy a local file to the store and list it on the article (the ticket rules on type and size)."""
    _require_edit(tx)
    article = _article(tx, ref, lock=True)
    _check_version(tx, article, expected_version)
    source = check_file(tx, path)
    token = secrets.token_hex(16)
    storage_name = f"{token[:2]}/{token}"
    target = Path(attachments_dir) / STORE_FOLDER / storage_name
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with source.open("rb") as src, target.open("xb") as dst:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            dst.write(chunk)
            size += len(chunk)
    filename = safe_filename(source.name)
    row = KbAttachment(
        article_id=article.id or 0, filename=filename,
        content_type=mimetypes.guess_type(filename)[0] or "application/octet-stream",
        size=size, sha256=digest.hexdigest(), storage_name=storage_name, created_at=tx.now,
    )
    tx.session.add(row)
    _save(tx, article)
    tx.session.flush()
    audit(tx, "kb.attachment_added", "kb_article", article.id, after={"attachment": filename, "size": size})
    return _attachment_row(row)


# --- the index -------------------------------------------------------------------------------------


def _hits(tx: Tx, words: str) -> Any:
    """`article.id IN (hits)` for the words, or None when they hold nothing to search for."""
    if not (words or "").strip():
        return None
    conn = tx.session.connection()
    m = search.compile_match(conn, words, notes=True)
    if m is None:
        return None
    if m.postgres:
        ids = select(_PG.c.article_id).where(text("doc @@ CAST(:kb_q AS tsquery)").bindparams(kb_q=m.query))
    else:
        ids = select(_FTS.c.rowid).where(text("kb_fts MATCH :kb_q").bindparams(kb_q=m.query))
    return KbArticle.id.in_(ids) if m.positive else KbArticle.id.not_in(ids)


def _reindex(tx: Tx, article: KbArticle) -> None:
    conn = tx.session.connection()
    params = {"id": article.id, "title": article.title, "tags": " ".join(article.tags), "body": article.body}
    if conn.dialect.name == "postgresql":
        conn.execute(text(
            "INSERT INTO kb_search(article_id, doc) VALUES (:id,"
            " setweight(to_tsvector('simple', helpdesk_unaccent(:title)), 'A')"
            " || setweight(to_tsvector('simple', helpdesk_unaccent(:tags)), 'B')"
            " || setweight(to_tsvector('simple', helpdesk_unaccent(:body)), 'C'))"
            " ON CONFLICT (article_id) DO UPDATE SET doc = EXCLUDED.doc"
        ), params)
    else:
        conn.execute(text("DELETE FROM kb_fts WHERE rowid = :id"), {"id": article.id})
        conn.execute(text("INSERT INTO kb_fts(rowid, title, tags, body) VALUES (:id, :title, :tags, :body)"), params)


def _unindex(tx: Tx, article_id: int) -> None:
    conn = tx.session.connection()
    table, key = ("kb_search", "article_id") if conn.dialect.name == "postgresql" else ("kb_fts", "rowid")
    conn.execute(text(f"DELETE FROM {table} WHERE {key} = :id"), {"id": article_id})


# --- helpers ---------------------------------------------------------------------------------------


def _json_text(col: Any) -> Any:
    from sqlalchemy import String, cast

    return cast(col, String)


def _save(tx: Tx, article: KbArticle) -> None:
    article.version += 1
    article.updated_at = tx.now
    article.updated_by_id = tx.actor.agent_id
    tx.session.add(article)
    tx.session.flush()
    _reindex(tx, article)


def _check_version(tx: Tx, article: KbArticle, expected: int | None) -> None:
    if expected is None or int(expected) == article.version:
        return
    who = tx.session.get(Agent, article.updated_by_id) if article.updated_by_id else None
    raise StaleVersion(f"article {article.slug}", article.version, int(expected),
                       who.username if who else None, article.updated_at, tx.now)


def _article(tx: Tx, ref: str | int, lock: bool = False) -> KbArticle:
    raw = str(ref).strip()
    stmt = select(KbArticle)
    if _is_id(raw):
        stmt = stmt.where(or_(KbArticle.id == int(raw), KbArticle.slug == raw))
    else:
        stmt = stmt.where(KbArticle.slug == raw.lower())
    if lock:
        stmt = stmt.with_for_update()
    found = tx.session.execute(stmt.order_by(KbArticle.id).limit(1)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no knowledge-base article {raw!r}")
    return found


def _is_id(raw: str) -> bool:
    # ASCII digits only: "²".isdigit() is true and int() refuses it
    return raw.isascii() and raw.isdigit() and len(raw) < 12


def _category(tx: Tx, ref: str | int, *, create: bool = False) -> KbCategory:
    raw = str(ref).strip()
    if not raw:
        raise ValidationError("category", "is required")
    stmt = select(KbCategory).where(func.lower(KbCategory.name) == raw.lower())
    found = tx.session.execute(stmt).scalar_one_or_none()
    if found is None and _is_id(raw):
        found = tx.session.get(KbCategory, int(raw))
    if found is None and create:
        row = add_category(tx, raw)
        found = tx.session.get(KbCategory, row.id)
    if found is None:
        names = ", ".join(tx.session.execute(select(KbCategory.name).order_by(KbCategory.name)).scalars()) or "none"
        raise ValidationError("category", f"no category {raw!r} (there are: {names})")
    return found


def _category_name(tx: Tx, category_id: int) -> str:
    cat = tx.session.get(KbCategory, category_id)
    return cat.name if cat else ""


def _clean(value: str, name: str, limit: int) -> str:
    value = " ".join((value or "").split())
    if not value:
        raise ValidationError(name, "is required")
    if len(value) > limit:
        raise ValidationError(name, f"is {len(value)} characters; at most {limit}")
    return value


def _body(tx: Tx, body: str) -> str:
    body = body or ""
    if not body.strip():
        raise ValidationError("body", "is required")
    limit = int(settings.get(tx.session, "max_body_bytes"))
    if limit and len(body.encode()) > limit:
        raise ValidationError("body", f"is {len(body.encode()):,} bytes; the limit is {limit:,}")
    return body


def _tag(name: str) -> str:
    return re.sub(r"\s+", "-", name.strip().lower())


def _tags(tags: list[str] | str | None) -> list[str]:
    if isinstance(tags, str):
        tags = tags.split(",")
    out = [_tag(t) for t in tags or [] if t and t.strip()]
    for t in out:
        if len(t) > 50 or '"' in t:
            raise ValidationError("tags", f"{t!r}: at most 50 characters, no quotes")
    return list(dict.fromkeys(out))


def slugify(value: str) -> str:
    ascii_ = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")[:_SLUG_MAX].strip("-")
    return slug or "article"


def _unique_slug(tx: Tx, wanted: str, own_id: int | None) -> str:
    base = slugify(wanted)
    if base.isdigit():  # a number would read as an article id
        base = f"article-{base}"
    slug, n = base, 1
    while True:
        other = tx.session.execute(select(KbArticle.id).where(KbArticle.slug == slug)).scalar()
        if other is None or other == own_id:
            return slug
        n += 1
        slug = f"{base[: _SLUG_MAX - 5]}-{n}"


def _state(article: KbArticle, category: str) -> dict[str, Any]:
    return {"title": article.title, "slug": article.slug, "category": category, "tags": list(article.tags),
            "published": article.published, "body": article.body}


def _agent_names(tx: Tx, pairs: Any) -> dict[int, str]:
    ids = {a.updated_by_id for a, _ in pairs if a.updated_by_id}
    if not ids:
        return {}
    return dict(tx.session.execute(select(Agent.id, Agent.username).where(Agent.id.in_(ids))).all())


def _attachment_row(row: KbAttachment) -> AttachmentRow:
    return AttachmentRow(row.id or 0, row.filename, row.content_type, row.size)


def _row(tx: Tx, a: KbArticle, category: str, names: dict[int, str], *, body: bool) -> ArticleRow:
    files: tuple[AttachmentRow, ...] = ()
    url = ""
    if body:
        files = tuple(
            _attachment_row(r) for r in tx.session.execute(
                select(KbAttachment).where(KbAttachment.article_id == a.id).order_by(KbAttachment.id)
            ).scalars()
        )
        base = str(settings.get(tx.session, "kb_public_url") or "").strip().rstrip("/")
        url = f"{base}{PUBLIC_PATH}{a.slug}" if a.published and base else ""
    return ArticleRow(
        id=a.id or 0, slug=a.slug, title=a.title, category=category, category_id=a.category_id,
        tags=tuple(a.tags), published=a.published, published_at=a.published_at, updated_at=a.updated_at,
        updated_by=names.get(a.updated_by_id or 0, "system"), version=a.version,
        body=a.body if body else "", attachments=files, url=url,
    )
