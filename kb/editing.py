"""Write entries from the browser: compose the file, save it atomically, keep every revision.

The file stays the source of truth. A save composes the file from the form (kb/drafts.py) and
refuses to overwrite a file that changed since the form was opened. Each save stores a
revision in SQLite, then updates the index at once. Editors' changes to published entries
wait as proposals for an admin.
"""

# Size: a save, a proposal, its decision (apply, reject with a reason, reopen) and the baseline
# revision share one transaction helper and one index step; apart, those would become public.

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
import sqlite3
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils
import yaml

from . import gitsync
from .atomic import atomic_write, put_back
from .catalog import content_lock, index_saved, render_entry, write_problems
from .drafts import Draft, compose, read_draft, with_status_of
from .entries import InvalidEntry, Problem, load_fields, parse_entry
from .media import MediaChange, placed, settle_media
from .render import plain_text
from .sections import leftover_guidance
from .slugs import SLUG_RE, unique_slug
from .store import StoreBusy, now_iso, queue_files, write_audit, write_entry_rows, write_transaction

__all__ = [
    "REASON_MAX",
    "REJECTED_SHOWN_DAYS",
    "Note",
    "SaveResult",
    "Who",
    "apply_proposal",
    "atomic_write",
    "decide_proposal",
    "entry_path",
    "entry_proposals",
    "file_state",
    "get_proposal",
    "open_proposals",
    "propose",
    "propose_from_sync",
    "rejected_proposals",
    "release_proposal_files",
    "save_entry",
    "save_text",
]

log = logging.getLogger(__name__)
# How long a save waits for the index after its commit before leaving the entry queued (seconds).
INDEX_WAIT = 2.0
# The longest reason an admin may give for rejecting a proposal (characters).
REASON_MAX = 1000
# How long a rejected proposal stays on its author's desk unless reopened (days).
REJECTED_SHOWN_DAYS = 30


@dataclass
class SaveResult:
    """What a save did: saved (and whether the index has it), a conflict, or invalid input."""

    outcome: str  # "saved" | "proposed" | "conflict" | "invalid" | "busy" | "decided" (a proposal, meanwhile)
    slug: str = ""
    problems: list[Problem] = field(default_factory=list)
    current_text: str = ""  # the file as it is now, for the conflict page
    current_hash: str = ""
    indexed: bool = False


def entry_path(content_dir: Path, slug: str) -> Path:
    """Return the file of an entry written from the browser (ValueError for a malformed slug)."""
    if not SLUG_RE.match(slug):
        raise ValueError(f"không phải tên mục hợp lệ: {slug!r}")
    return content_dir / "models" / f"{slug}.md"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Note:
    """One line for the audit log, written in the same transaction as the change it describes."""

    action: str
    detail: str = ""


@dataclass(frozen=True)
class Who:
    """Who makes a change, and from where: the revision's author and the audit log's actor."""

    name: str
    address: str = ""


def save_entry(
    content_dir: Path,
    data_dir: Path,
    db: sqlite_utils.Database,
    draft: Draft,
    *,
    slug: str | None,
    base_hash: str,
    author: str | Who,
    comment: str = "",
    notes: tuple[Note, ...] = (),
    media: MediaChange | None = None,
) -> SaveResult:
    """Save the form of a new entry (slug None) or of an existing one opened at base_hash.

    media, if given, holds the files uploaded with the form: they are named in the entry's
    folder, listed in its front matter and placed with the save, or not at all.
    """

    def prepare(chosen: str) -> None:
        if media:
            draft.attachments = media.assign(chosen, draft.attachments)

    return _save(content_dir, data_dir, db, slug, base_hash, _who(author), comment,
                 lambda old: compose(draft, old), title=draft.title, notes=notes, media=media,
                 prepare=prepare)  # fmt: skip


def save_text(
    content_dir: Path,
    data_dir: Path,
    db: sqlite_utils.Database,
    slug: str,
    text: str,
    *,
    base_hash: str,
    author: str | Who,
    comment: str = "",
    notes: tuple[Note, ...] = (),
    also: Callable[[sqlite3.Connection], None] | None = None,
) -> SaveResult:
    """Save the whole text of an existing entry's file (a restored revision), opened at base_hash.

    also(conn), if given, writes more in the save's transaction (e.g. marks a proposal applied).
    """
    return _save(content_dir, data_dir, db, slug, base_hash, _who(author), comment, lambda _old: text, notes=notes,
                 also=also)  # fmt: skip


def _who(author: str | Who) -> Who:
    return author if isinstance(author, Who) else Who(author)


def _save(content_dir, data_dir, db, slug, base_hash, who: Who, comment, make_text, title="", notes=(), also=None,
          media=None, prepare=None):  # fmt: skip
    """Check, write, record and index one entry file: all of it, or none of it.

    Returns "invalid" with the problems if the file would not pass `kb check` (or its Markdown
    cannot be rendered within the limits), "conflict" with the file as it is now if it changed
    since base_hash, "busy" if the database stayed locked by another process, else "saved".

    Everything that can refuse (checks, rendering, the database's write lock) comes before the
    file is touched; the file is replaced last, inside the database transaction that records the
    revision, the entry's row, the audit lines and the index queue. So a refusal changes nothing,
    and a crash after the file was replaced leaves a file newer than its row, which the next
    start (or the next visit to the entry) repairs. The index is derived: it follows the commit,
    and a save it could not take at once stays queued.
    """
    allowed = load_fields(content_dir / "fields.yml")
    with content_lock(data_dir) as locked:
        if not locked:  # another save has held the files too long: say busy, keep the text
            return SaveResult("busy", slug or "")
        old_text: str | None = None
        current: bytes | None = None
        if slug is None:
            models = content_dir / "models"
            taken = {p.stem for p in models.rglob("*.md")} if models.exists() else set()
            taken |= {r[0] for r in db.execute("SELECT slug FROM entries UNION SELECT slug FROM revisions")}
            slug = unique_slug(title, taken)
            path = entry_path(content_dir, slug)
        else:
            path = _existing_path(content_dir, db, slug)
            current = path.read_bytes() if path.exists() else None
            changed = (_digest(current) != base_hash) if current is not None else True
            if changed:
                text_now = current.decode("utf-8", "replace") if current is not None else ""
                return SaveResult("conflict", slug, current_text=text_now, current_hash=_digest(current or b""))
            read_draft(current)  # a front matter YAML cannot read stops here, as before
            old_text = current.decode("utf-8", "replace")
        if prepare is not None:
            prepare(slug)
        text = make_text(old_text)
        data = text.encode("utf-8")
        rel = path.relative_to(content_dir).as_posix()
        try:
            entry = parse_entry(data, rel, allowed)
            _refuse_guidance(text, rel, entry.status)
            html = render_entry(entry)
        except InvalidEntry as exc:
            return SaveResult("invalid", slug, problems=exc.problems)
        saved = [(entry, html, plain_text(html))]
        tokens = {rel: secrets.token_hex(8)}
        written = False
        try:
            # The new files first (new names only: nothing a reader sees changes until the file does).
            with placed(media), write_transaction(db) as conn:
                if current is not None:
                    _record_baseline(conn, slug, current)
                conn.execute(
                    "INSERT INTO revisions (slug, created_at, author, comment, status, content_hash, text) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [slug, now_iso(), who.name, comment.strip()[:200], entry.status, _digest(data), text],
                )
                write_entry_rows(conn, saved)
                write_problems(conn, list(entry.warnings), {rel})
                queue_files(conn, tokens)
                for note in notes:
                    write_audit(conn, who.name, note.action, slug, note.detail, who.address)
                if also is not None:
                    also(conn)
                written = True  # from here on the file may have changed, even if atomic_write fails
                atomic_write(path, data)  # last: a refusal above leaves the file as it was
        except BaseException as exc:
            if written:  # the transaction failed after the file was replaced: put the old file back
                put_back(path, current)
            if isinstance(exc, StoreBusy):
                return SaveResult("busy", slug)
            raise
        settle_media(content_dir, data_dir, slug, _listed(old_text), {a.file for a in entry.attachments})
        action = _ACTION_WORDS.get(notes[0].action if notes else "", "Lưu")
        message = comment.strip() or f"{action} “{entry.title}”"
        gitsync.commit_quietly(content_dir, message, who.name, [rel, f"media/{slug}"])
        # Still under the lock: two quick saves of one entry reach the index in their order. Not
        # for long, though: a save behind this one waits for the lock.
        indexed = index_saved(content_dir, data_dir, saved, tokens, wait=INDEX_WAIT)
    return SaveResult("saved", slug, current_hash=_digest(data), indexed=indexed)


_ACTION_WORDS = {"create": "Tạo mục", "save": "Lưu mục", "status": "Đổi trạng thái", "restore": "Khôi phục",
                 "proposal_apply": "Áp dụng bản sửa cho"}  # fmt: skip


def propose_from_sync(db: sqlite_utils.Database, rel: str, local_text: str, remote_text: str, author: str) -> None:
    """Keep this site's version of an entry that lost a conflict with another site's as a proposal by its author."""
    slug = Path(rel).stem
    if not rel.startswith("models/") or not SLUG_RE.match(slug):
        return
    author = author or "(đồng bộ)"
    with write_transaction(db) as conn:
        conn.execute(
            "INSERT INTO proposals (slug, created_at, author, comment, base_hash, base_text, text, state) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'open')",
            [slug, now_iso(), author, "Bản ở trạm này, sửa trùng với trạm khác khi đồng bộ",
             _digest(remote_text.encode()), remote_text, local_text],
        )  # fmt: skip
        write_audit(conn, author, "propose", slug, "sửa trùng khi đồng bộ")


def _listed(text: str | None) -> set[str]:
    """Return the attachments a file's text lists (none for no text, or a front matter YAML cannot read)."""
    if text is None:
        return set()
    try:
        return {a["file"] for a in read_draft(text.encode("utf-8"))[0].attachments}
    except (ValueError, yaml.YAMLError):
        return set()


def _refuse_guidance(text: str, rel: str, status: str) -> None:
    """Raise InvalidEntry if a text going to review or to readers still holds a guidance sentence.

    The sections' guidance is help, never content: a draft may keep it while being written
    (one written from the old template does), but it is never submitted or published.
    """
    if status not in ("review", "published"):
        return
    problems = [
        Problem(rel, line, f"câu gợi ý của phần “{section.heading}” vẫn còn trong nội dung: “{section.guidance}” "
                "— hãy thay bằng nội dung thật hoặc xóa câu này trước khi gửi duyệt hay xuất bản")
        for line, section in leftover_guidance(text)
    ]  # fmt: skip
    if problems:
        raise InvalidEntry(problems)


def propose(
    content_dir: Path,
    data_dir: Path,
    db: sqlite_utils.Database,
    draft: Draft,
    *,
    slug: str,
    base_hash: str,
    author: str | Who,
    comment: str = "",
    reopens: int | None = None,
    media: MediaChange | None = None,
) -> SaveResult:
    """Keep an editor's change to a published entry for an admin to apply; the file stays as is.

    Returns "proposed", or "conflict" / "invalid" / "busy" as a save would. The proposal keeps
    the text it was written against, so an admin can see later what the editor changed.
    reopens names the rejected proposal this one takes up again, if any.
    """
    who = _who(author)
    allowed = load_fields(content_dir / "fields.yml")
    with content_lock(data_dir) as locked:
        if not locked:
            return SaveResult("busy", slug)
        path = _existing_path(content_dir, db, slug)
        current = path.read_bytes() if path.exists() else None
        if current is None or _digest(current) != base_hash:
            text_now = current.decode("utf-8", "replace") if current is not None else ""
            return SaveResult("conflict", slug, current_text=text_now, current_hash=_digest(current or b""))
        if media:  # the proposal's new files wait beside the entry's, listed only by the proposal
            draft.attachments = media.assign(slug, draft.attachments)
        text = compose(draft, current.decode("utf-8", "replace"))
        rel = path.relative_to(content_dir).as_posix()
        try:
            entry = parse_entry(text.encode("utf-8"), rel, allowed)
            _refuse_guidance(text, rel, entry.status)
            render_entry(entry)
        except InvalidEntry as exc:
            return SaveResult("invalid", slug, problems=exc.problems)
        try:
            with placed(media), write_transaction(db) as conn:
                conn.execute(
                    "INSERT INTO proposals (slug, created_at, author, comment, base_hash, base_text, text, state, "
                    "reopened_from) VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?)",
                    [slug, now_iso(), who.name, comment.strip()[:200], base_hash, current.decode("utf-8", "replace"),
                     text, reopens],
                )  # fmt: skip
                detail = comment.strip()[:200] + (f" (mở lại bản sửa #{reopens})" if reopens else "")
                write_audit(conn, who.name, "propose", slug, detail.strip(), who.address)
        except StoreBusy:
            return SaveResult("busy", slug)
        # A reopened proposal lists files its rejection moved aside: they come back beside the entry.
        settle_media(content_dir, data_dir, slug, set(), {a["file"] for a in draft.attachments})
    return SaveResult("proposed", slug, current_hash=base_hash)


def apply_proposal(
    content_dir: Path,
    data_dir: Path,
    db: sqlite_utils.Database,
    proposal: dict,
    *,
    base_hash: str,
    admin: str | Who,
) -> SaveResult:
    """Apply an editor's proposed change as a new revision; the entry keeps its workflow status."""
    who = _who(admin)
    state = file_state(content_dir, db, proposal["slug"])
    if state is None:
        return SaveResult("conflict", proposal["slug"])
    try:
        text = with_status_of(proposal["text"], state[0])
    except yaml.YAMLError:  # a hand edit broke the file: its workflow status cannot be read, so wait
        rel = f"models/{proposal['slug']}.md"
        return SaveResult("invalid", proposal["slug"], problems=[Problem(rel, 1, "tệp hiện tại có lỗi YAML")])
    comment = f"Áp dụng bản sửa #{proposal['id']} của {proposal['author']}" + (
        f": {proposal['comment']}" if proposal["comment"] else ""
    )

    def decided(conn: sqlite3.Connection) -> None:
        done = conn.execute(
            "UPDATE proposals SET state = 'applied', decided_by = ?, decided_at = ? WHERE id = ? AND state = 'open'",
            [who.name, now_iso(), proposal["id"]],
        ).rowcount
        if not done:  # decided meanwhile by another admin: apply nothing
            raise ProposalDecided(proposal["id"])

    note = Note("proposal_apply", f"#{proposal['id']} của {proposal['author']}")
    with suppress(ProposalDecided):
        return save_text(content_dir, data_dir, db, proposal["slug"], text, base_hash=base_hash, author=who,
                         comment=comment, notes=(note,), also=decided)  # fmt: skip
    return SaveResult("decided", proposal["slug"])


def open_proposals(db: sqlite_utils.Database, slug: str | None = None) -> list[dict]:
    """Return the proposals waiting for an admin (of one entry, or all), oldest first, without text."""
    where, args = ("state = 'open'", []) if slug is None else ("state = 'open' AND slug = ?", [slug])
    return list(
        db.query(
            f"SELECT id, slug, created_at, author, comment, base_hash FROM proposals WHERE {where} ORDER BY id", args
        )
    )


def rejected_proposals(db: sqlite_utils.Database, author: str, days: int = REJECTED_SHOWN_DAYS) -> list[dict]:
    """Return an author's proposals rejected in the last days and not reopened since, newest first, without text."""
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).replace(microsecond=0).isoformat()
    return list(
        db.query(
            "SELECT p.id, p.slug, p.created_at, p.comment, p.decided_by, p.decided_at, p.reason FROM proposals p "
            "WHERE p.state = 'rejected' AND p.author = ? AND p.decided_at >= ? "
            "AND NOT EXISTS (SELECT 1 FROM proposals q WHERE q.reopened_from = p.id) ORDER BY p.id DESC",
            [author, since],
        )
    )


def entry_proposals(db: sqlite_utils.Database, slug: str) -> list[dict]:
    """Return every proposal of an entry (open, applied or rejected, with its reason), newest first, without text."""
    return list(
        db.query(
            "SELECT p.id, p.created_at, p.author, p.comment, p.state, p.decided_by, p.decided_at, p.reason, "
            "p.reopened_from, (SELECT max(q.id) FROM proposals q WHERE q.reopened_from = p.id) AS reopened_as "
            "FROM proposals p WHERE p.slug = ? ORDER BY p.id DESC",
            [slug],
        )
    )


def get_proposal(db: sqlite_utils.Database, slug: str, proposal_id: int) -> dict | None:
    """Return one proposal of an entry, with its text."""
    return next(db["proposals"].rows_where("slug = ? AND id = ?", [slug, proposal_id], limit=1), None)


def decide_proposal(
    db: sqlite_utils.Database, proposal_id: int, state: str, admin: str | Who, reason: str = ""
) -> bool:
    """Mark an open proposal rejected (or applied), with its reason and audit line, in one transaction.

    Return False if it was no longer open (another admin decided it meanwhile): nothing changes.
    A reason longer than REASON_MAX is a ValueError (the caller shows it; nothing changes).
    """
    who = _who(admin)
    reason = reason.strip()
    if len(reason) > REASON_MAX:
        raise ValueError(f"Lý do tối đa {REASON_MAX} ký tự (bạn đã gõ {len(reason)}).")
    with write_transaction(db) as conn:
        row = conn.execute(
            "SELECT slug, author FROM proposals WHERE id = ? AND state = 'open'", [proposal_id]
        ).fetchone()
        if row is None:
            return False
        conn.execute(
            "UPDATE proposals SET state = ?, decided_by = ?, decided_at = ?, reason = ? WHERE id = ?",
            [state, who.name, now_iso(), reason or None, proposal_id],
        )
        action = "proposal_reject" if state == "rejected" else f"proposal_{state}"
        detail = f"#{proposal_id} của {row[1]}" + (f"; lý do: {reason}" if reason else "")
        write_audit(conn, who.name, action, row[0], detail, who.address)
    return True


def release_proposal_files(content_dir: Path, data_dir: Path, db: sqlite_utils.Database, proposal_id: int) -> None:
    """After a rejection: move the files only that proposal listed out of the content folder.

    They go where removed files go (data/media-removed/), so reopening the proposal, or restoring
    a revision, brings them back. Files the entry or another open proposal lists stay.
    """
    row = db.execute("SELECT slug, text FROM proposals WHERE id = ?", [proposal_id]).fetchone()
    if row is None:
        return
    slug, text = row
    state = file_state(content_dir, db, slug)
    kept = _listed(state[0].decode("utf-8", "replace")) if state else set()
    for (other,) in db.execute("SELECT text FROM proposals WHERE slug = ? AND state = 'open'", [slug]):
        kept |= _listed(other)
    settle_media(content_dir, data_dir, slug, _listed(text) - kept, set())


class ProposalDecided(RuntimeError):
    """A proposal was decided by someone else while it was being applied."""


def file_state(content_dir: Path, db: sqlite_utils.Database, slug: str) -> tuple[bytes, str] | None:
    """Return the bytes of an entry's file and their hash (the version a form is opened at)."""
    try:
        path = _existing_path(content_dir, db, slug)
    except ValueError:  # not a slug at all: no such entry
        return None
    if not path.is_file():
        return None
    data = path.read_bytes()
    return data, _digest(data)


def _existing_path(content_dir: Path, db: sqlite_utils.Database, slug: str) -> Path:
    """Return the file of an existing entry: where the index found it, else models/<slug>.md."""
    row = next(db["entries"].rows_where("slug = ?", [slug], limit=1), None)
    if row:
        path = (content_dir / row["path"]).resolve()
        if path.is_relative_to(content_dir.resolve()):
            return path
    return entry_path(content_dir, slug)


def _record_baseline(conn: sqlite3.Connection, slug: str, current: bytes) -> None:
    """Keep the file as it was before its first save from the browser (or after a hand edit)."""
    digest = _digest(current)
    last = conn.execute("SELECT content_hash FROM revisions WHERE slug = ? ORDER BY id DESC LIMIT 1", [slug]).fetchone()
    if last is None or last[0] != digest:
        conn.execute(
            "INSERT INTO revisions (slug, created_at, author, comment, status, content_hash, text) "
            "VALUES (?, ?, '', 'Bản trên đĩa trước khi sửa', ?, ?, ?)",
            [slug, now_iso(), read_draft(current)[0].status, digest, current.decode("utf-8", "replace")],
        )
