"""An entry file as the edit form sees it: the draft, read from the file and composed back, and its workflow.

Composing keeps what the form does not own and what did not change: every front-matter key whose
value stays the same keeps its lines as the author wrote them (kb/frontmatter.py), keys the form
does not know are never touched, and the body is written exactly as typed (only the browser's
CRLF line ends become LF).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from indexer import normalize_text

from .entries import KEYS, load_yaml, split_front_matter
from .frontmatter import MISSING, dump_keys, update_front_matter
from .sections import BODY_TEMPLATE

__all__ = [
    "BODY_TEMPLATE",
    "STATUS_LABELS",
    "Draft",
    "attachment_values",
    "compose",
    "read_draft",
    "transitions",
    "with_status_of",
]

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
    source_date: str = ""  # ISO: 2024-06-15, 2024-06 or 2024
    contact: str = ""
    # Photos and documents, as the front matter lists them: {"file": …, "caption": …, "credit": …}.
    attachments: list[dict[str, str]] = field(default_factory=list)
    body: str = BODY_TEMPLATE
    status: str = "draft"


def _split_raw(text: str) -> tuple[dict[str, Any], str]:
    """Return (front matter mapping, body as in the file) the way `kb check` splits them."""
    parts = split_front_matter(text)
    if parts is None:
        raise yaml.YAMLError("no front matter")
    meta = load_yaml(parts[0]) or {}
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
            source_date=text("date", source),
            contact=text("contact"),
            attachments=_attachments(meta.get("attachments")),
            body=body.lstrip("\n"),
            status=text("status") or "published",
        ),
        meta,
    )


def _attachments(value: Any) -> list[dict[str, str]]:
    """Return a front matter's attachments as the form keeps them (entries' check says what is wrong)."""
    found = []
    for item in value if isinstance(value, list) else []:
        item = {"file": item} if isinstance(item, str) else item
        if isinstance(item, dict) and isinstance(item.get("file"), str):
            found.append({k: str(item[k]).strip() for k in ("file", "caption", "credit") if item.get(k)})
    return found


def attachment_values(items: list[dict[str, str]]) -> list[dict[str, str]]:
    """Return attachments as written in the front matter: file first, empty captions and credits left out."""
    out = []
    for item in items:
        written = {k: " ".join(str(item.get(k) or "").split()) for k in ("file", "caption", "credit")}
        out.append({k: v for k, v in written.items() if v})
    return [item for item in out if item.get("file")]


def _form_values(draft: Draft) -> dict[str, Any]:
    """Return the front-matter keys the form owns, in the standard order (MISSING: none given)."""

    def text(value: str) -> Any:
        return value.strip().replace("\r\n", "\n") or MISSING

    return {
        "title": draft.title.strip(),
        "summary": draft.summary.strip().replace("\r\n", "\n"),
        "unit": draft.unit.strip(),
        "province": text(draft.province),
        "fields": list(draft.fields),
        "tags": list(draft.tags) or MISSING,
        "year": draft.year or MISSING,
        "status": draft.status,
        "source": {"title": text(draft.source_title), "url": text(draft.source_url), "date": text(draft.source_date)},
        "contact": text(draft.contact),
        "attachments": attachment_values(draft.attachments) or MISSING,
    }


def _same(old: Draft) -> Any:
    """Return same(key, value in the file) for update_front_matter: True if the form left it alone."""

    def fold(items: list[str]) -> list[str]:  # fields as the form spells them (fields.yml)
        return [" ".join(normalize_text(v).split()).casefold() for v in items]

    def same(key: str, _value: Any, new: Draft) -> bool:
        if key == "source":
            return (old.source_title, old.source_url, old.source_date) == (
                new.source_title.strip(),
                new.source_url.strip(),
                new.source_date.strip(),
            )
        if key == "fields":
            return fold(old.fields) == fold(new.fields)
        if key == "attachments":
            return attachment_values(old.attachments) == attachment_values(new.attachments)
        mine, theirs = getattr(old, key), getattr(new, key)
        if isinstance(theirs, str):
            return mine == theirs.strip().replace("\r\n", "\n")
        return mine == theirs

    return same


def _cut_file(text: str) -> tuple[str, str, str, str] | None:
    """Return (opening line, front matter, closing line and blank lines, body) of an entry file."""
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").split("\n")
    boundary = [i for i, line in enumerate(lines) if line.startswith("---") and not line.strip("- \t")]
    if len(boundary) < 2 or boundary[0] != 0:
        return None
    close = boundary[1]
    rest = lines[close + 1 :]
    blank = 0
    while blank < len(rest) - 1 and rest[blank] == "":
        blank += 1
    front = "".join(line + "\n" for line in lines[1:close])
    return lines[0] + "\n", front, lines[close] + "\n" + "\n" * blank, "\n".join(rest[blank:])


def compose(draft: Draft, old: str | None = None) -> str:
    """Return the text of an entry file: the form's values written into the old file, or a new one.

    With old (the file as it is), only the keys whose values changed are rewritten; the rest of
    the front matter, its comments and the body (if unchanged) stay byte for byte.
    """
    if old is not None and "\r\n" in old and "\n" not in old.replace("\r\n", ""):
        # A file written on Windows keeps its line ends, so that a save changes only what changed.
        return compose(draft, old.replace("\r\n", "\n")).replace("\n", "\r\n")
    values = _form_values(draft)
    typed = draft.body.replace("\r\n", "\n").replace("\r", "\n")
    body = typed if typed.endswith("\n") else typed + "\n"
    parts = _cut_file(old) if old is not None else None
    if parts is None:
        return f"---\n{dump_keys(values)}---\n\n{body}"
    opening, front, closing, old_body = parts
    before, _meta = read_draft(old.encode("utf-8"))
    if before.source_date == draft.source_date.strip():  # untouched: kept as written (a YAML date stays one)
        values["source"].pop("date")
    same = _same(before)
    updated = update_front_matter(front, values, order=KEYS, same=lambda key, value: same(key, value, draft))
    if updated is None:  # a front matter that cannot be edited in place: the standard layout, other keys kept
        meta = load_yaml(front) if front.strip() else {}
        others = {k: v for k, v in (meta if isinstance(meta, dict) else {}).items() if k not in values}
        updated = dump_keys({**values, **others})
    if typed == before.body:
        body = old_body  # unchanged: exactly as in the file, even without a final line end
    return f"{opening}{updated}{closing}{body}"


def with_status_of(text: str, current: bytes) -> str:
    """Return an entry's text with the workflow status of the file as it is now.

    Restoring a revision or applying a proposal changes the words, never the workflow: an
    old text says "published" even when the entry was archived since.
    """
    status = read_draft(current)[0].status
    draft, _meta = read_draft(text.encode("utf-8"))
    if draft.status == status:
        return text
    draft.status = status
    return compose(draft, text)
