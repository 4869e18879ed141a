"""Write entries from the browser: compose the file, save it atomically, keep every revision.

The file stays the source of truth. A save composes the front matter the form owns (the
keys of KEYS), keeps any other key the file had, writes the body exactly as typed (only the
browser's CRLF line ends become LF), and refuses to overwrite a file that changed since the
form was opened. Each save stores a revision in SQLite, then updates the index at once.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import tempfile
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import sqlite_utils
import yaml

from indexer.locks import file_lock

from .catalog import reindex_files
from .entries import InvalidEntry, Problem, load_fields, parse_entry, split_front_matter
from .slugs import SLUG_RE, unique_slug
from .store import now_iso

__all__ = [
    "BODY_TEMPLATE",
    "STATUS_LABELS",
    "Draft",
    "SaveResult",
    "atomic_write",
    "compose",
    "decide_proposal",
    "diff_lines",
    "entry_path",
    "file_state",
    "get_proposal",
    "get_revision",
    "list_revisions",
    "open_proposals",
    "propose",
    "read_draft",
    "save_entry",
    "save_text",
    "transitions",
]

BODY_TEMPLATE = """## Bối cảnh

Đơn vị, địa bàn và vấn đề mà mô hình giải quyết.

## Cách làm

Các bước triển khai, ai tham gia, nguồn lực và kinh phí.

## Kết quả

Kết quả đã ghi nhận (chỉ nêu số liệu có nguồn).

## Bài học kinh nghiệm

Điều gì giúp mô hình thành công, điều gì cần tránh.

## Điều kiện nhân rộng

Đơn vị khác cần những gì để áp dụng.
"""

STATUS_LABELS = {
    "draft": "Bản nháp",
    "review": "Chờ duyệt",
    "published": "Đã xuất bản",
    "archived": "Lưu trữ",
}
# (from, to) -> (who may do it, the button's words)
_TRANSITIONS = {
    ("draft", "review"): ("editor", "Gửi duyệt"),
    ("review", "draft"): ("editor", "Rút về bản nháp"),
    ("review", "published"): ("admin", "Xuất bản"),
    ("draft", "published"): ("admin", "Xuất bản ngay"),
    ("published", "draft"): ("admin", "Gỡ xuống thành bản nháp"),
    ("published", "archived"): ("admin", "Lưu trữ"),
    ("draft", "archived"): ("admin", "Lưu trữ"),
    ("review", "archived"): ("admin", "Lưu trữ"),
    ("archived", "draft"): ("admin", "Khôi phục thành bản nháp"),
}


def transitions(status: str, role: str) -> list[tuple[str, str]]:
    """Return the (new status, label) changes a role may make from status."""
    return [
        (to, label)
        for (frm, to), (who, label) in _TRANSITIONS.items()
        if frm == status and (role == "admin" or who == role)
    ]


@dataclass
class Draft:
    """What the edit form holds."""

    title: str = ""
    summary: str = ""
    unit: str = ""
    province: str = ""
    fields: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    year: int | None = None
    source_title: str = ""
    source_url: str = ""
    contact: str = ""
    body: str = BODY_TEMPLATE
    status: str = "draft"


@dataclass
class SaveResult:
    """What a save did: saved (and whether the index has it), a conflict, or invalid input."""

    outcome: str  # "saved" | "conflict" | "invalid"
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


def _split_raw(text: str) -> tuple[dict[str, Any], str]:
    """Return (front matter mapping, body as in the file) the way `kb check` splits them."""
    parts = split_front_matter(text)
    if parts is None:
        raise yaml.YAMLError("no front matter")
    meta = yaml.load(parts[0], Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    return (meta if isinstance(meta, dict) else {}), parts[1]


def read_draft(raw: bytes) -> tuple[Draft, dict[str, Any]]:
    """Return the form values of an entry file and its front matter (for the keys the form keeps)."""
    meta, body = _split_raw(raw.decode("utf-8-sig", errors="replace"))
    source = meta.get("source") if isinstance(meta.get("source"), dict) else {}
    if isinstance(meta.get("source"), str):
        source = {"title": meta["source"]}

    def text(key: str, mapping: dict = meta) -> str:
        value = mapping.get(key)
        return "" if value is None else str(value).strip()

    def items(key: str) -> list[str]:
        value = meta.get(key) or []
        return [str(v) for v in (value if isinstance(value, list) else [value])]

    year = meta.get("year")
    if isinstance(year, str) and year.strip().isdigit():  # kb check accepts a quoted year too
        year = int(year.strip())
    return (
        Draft(
            title=text("title"),
            summary=text("summary"),
            unit=text("unit"),
            province=text("province"),
            fields=items("fields"),
            tags=items("tags"),
            year=year if isinstance(year, int) and not isinstance(year, bool) else None,
            source_title=text("title", source),
            source_url=text("url", source),
            contact=text("contact"),
            body=body.lstrip("\n"),
            status=text("status") or "published",
        ),
        meta,
    )


class _Dumper(yaml.SafeDumper):
    """Write block lists indented under their key, as people write them by hand."""

    def increase_indent(self, flow: bool = False, indentless: bool = False):
        return super().increase_indent(flow, False)


def compose(draft: Draft, old_meta: dict[str, Any] | None = None) -> str:
    """Return the text of an entry file: the form's front matter, other keys kept, then the body."""
    old_meta = old_meta or {}
    meta: dict[str, Any] = {"title": draft.title.strip(), "summary": draft.summary.strip(), "unit": draft.unit.strip()}
    if draft.province.strip():
        meta["province"] = draft.province.strip()
    meta["fields"] = list(draft.fields)
    if draft.tags:
        meta["tags"] = list(draft.tags)
    if draft.year:
        meta["year"] = draft.year
    meta["status"] = draft.status
    old_source = old_meta.get("source") if isinstance(old_meta.get("source"), dict) else {}
    source = {"title": draft.source_title.strip(), "url": draft.source_url.strip()}
    source = {k: v for k, v in source.items() if v}
    source.update({k: v for k, v in old_source.items() if k not in ("title", "url")})  # e.g. its date
    if source:
        meta["source"] = source
    if draft.contact.strip():
        meta["contact"] = draft.contact.strip()
    owned = {"title", "summary", "unit", "province", "fields", "tags", "year", "status", "source", "contact"}
    meta.update({k: v for k, v in old_meta.items() if k not in owned})  # keys the form does not know
    front = yaml.dump(meta, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=10_000)
    body = draft.body.replace("\r\n", "\n").replace("\r", "\n")
    if not body.endswith("\n"):
        body += "\n"
    return f"---\n{front}---\n\n{body}"


def atomic_write(path: Path, data: bytes) -> None:
    """Replace path with data in one step: a reader sees the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _content_lock(data_dir: Path) -> AbstractContextManager[bool]:
    """Serialise saves across worker processes: check-then-write is one step."""
    return file_lock(data_dir / "content.lock")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def save_entry(
    content_dir: Path,
    data_dir: Path,
    db: sqlite_utils.Database,
    draft: Draft,
    *,
    slug: str | None,
    base_hash: str,
    author: str,
    comment: str = "",
) -> SaveResult:
    """Save the form of a new entry (slug None) or of an existing one opened at base_hash."""
    return _save(content_dir, data_dir, db, slug, base_hash, author, comment, lambda old_meta: compose(draft, old_meta),
                 title=draft.title)  # fmt: skip


def save_text(
    content_dir: Path,
    data_dir: Path,
    db: sqlite_utils.Database,
    slug: str,
    text: str,
    *,
    base_hash: str,
    author: str,
    comment: str = "",
) -> SaveResult:
    """Save the whole text of an existing entry's file (a restored revision), opened at base_hash."""
    return _save(content_dir, data_dir, db, slug, base_hash, author, comment, lambda _old: text)


def _save(content_dir, data_dir, db, slug, base_hash, author, comment, make_text, title: str = "") -> SaveResult:
    """Check, write, record and index one entry file.

    Returns "invalid" with the problems if the file would not pass `kb check`, "conflict"
    with the file as it is now if it changed since base_hash, else "saved".
    """
    allowed = load_fields(content_dir / "fields.yml")
    with _content_lock(data_dir):
        old_meta: dict[str, Any] = {}
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
            _record_baseline(db, slug, current)
            old_meta = read_draft(current)[1]
        text = make_text(old_meta)
        data = text.encode("utf-8")
        rel = path.relative_to(content_dir).as_posix()
        try:
            entry = parse_entry(data, rel, allowed)
        except InvalidEntry as exc:
            return SaveResult("invalid", slug, problems=exc.problems)
        atomic_write(path, data)
        with db.conn:
            db["revisions"].insert(
                {"slug": slug, "created_at": now_iso(), "author": author, "comment": comment.strip()[:200],
                 "status": entry.status, "content_hash": _digest(data), "text": text}
            )  # fmt: skip
        # Still under the lock: two quick saves of one entry reach the index in their order.
        indexed = reindex_files(content_dir, data_dir, [rel])
    return SaveResult("saved", slug, current_hash=_digest(data), indexed=indexed)


def propose(
    content_dir: Path,
    data_dir: Path,
    db: sqlite_utils.Database,
    draft: Draft,
    *,
    slug: str,
    base_hash: str,
    author: str,
    comment: str = "",
) -> SaveResult:
    """Keep an editor's change to a published entry for an admin to apply; the file stays as is.

    Returns "proposed", or "conflict" / "invalid" as a save would.
    """
    allowed = load_fields(content_dir / "fields.yml")
    with _content_lock(data_dir):
        path = _existing_path(content_dir, db, slug)
        current = path.read_bytes() if path.exists() else None
        if current is None or _digest(current) != base_hash:
            text_now = current.decode("utf-8", "replace") if current is not None else ""
            return SaveResult("conflict", slug, current_text=text_now, current_hash=_digest(current or b""))
        text = compose(draft, read_draft(current)[1])
        try:
            parse_entry(text.encode("utf-8"), path.relative_to(content_dir).as_posix(), allowed)
        except InvalidEntry as exc:
            return SaveResult("invalid", slug, problems=exc.problems)
        with db.conn:
            db["proposals"].insert(
                {"slug": slug, "created_at": now_iso(), "author": author, "comment": comment.strip()[:200],
                 "base_hash": base_hash, "text": text, "state": "open"}
            )  # fmt: skip
    return SaveResult("proposed", slug, current_hash=base_hash)


def open_proposals(db: sqlite_utils.Database, slug: str | None = None) -> list[dict]:
    """Return the proposals waiting for an admin (of one entry, or all), oldest first, without text."""
    where, args = ("state = 'open'", []) if slug is None else ("state = 'open' AND slug = ?", [slug])
    return list(
        db.query(
            f"SELECT id, slug, created_at, author, comment, base_hash FROM proposals WHERE {where} ORDER BY id", args
        )
    )


def get_proposal(db: sqlite_utils.Database, slug: str, proposal_id: int) -> dict | None:
    """Return one proposal of an entry, with its text."""
    return next(db["proposals"].rows_where("slug = ? AND id = ?", [slug, proposal_id], limit=1), None)


def decide_proposal(db: sqlite_utils.Database, proposal_id: int, state: str, admin: str) -> None:
    """Mark a proposal applied or rejected."""
    db["proposals"].update(proposal_id, {"state": state, "decided_by": admin, "decided_at": now_iso()})


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


def _record_baseline(db: sqlite_utils.Database, slug: str, current: bytes) -> None:
    """Keep the file as it was before its first save from the browser (or after a hand edit)."""
    digest = _digest(current)
    last = next(db["revisions"].rows_where("slug = ?", [slug], order_by="id DESC", limit=1), None)
    if last is None or last["content_hash"] != digest:
        text = current.decode("utf-8", "replace")
        db["revisions"].insert(
            {"slug": slug, "created_at": now_iso(), "author": "", "comment": "Bản trên đĩa trước khi sửa",
             "status": read_draft(current)[0].status, "content_hash": digest, "text": text}
        )  # fmt: skip


def list_revisions(db: sqlite_utils.Database, slug: str) -> list[dict]:
    """Return an entry's revisions, newest first, without their text."""
    return list(
        db.query(
            "SELECT id, slug, created_at, author, comment, status, content_hash, length(text) AS size "
            "FROM revisions WHERE slug = ? ORDER BY id DESC",
            [slug],
        )
    )


def get_revision(db: sqlite_utils.Database, slug: str, revision_id: int) -> dict | None:
    """Return one revision of an entry, with its text."""
    return next(db["revisions"].rows_where("slug = ? AND id = ?", [slug, revision_id], limit=1), None)


def diff_lines(old: str, new: str) -> list[tuple[str, str]]:
    """Return a line diff as (kind, line) pairs: ' ' same, '-' removed, '+' added, '@' a hunk."""
    out = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=3):
        if line.startswith(("---", "+++")):
            continue
        out.append(("@" if line.startswith("@@") else line[0], line[1:] if not line.startswith("@@") else line))
    return out


def with_status(draft: Draft, status: str) -> Draft:
    """Return the draft with another status."""
    return replace(draft, status=status)
