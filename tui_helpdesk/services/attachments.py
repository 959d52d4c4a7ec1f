"""Files on tickets: stored under the data dir with random names, described in the database.

The stored name is random (never the sender's name, which is untrusted and may collide); the
content's sha256 is kept so a copy can be checked. Limits come from the settings table:
`attachment_max_mb`, `attachment_blocked_ext` and `attachment_max_files`; what may be attached is decided
by `refusal` (suffix and content, sniffed), for the app, the CLI and the mail ingest alike.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import secrets
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from tui_helpdesk.models import Attachment, Ticket, TicketEntry
from tui_helpdesk.untrusted import safe_filename

from . import settings
from .context import Tx, audit, require_access
from .errors import NotFound, ValidationError
from .tickets import load, merge_target

if TYPE_CHECKING:
    from sqlalchemy import Engine

CHUNK = 1 << 16
T = TypeVar("T")


@dataclass(frozen=True)
class Stored:
    id: int
    filename: str
    size: int
    sha256: str
    path: Path


# --- what may be attached: one rule for the app, the CLI and the mail ingest -----------------------------

SNIFF_BYTES = 8192  # how much of a file's start is read to tell its type by content

# Executable content, by its first bytes, and the suffix of the blocked-types setting that stands for it:
# seed 001 blocks these types "regardless of extension", so an executable named invoice.pdf is refused
# as an .exe would be, and an admin who takes .sh off the list lets shebang scripts in by name and content.
_EXECUTABLES: tuple[tuple[bytes, str, str], ...] = (
    (b"MZ", ".exe", "a Windows program (PE/MZ)"),
    (b"\x7fELF", ".so", "a Linux program or library (ELF)"),
    (b"\xfe\xed\xfa\xce", ".dylib", "a macOS program (Mach-O)"),
    (b"\xfe\xed\xfa\xcf", ".dylib", "a macOS program (Mach-O)"),
    (b"\xce\xfa\xed\xfe", ".dylib", "a macOS program (Mach-O)"),
    (b"\xcf\xfa\xed\xfe", ".dylib", "a macOS program (Mach-O)"),
    (b"#!/", ".sh", "a script (#!)"),
    (b"#! /", ".sh", "a script (#!)"),
)


def _is_executable_start(head: bytes, magic: bytes) -> bool:
    if not head.startswith(magic):
        return False
    if magic == b"MZ":  # a text that happens to start with "MZ" has no NUL byte in its DOS header
        return b"\x00" in head[2:64]
    return True


@dataclass(frozen=True)
class Sniffed:
    content_type: str  # what the content is, else what the name says, else application/octet-stream
    executable: str  # the blocked-types suffix the content stands for (".exe"), or ""
    what: str  # words for a refusal: "a Windows program (PE/MZ)"


def sniff(filename: str, head: bytes) -> Sniffed:
    """The type of a file by its first bytes (puremagic's signatures; executables by our own short list,
    which must never miss), falling back on its name."""
    for magic, suffix, what in _EXECUTABLES:
        if _is_executable_start(head, magic):
            return Sniffed("application/octet-stream", suffix, what)
    by_name = mimetypes.guess_type(filename)[0]
    by_content = ""
    if head:
        import puremagic  # a few ms to import; only files being attached pay it

        try:
            matches = puremagic.magic_string(head, filename=filename)
        except (puremagic.PureError, ValueError):
            matches = []
        types = [m.mime_type for m in matches if m.mime_type]
        # the name's type when the content agrees with it (a .docx is a zip too), else the content's best
        by_content = by_name if by_name in types else (types[0] if types else "")
    return Sniffed(by_content or by_name or "application/octet-stream", "", "")


def blocked_suffixes(session: Any) -> set[str]:
    return {
        e.lower() if e.startswith(".") else f".{e.lower()}" for e in settings.get(session, "attachment_blocked_ext")
    }


def refusal(session: Any, filename: str, head: bytes, size: int) -> str | None:
    """Why a file may not be attached (the reason, without the file's name), or None. The one rule of every face and the mail:
    a blocked suffix (the last one decides: "report.exe.txt" is harmless, "invoice.pdf.exe" is not),
    content that is a blocked type whatever its name, or a size over attachment_max_mb."""
    blocked = blocked_suffixes(session)
    suffixes = [x.lower() for x in Path(filename).suffixes]
    if suffixes and suffixes[-1] in blocked:
        return f"files of type {suffixes[-1]} are not accepted"
    found = sniff(filename, head)
    if found.executable and found.executable in blocked:
        return f"its content is {found.what}, not accepted whatever the file is called"
    max_mb = int(settings.get(session, "attachment_max_mb"))
    if size > max_mb * 1024 * 1024:
        return f"{size / 1048576:.1f} MB is over the limit: the limit is {max_mb} MB"
    return None


def check_count(session: Any, count: int) -> None:
    """At most attachment_max_files files in one upload (seed 001: 10)."""
    limit = int(settings.get(session, "attachment_max_files"))
    if count > limit:
        raise ValidationError(
            "attachment", f"{count} files in one upload; the limit is {limit} (setting attachment_max_files)"
        )


def _head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(SNIFF_BYTES)


def check_file(tx: Tx, path: Path) -> Path:
    """The file at `path`, resolved, if it may be attached; a ValidationError naming the file and why not."""
    path = Path(path).expanduser()
    if not path.exists():
        raise ValidationError("attachment", f"{path} does not exist")
    if not path.is_file():
        raise ValidationError("attachment", f"{path} is not a file")
    try:
        head = _head(path)
    except OSError as exc:
        raise ValidationError("attachment", f"{path} cannot be read ({exc.strerror})") from None
    why = refusal(tx.session, path.name, head, path.stat().st_size)
    if why:
        raise ValidationError("attachment", f"{safe_filename(path.name)}: {why}")
    return path.resolve()


def check_files(tx: Tx, paths: Sequence[Path | str]) -> list[Path]:
    """Every file of one upload checked (the count first), before anything is stored."""
    check_count(tx.session, len(paths))
    return [check_file(tx, Path(p)) for p in paths]


def store(
    tx: Tx, ticket_ref: str | int, path: Path, attachments_dir: Path, *, entry_id: int | None = None,
    expected_version: int | None = None,
) -> Stored:
    """Copy a local file into the attachment store and record it on the ticket (and entry).

    On a merged child the file goes to the parent, with the reply or note it belongs to.
    The copy is made inside the caller's transaction; if that transaction fails the file is
    left unreferenced, so callers remove `Stored.path` on failure (see `discard`).
    """
    ticket = merge_target(tx, load(tx, ticket_ref, expected_version))
    require_access(tx, ticket)
    if entry_id is not None:
        entry = tx.session.get(TicketEntry, entry_id)
        if entry is None or entry.ticket_id != ticket.id:
            raise ValidationError("entry", f"entry {entry_id} is not on {ticket.number}")
    source = check_file(tx, path)
    token = secrets.token_hex(16)
    storage_name = f"{token[:2]}/{token}"
    target = Path(attachments_dir) / storage_name
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with source.open("rb") as src, target.open("xb") as dst:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            dst.write(chunk)
            size += len(chunk)
    filename = safe_filename(source.name)
    content_type = sniff(filename, _head(source)).content_type
    row = Attachment(
        ticket_id=ticket.id,
        entry_id=entry_id,
        filename=filename,
        content_type=content_type,
        size=size,
        sha256=digest.hexdigest(),
        storage_name=storage_name,
        created_at=tx.now,
    )
    tx.session.add(row)
    tx.session.flush()
    audit(tx, "attachment.add", "ticket", ticket.id, filename=filename, size=size, entry_id=entry_id)
    return Stored(row.id or 0, filename, size, row.sha256, target)


def attach_after(
    engine: Engine, actor: Any, attachments_dir: Path, files: Sequence[Path | str],
    use_case: Callable[[Tx], T], target: Callable[[Tx, T], tuple[str, int | None]],
) -> T:
    """Run `use_case(tx)` (a reply, a note, a new ticket) and attach `files` to what it wrote, in one
    transaction: every file is checked before anything is written, and none outlives a failure.
    `target(tx, result)` names the ticket number and entry the files belong to."""
    from .context import transaction

    stored: list[Stored] = []
    try:
        with transaction(engine, actor) as tx:
            checked = check_files(tx, files)
            result = use_case(tx)
            number, entry_id = target(tx, result)
            for path in checked:
                stored.append(store(tx, number, path, attachments_dir, entry_id=entry_id))
            return result
    except BaseException:
        discard(stored)
        raise


def first_entry_id(tx: Tx, ticket_id: int) -> int | None:
    """The ticket's first thread entry (a new ticket's message: where its files go)."""
    from sqlalchemy import select

    return tx.session.execute(
        select(TicketEntry.id).where(TicketEntry.ticket_id == ticket_id).order_by(TicketEntry.id).limit(1)
    ).scalar()


def discard(stored: list[Stored]) -> None:
    """Remove files copied by `store` whose transaction did not commit."""
    for s in stored:
        s.path.unlink(missing_ok=True)


def stored_file(tx: Tx, attachment_id: int, attachments_dir: Path) -> tuple[Attachment, Path]:
    """An attachment the actor may read (its ticket's access rule) and the path of its stored file."""
    row = tx.session.get(Attachment, attachment_id)
    if row is None:
        raise NotFound(f"no attachment {attachment_id}")
    ticket = tx.session.get(Ticket, row.ticket_id)  # by id: lookup.ticket() reads digits as a number
    if ticket is None:
        raise NotFound(f"no ticket for attachment {attachment_id}")
    require_access(tx, ticket)
    source = Path(attachments_dir) / row.storage_name
    if not source.is_file():
        raise NotFound(f"the stored file of {row.filename} is missing from {attachments_dir}")
    return row, source


def save(
    tx: Tx, attachment_id: int, destination: Path, attachments_dir: Path, *, overwrite: bool = False
) -> Path:
    """Write an attachment to `destination` (a file path, or a directory to put it in by its name).

    Refuses to replace an existing file unless `overwrite`; checks the content against its sha256.
    """
    row, source = stored_file(tx, attachment_id, attachments_dir)
    dest = Path(destination).expanduser()
    if dest.is_dir():
        dest = dest / safe_filename(row.filename)
    if not dest.parent.is_dir():
        raise ValidationError("path", f"{dest.parent} is not a directory")
    if dest.exists() and not overwrite:
        raise ValidationError("path", f"{dest} already exists")
    digest = hashlib.sha256()
    tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.part")
    try:
        with source.open("rb") as src, tmp.open("wb") as dst:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                dst.write(chunk)
        if digest.hexdigest() != row.sha256:
            raise ValidationError("attachment", f"{row.filename} is damaged in the store (checksum differs)")
        shutil.move(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


# --- orphans ---------------------------------------------------------------------------------------------

ORPHAN_GRACE = timedelta(hours=1)
_STORED_NAME = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{32}$")


def sweep_orphans(engine: Engine, attachments_dir: Path, *, grace: timedelta = ORPHAN_GRACE) -> int:
    """Delete stored files that no attachment row names and that are older than ``grace``; their count.

    A process killed between writing a file and committing its row (kill -9, a power cut) leaves the
    file behind. A file younger than ``grace`` may belong to a transaction still running, so it stays.
    Only names of the store's own shape are considered: nothing else in the folder is touched. The age
    is the file's own, on the wall clock (a pinned help-desk clock says nothing about files).
    """
    from sqlalchemy import select

    from tui_helpdesk.db import session_scope

    root = Path(attachments_dir)
    if not root.is_dir():
        return 0
    cutoff = time.time() - grace.total_seconds()
    removed = 0
    # big parts a killed ingest had decoded (services/inbound.SPOOL_FOLDER) belong to no row by design
    spool = root / "incoming"
    for path in spool.glob("*.spool") if spool.is_dir() else ():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
        except OSError:
            continue
    for bucket in sorted(p for p in root.iterdir() if p.is_dir() and len(p.name) == 2):
        old: dict[str, Path] = {}
        for path in bucket.iterdir():
            name = f"{bucket.name}/{path.name}"
            try:
                if _STORED_NAME.match(name) and path.is_file() and path.stat().st_mtime < cutoff:
                    old[name] = path
            except OSError:  # removed meanwhile
                continue
        if not old:
            continue
        with session_scope(engine, write=False) as s:
            known = set(
                s.execute(select(Attachment.storage_name).where(Attachment.storage_name.in_(list(old))))
                .scalars()
                .all()
            )
        for name, path in old.items():
            if name not in known:
                path.unlink(missing_ok=True)
                removed += 1
    return removed
