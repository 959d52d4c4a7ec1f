"""`helpdesk kb ...`: the knowledge base (services/kb.py decides who may read, write and publish)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tui_helpdesk.cli import EXIT_OK, CliError, CommandContext
from tui_helpdesk.cli.output import aligned, fmt_time, scalar


def _body(args: argparse.Namespace, initial: str = "", required: bool = True) -> str | None:
    """--body-file PATH, --body-file - (stdin), else $EDITOR (as git does) when asked or nothing given."""
    from tui_helpdesk.cli.tickets import _edit_text

    source = getattr(args, "body_file", None)
    if source == "-":
        return sys.stdin.read()
    if source:
        try:
            return Path(source).expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"body-file: cannot read {source}: {exc}", field="body-file") from exc
    if getattr(args, "edit", False) or required:
        return _edit_text(initial)
    return None


def cmd_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import kb
    from tui_helpdesk.services.door import read

    published = {"published": True, "internal": False}.get(args.state or "")
    rows = read(ctx.engine, ctx.actor, kb.list_articles, words=args.search or "", category=args.category,
                tag=args.tag, published=published, limit=args.limit)
    table = [["ID", "SLUG", "TITLE", "CATEGORY", "STATE", "TAGS", "UPDATED"]]
    for r in rows:
        table.append([str(r.id), r.slug, scalar(r.title), scalar(r.category),
                      "published" if r.published else "internal", scalar(list(r.tags)), fmt_time(r.updated_at)])
    ctx.emit({"articles": rows}, aligned(table) if rows else ["no articles"])
    return EXIT_OK


def _show_lines(r: Any) -> list[str]:
    from tui_helpdesk.untrusted import clean

    lines = [f"#{r.id} {scalar(r.title)}", f"slug: {r.slug}   category: {scalar(r.category)}   "
             f"{'published' if r.published else 'internal'}   version {r.version}",
             f"tags: {scalar(list(r.tags))}   updated {fmt_time(r.updated_at)} by {scalar(r.updated_by)}"]
    if r.url:
        lines.append(f"public: {r.url}")
    for a in r.attachments:
        lines.append(f"attachment #{a.id}: {scalar(a.filename)} ({a.size:,} bytes)")
    lines += ["", clean(r.body)]
    return lines


def cmd_show(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import kb
    from tui_helpdesk.services.door import read

    row = read(ctx.engine, ctx.actor, kb.get, args.article)
    ctx.emit(row, _show_lines(row))
    return EXIT_OK


def cmd_add(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import kb
    from tui_helpdesk.services.door import write

    body = _body(args)
    row = write(ctx.engine, ctx.actor, kb.create, args.title, body or "", args.category, tags=args.tags,
                published=args.publish, slug=args.slug, new_category=args.new_category)
    ctx.emit(row, f"article #{row.id} {row.slug} added ({'published' if row.published else 'internal'})")
    return EXIT_OK


def cmd_edit(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import kb
    from tui_helpdesk.services.door import read, write

    nothing_else = not any((args.title, args.category, args.tags is not None, args.slug, args.body_file))
    body: str | None = None
    version = args.if_version
    if args.body_file or args.edit or nothing_else:
        current = read(ctx.engine, ctx.actor, kb.get, args.article)
        body = _body(args, initial=current.body, required=nothing_else)
        version = current.version if version is None else version  # refused if it changed meanwhile
    row = write(ctx.engine, ctx.actor, kb.update, args.article, expected_version=version, title=args.title,
                body=body, category=args.category, tags=args.tags, slug=args.slug)
    ctx.emit(row, f"article #{row.id} {row.slug} saved (version {row.version})")
    return EXIT_OK


def cmd_publish(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import kb
    from tui_helpdesk.services.door import write

    on = args.cmd == "publish"
    row = write(ctx.engine, ctx.actor, kb.set_published, args.article, on, expected_version=args.if_version)
    where = f": {row.url}" if on and row.url else ""
    ctx.emit(row, f"article #{row.id} {row.slug} {'published' if on else 'unpublished (internal)'}{where}")
    return EXIT_OK


def cmd_delete(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import kb
    from tui_helpdesk.services.door import write

    slug = write(ctx.engine, ctx.actor, kb.delete, args.article, ctx.config.attachments_dir,
                 expected_version=args.if_version)
    ctx.emit({"deleted": slug}, f"article {slug} deleted (the audit log keeps its text)")
    return EXIT_OK


def cmd_attach(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import kb
    from tui_helpdesk.services.door import write

    row = write(ctx.engine, ctx.actor, kb.attach, args.article, Path(args.path), ctx.config.attachments_dir,
                expected_version=args.if_version)
    ctx.emit(row, f"attachment #{row.id} {scalar(row.filename)} added to {args.article}")
    return EXIT_OK


def cmd_categories(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import kb
    from tui_helpdesk.services.door import read, write

    if args.add:
        row = write(ctx.engine, ctx.actor, kb.add_category, args.add, args.description or "")
        ctx.emit(row, f"category #{row.id} {scalar(row.name)} added")
        return EXIT_OK
    rows = read(ctx.engine, ctx.actor, kb.categories)
    table = [["ID", "NAME", "ARTICLES", "DESCRIPTION"]] + [
        [str(c.id), scalar(c.name), str(c.articles), scalar(c.description)] for c in rows
    ]
    ctx.emit({"categories": rows}, aligned(table) if rows else ["no categories"])
    return EXIT_OK


def register(sub: Any) -> None:
    p_kb = sub.add_parser("kb", help="the knowledge base: articles for agents and customers")
    k = p_kb.add_subparsers(dest="cmd", metavar="ACTION", required=True)

    p = k.add_parser("list", help="articles, newest change first")
    p.add_argument("--search", metavar="WORDS", help='full text: words, "a phrase", -word, word*')
    p.add_argument("--category", help="a category's name or id")
    p.add_argument("--tag")
    p.add_argument("--state", choices=("published", "internal"))
    p.add_argument("--limit", type=int, default=200)
    p.set_defaults(func=cmd_list)

    p = k.add_parser("show", help="one article by id or slug")
    p.add_argument("article", metavar="ARTICLE")
    p.set_defaults(func=cmd_show)

    def body_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--body-file", metavar="PATH", help="the Markdown text from a file, or - for stdin")
        p.add_argument("--edit", action="store_true", help="write the text in $EDITOR")

    p = k.add_parser("add", help="a new article (internal unless --publish); the text from $EDITOR by default")
    p.add_argument("title", metavar="TITLE")
    p.add_argument("--category", required=True, help="a category's name or id")
    p.add_argument("--new-category", action="store_true", help="make the category if it does not exist")
    p.add_argument("--tags", help="comma-separated")
    p.add_argument("--slug", help="the public address's last part (default: from the title)")
    p.add_argument("--publish", action="store_true", help="publish it for customers at once")
    body_options(p)
    p.set_defaults(func=cmd_add)

    p = k.add_parser("edit", help="change an article; with no option the text opens in $EDITOR")
    p.add_argument("article", metavar="ARTICLE")
    p.add_argument("--title")
    p.add_argument("--category")
    p.add_argument("--tags", help="comma-separated (replaces them; '' clears)")
    p.add_argument("--slug")
    p.add_argument("--if-version", type=int, metavar="N", help="refuse if the article changed since version N")
    body_options(p)
    p.set_defaults(func=cmd_edit)

    for name, text in (("publish", "make it visible to customers (and at its public address)"),
                       ("unpublish", "make it internal again")):
        p = k.add_parser(name, help=text)
        p.add_argument("article", metavar="ARTICLE")
        p.add_argument("--if-version", type=int, metavar="N")
        p.set_defaults(func=cmd_publish)

    p = k.add_parser("delete", help="delete an article and its files (the audit log keeps its text)")
    p.add_argument("article", metavar="ARTICLE")
    p.add_argument("--if-version", type=int, metavar="N")
    p.set_defaults(func=cmd_delete)

    p = k.add_parser("attach", help="attach a file to an article")
    p.add_argument("article", metavar="ARTICLE")
    p.add_argument("path", metavar="PATH")
    p.add_argument("--if-version", type=int, metavar="N")
    p.set_defaults(func=cmd_attach)

    p = k.add_parser("categories", help="list the categories, or add one")
    p.add_argument("--add", metavar="NAME")
    p.add_argument("--description")
    p.set_defaults(func=cmd_categories)
