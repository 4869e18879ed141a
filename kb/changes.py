"""What changed between two versions of an entry: field by field, then the body line and word by word.

A reviewer reads what the editor changed, not how the file is laid out: values are compared as
the form reads them (a re-folded summary or re-quoted tag is no change), and a changed paragraph
shows its changed words.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from .drafts import STATUS_LABELS, Draft, read_draft
from .entries import load_yaml, split_front_matter

__all__ = ["FIELD_LABELS", "BodyHunk", "Changes", "FieldChange", "compare"]

# The edit form's labels (kb/web/forms.py), so the reviewer reads the words the editor saw.
FIELD_LABELS = {
    "title": "Tên mô hình",
    "summary": "Tóm tắt",
    "unit": "Đơn vị",
    "province": "Tỉnh, thành phố",
    "fields": "Lĩnh vực",
    "tags": "Từ khóa",
    "year": "Năm",
    "status": "Trạng thái",
    "source_title": "Tên nguồn",
    "source_url": "Địa chỉ nguồn (URL)",
    "source_date": "Ngày của nguồn",
    "contact": "Liên hệ",
    "attachments": "Ảnh và tệp đính kèm",
}
_OWNED = {"title", "summary", "unit", "province", "fields", "tags", "year", "status", "source", "contact",
          "attachments"}  # fmt: skip

Part = tuple[str, str]  # (kind, text): kind "same", "del" or "ins"


@dataclass
class FieldChange:
    """One value that changed: its label, and the old and new value as parts to mark."""

    label: str
    old: list[Part]
    new: list[Part]


@dataclass
class BodyHunk:
    """A run of changed body lines with a line of context: rows of (kind, parts), under a heading."""

    heading: str
    rows: list[tuple[str, list[Part]]] = field(default_factory=list)


@dataclass
class Changes:
    """Every difference between two texts of an entry; readable False if either could not be read."""

    fields: list[FieldChange]
    body: list[BodyHunk]
    readable: bool = True

    @property
    def identical(self) -> bool:
        """Say whether nothing a reader would see changed."""
        return self.readable and not self.fields and not self.body


def compare(old: str, new: str) -> Changes:
    """Return what changed from old to new, the texts of two versions of one entry file."""
    try:
        before, after = read_draft(old.encode("utf-8"))[0], read_draft(new.encode("utf-8"))[0]
        extra = _extra(old), _extra(new)
    except yaml.YAMLError:
        return Changes([], [], readable=False)
    return Changes(_fields(before, after, *extra), _body(before.body, after.body))


def _extra(text: str) -> dict[str, Any]:
    """Return the front-matter keys the form does not own, and source.date."""
    parts = split_front_matter(text)
    meta = load_yaml(parts[0]) if parts else {}
    if not isinstance(meta, dict):
        return {}
    extra = {str(k): v for k, v in meta.items() if k not in _OWNED}
    source = meta.get("source")
    if isinstance(source, dict):
        extra.update({f"source_{k}": v for k, v in source.items() if k not in ("title", "url")})
    return extra


def _shown(value: Any) -> str:
    """Return a value as one line of text (a list joined with commas)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_shown(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_shown(v)}" for k, v in value.items())
    return str(value)


def _attachment(item: dict[str, str]) -> str:
    """Return an attachment as one readable value: its file, caption and credit."""
    text = item.get("file", "")
    if item.get("caption"):
        text += f" — {item['caption']}"
    return text + (f" (ảnh: {item['credit']})" if item.get("credit") else "")


def _fields(before: Draft, after: Draft, old_extra: dict[str, Any], new_extra: dict[str, Any]) -> list[FieldChange]:
    """Return the changed values, in the form's order, then any other key of the front matter."""
    changes = []
    pairs: list[tuple[str, Any, Any]] = [
        (key, getattr(before, key), getattr(after, key))
        for key in ("title", "summary", "unit", "province", "fields", "tags", "year")
    ]
    status = [STATUS_LABELS.get(s, s) for s in (before.status, after.status)]
    pairs.append(("status", *status))
    pairs += [
        ("source_title", before.source_title, after.source_title),
        ("source_url", before.source_url, after.source_url),
        ("contact", before.contact, after.contact),
        ("attachments", [_attachment(a) for a in before.attachments], [_attachment(a) for a in after.attachments]),
    ]
    for key in dict.fromkeys([*old_extra, *new_extra]):
        pairs.append((key, old_extra.get(key), new_extra.get(key)))
    for key, old, new in pairs:
        if old == new or (not old and not new):
            continue
        if isinstance(old, list) or isinstance(new, list):
            old_parts, new_parts = _mark([str(v) for v in old or []], [str(v) for v in new or []], ", ")
        else:
            old_parts, new_parts = _mark(_words(_shown(old)), _words(_shown(new)), "")
        changes.append(FieldChange(FIELD_LABELS.get(key, key), old_parts, new_parts))
    return changes


_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")


def _words(text: str) -> list[str]:
    """Return text as words, spaces and punctuation (every character in one token)."""
    return _TOKEN.findall(text)


def _mark(old: list[str], new: list[str], joiner: str) -> tuple[list[Part], list[Part]]:
    """Return old and new as parts, the removed and the added tokens marked (joined by joiner)."""
    old_parts: list[Part] = []
    new_parts: list[Part] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in _absorb_spaces(matcher.get_opcodes(), old):
        if tag == "equal":
            _add(old_parts, "same", old[i1:i2], joiner)
            _add(new_parts, "same", new[j1:j2], joiner)
        else:
            _add(old_parts, "del", old[i1:i2], joiner)
            _add(new_parts, "ins", new[j1:j2], joiner)
    return _joined(old_parts, joiner), _joined(new_parts, joiner)


def _absorb_spaces(opcodes, old: list[str]) -> list[list]:
    """Fold a lone space between two changes into them, so a changed phrase reads as one."""
    out: list[list] = []
    for op in map(list, opcodes):
        between = out[-1] if out else None
        if (
            op[0] != "equal"
            and len(out) >= 2
            and between[0] == "equal"
            and out[-2][0] != "equal"
            and "".join(old[between[1] : between[2]]).isspace()
        ):
            out.pop()
            out[-1] = ["replace", out[-1][1], op[2], out[-1][3], op[4]]
            continue
        out.append(op)
    return out


def _add(parts: list[Part], kind: str, tokens: list[str], joiner: str) -> None:
    """Append tokens as parts of one kind (list items stay separate, to be joined later)."""
    if not tokens:
        return
    if joiner:
        parts.extend((kind, t) for t in tokens)
    elif parts and parts[-1][0] == kind:
        parts[-1] = (kind, parts[-1][1] + "".join(tokens))
    else:
        parts.append((kind, "".join(tokens)))


def _joined(parts: list[Part], joiner: str) -> list[Part]:
    """Put the joiner between list items (unmarked), nothing between words."""
    if not joiner:
        return parts
    out: list[Part] = []
    for i, part in enumerate(parts):
        if i:
            out.append(("same", joiner))
        out.append(part)
    return out


def _body(old: str, new: str) -> list[BodyHunk]:
    """Return the changed lines of the body, a changed line beside its old one with words marked."""
    a, b = old.splitlines(), new.splitlines()
    hunks = []
    for group in difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(0):
        start = group[0][1]
        headings = [line for line in a[: start + 1] if line.startswith("#")]
        hunk = BodyHunk(headings[-1].lstrip("#").strip() if headings else "")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                hunk.rows += [("same", [("same", line)]) for line in a[i1:i2]]
                continue
            olds, news = a[i1:i2], b[j1:j2]
            paired = min(len(olds), len(news)) if tag == "replace" else 0
            for k in range(paired):
                old_parts, new_parts = _mark(_words(olds[k]), _words(news[k]), "")
                hunk.rows += [("del", old_parts), ("add", new_parts)]
            hunk.rows += [("del", [("del", line)]) for line in olds[paired:]]
            hunk.rows += [("add", [("ins", line)]) for line in news[paired:]]
        hunks.append(hunk)
    return hunks
