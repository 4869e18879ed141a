"""An entry file as the edit form sees it: the draft, read from the file and composed back, and its workflow.

Composing keeps what the form does not own: the front matter keys it does not know, the body
exactly as typed (only the browser's CRLF line ends become LF).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from .entries import load_yaml, split_front_matter

__all__ = [
    "BODY_TEMPLATE",
    "STATUS_LABELS",
    "Draft",
    "compose",
    "read_draft",
    "transitions",
    "with_status_of",
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
    source_date: str = ""  # ISO: 2024-06-15, 2024-06 or 2024
    contact: str = ""
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
    source = {"title": draft.source_title.strip(), "url": draft.source_url.strip(), "date": draft.source_date.strip()}
    source = {k: v for k, v in source.items() if v}
    source.update({k: v for k, v in old_source.items() if k not in ("title", "url", "date")})  # keys the form lacks
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


def with_status_of(text: str, current: bytes) -> str:
    """Return an entry's text with the workflow status of the file as it is now.

    Restoring a revision or applying a proposal changes the words, never the workflow: an
    old text says "published" even when the entry was archived since.
    """
    status = read_draft(current)[0].status
    draft, meta = read_draft(text.encode("utf-8"))
    if draft.status == status:
        return text
    draft.status = status
    return compose(draft, meta)
