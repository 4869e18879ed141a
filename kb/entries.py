"""Read, validate and describe entries: Markdown files with YAML front matter."""

# Size: one checker for every front-matter key, so that `kb check`, the edit form and imports give
# the same messages for the same mistake; split across modules, those rules would drift apart.

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from indexer import normalize_text

from .sections import leftover_guidance
from .slugs import SLUG_RE, slugify

__all__ = [
    "ATTACHMENT_RE",
    "CONFLICT_MARKER",
    "KEYS",
    "STATUSES",
    "Attachment",
    "Entry",
    "InvalidEntry",
    "Problem",
    "Source",
    "load_entry",
    "load_fields",
    "load_yaml",
    "parse_entry",
    "split_front_matter",
    "title_problem",
]

# libyaml's loader when PyYAML has it (it does in the usual wheels): several times faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """Load YAML text as yaml.safe_load does, with libyaml's loader when there is one."""
    return yaml.load(text, Loader=_LOADER)


# A line of three or more dashes (trailing spaces allowed) opens the front matter at the top of
# the file, and the next such line closes it (the rule python-frontmatter applies, so files split as
# they always have).
_BOUNDARY = re.compile(r"^-{3,}\s*$", re.MULTILINE)
# The lines git writes around the two sides of a conflict ("=======" alone is also a Markdown heading line).
CONFLICT_MARKER = re.compile(r"^(<{7} |>{7} )", re.MULTILINE)
SUMMARY_MAX = 600
MAX_BYTES = 2 * 1024 * 1024  # an entry is a few pages; anything bigger is a mistake (or an attack)
STATUSES = ("published", "draft", "review", "archived")
KEYS = (
    "title", "summary", "unit", "province", "fields", "tags",
    "year", "status", "source", "contact", "attachments",
)  # fmt: skip
# An attachment's stored name (kb/uploads.safe_name): lowercase ASCII words, a known extension.
ATTACHMENT_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?\.(?:jpg|png|webp|pdf|docx|xlsx)$")
CAPTION_MAX = 300
REQUIRED = ("title", "summary", "unit", "fields")
LABELS = {
    "title": "tiêu đề",
    "summary": "tóm tắt",
    "unit": "đơn vị",
    "fields": "lĩnh vực",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file, at a line, in Vietnamese."""

    path: str
    line: int
    message: str
    warning: bool = False

    def __str__(self) -> str:
        """Format as path:line: message, the way compilers and editors expect."""
        prefix = "cảnh báo: " if self.warning else ""
        return f"{self.path}:{self.line}: {prefix}{self.message}"


class InvalidEntry(ValueError):
    """An entry file that cannot be used; carries every problem found in it."""

    def __init__(self, problems: list[Problem]) -> None:
        """Keep the problems; the message is the first one."""
        problems = problems or [Problem("", 1, "mục không dùng được")]  # never an error without a reason
        super().__init__(str(problems[0]))
        self.problems = problems


@dataclass(frozen=True)
class Source:
    """Where an entry's facts come from."""

    title: str | None = None
    url: str | None = None
    date: str | None = None


@dataclass(frozen=True)
class Attachment:
    """A photo or document of an entry, stored as content/media/<slug>/<file>."""

    file: str
    caption: str | None = None  # also the photo's alternative text
    credit: str | None = None

    @property
    def ext(self) -> str:
        return self.file.rsplit(".", 1)[1]

    @property
    def is_image(self) -> bool:
        return self.ext in ("jpg", "png", "webp")


@dataclass(frozen=True)
class Entry:
    """One good-practice model, normalised for display and indexing."""

    slug: str
    path: str  # relative to the content directory, with "/" separators
    title: str
    summary: str
    unit: str
    fields: tuple[str, ...]
    body: str  # Markdown
    content_hash: str
    province: str | None = None
    tags: tuple[str, ...] = ()
    year: int | None = None
    status: str = "published"
    source: Source | None = None
    contact: str | None = None
    attachments: tuple[Attachment, ...] = ()
    warnings: tuple[Problem, ...] = field(default=(), compare=False)


def title_problem(title: str) -> str | None:
    """Return why a title cannot name an entry, or None if it can.

    A title is what people search, sort and read: one made only of punctuation, symbols or
    emoji ("???", "—", "😀") names nothing, so it is refused the same way in the form and in
    `kb check`.
    """
    if not any(ch.isalnum() for ch in title):
        return "tiêu đề phải có ít nhất một chữ cái hoặc chữ số (không thể chỉ gồm dấu câu, ký hiệu hay biểu tượng)"
    return None


def load_fields(path: Path) -> tuple[str, ...]:
    """Read the list of allowed fields (lĩnh vực) from a YAML list of names."""
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InvalidEntry([Problem(str(path), 1, "tệp không phải UTF-8; hãy lưu lại với bảng mã UTF-8")]) from None
    except FileNotFoundError:
        raise InvalidEntry([Problem(str(path), 1, "không tìm thấy tệp danh sách lĩnh vực")]) from None
    except yaml.YAMLError as exc:
        line = exc.problem_mark.line + 1 if getattr(exc, "problem_mark", None) else 1
        raise InvalidEntry([Problem(str(path), line, f"YAML không hợp lệ: {exc}")]) from None
    if not isinstance(data, list) or not all(isinstance(v, str) and v.strip() for v in data):
        msg = "phải là một danh sách YAML các tên lĩnh vực (mỗi dòng '- Tên')"
        raise InvalidEntry([Problem(str(path), 1, msg)])
    return tuple(dict.fromkeys(normalize_text(v).strip() for v in data))


def load_entry(path: Path, content_dir: Path, allowed_fields: tuple[str, ...]) -> Entry:
    """Read and validate one entry file; raise InvalidEntry listing every problem."""
    rel = path.relative_to(content_dir).as_posix()
    raw = path.read_bytes()
    return parse_entry(raw, rel, allowed_fields)


def parse_entry(raw: bytes, rel: str, allowed_fields: tuple[str, ...]) -> Entry:
    """Parse and validate the bytes of an entry file named rel; raise InvalidEntry."""
    if len(raw) > MAX_BYTES:
        size = f"{len(raw) / 1024 / 1024:.1f}".replace(".", ",")
        raise InvalidEntry([Problem(rel, 1, f"tệp quá lớn ({size} MB; tối đa {MAX_BYTES // 1024 // 1024} MB)")])
    digest = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InvalidEntry([Problem(rel, line, "tệp không phải UTF-8; hãy lưu lại với bảng mã UTF-8")]) from None
    text = text.replace("\r\n", "\n")
    if marker := CONFLICT_MARKER.search(text):  # a merge left half-done: neither version is the entry
        line = text[: marker.start()].count("\n") + 1
        raise InvalidEntry([Problem(rel, line, "còn dấu xung đột của git (<<<<<<< … >>>>>>>): hãy giữ một bản và "
                                               "xóa các dòng dấu")])  # fmt: skip
    meta, body, lines = _split(text, rel)
    problems: list[Problem] = []
    check = _Checker(rel, meta, lines, problems)
    entry = check.build(body, digest, allowed_fields)
    errors = [p for p in problems if not p.warning]
    if errors or entry is None:
        raise InvalidEntry(errors or problems)
    return entry


def split_front_matter(text: str) -> tuple[str, str] | None:
    """Return (front matter, body) exactly as written, as `kb check` splits them; None if absent."""
    parts = _cut(text.removeprefix("\ufeff").replace("\r\n", "\n"))
    return (parts[1], parts[2]) if len(parts) == 3 else None


def _cut(text: str) -> list[str]:
    """Return ["", front matter, body] cut at the boundary lines; fewer parts if one is missing."""
    return _BOUNDARY.split(text, 2) if _BOUNDARY.match(text) else []


def _split(text: str, rel: str) -> tuple[dict[str, Any], str, dict[str, int]]:
    """Split front matter from body; return metadata, body and the line of each key."""
    parts = _cut(text)
    if not parts:
        raise InvalidEntry([Problem(rel, 1, "thiếu phần đầu YAML: tệp phải bắt đầu bằng dòng '---'")])
    if len(parts) < 3:
        raise InvalidEntry([Problem(rel, 1, "phần đầu YAML chưa được đóng bằng dòng '---'")])
    _, fm_text, body = parts
    # File line of the front matter's first line (0-based lines in YAML marks add to it).
    first = text[: text.index(fm_text)].count("\n") + 1
    try:
        node = yaml.compose(fm_text, Loader=_LOADER)
        meta = yaml.load(fm_text, Loader=_LOADER) if node is not None else {}
    except yaml.YAMLError as exc:
        # Where the broken construct began (an unclosed "[") beats where YAML gave up.
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        line = first + mark.line if mark else 1
        if mark and mark.index >= len(fm_text.rstrip()):  # YAML ran off the end: blame the last line
            line = first + fm_text.rstrip().count("\n")
        problem = getattr(exc, "problem", None) or "cú pháp sai"
        raise InvalidEntry([Problem(rel, line, f"YAML không hợp lệ ({problem})")]) from None
    if node is None:
        meta = {}
    elif not isinstance(node, yaml.MappingNode):
        raise InvalidEntry([Problem(rel, 2, "phần đầu YAML phải là các cặp 'khóa: giá trị'")])
    lines: dict[str, int] = {}
    for key_node, value_node in node.value if node is not None else ():
        key = str(key_node.value)
        if key_node.tag != "tag:yaml.org,2002:str":  # 2022: …, yes: …, null: …
            msg = f"khóa '{key}' phải là chữ (tên trường như title, summary…)"
            raise InvalidEntry([Problem(rel, first + key_node.start_mark.line, msg)])
        if isinstance(value_node, yaml.SequenceNode):  # lines of list items, for precise messages
            for i, item in enumerate(value_node.value):
                lines[f"{key}[{i}]"] = first + item.start_mark.line
        if key in lines:
            msg = f"khóa '{key}' bị lặp (đã có ở dòng {lines[key]})"
            raise InvalidEntry([Problem(rel, first + key_node.start_mark.line, msg)])
        lines[key] = first + key_node.start_mark.line
    # The body starts on the line after the closing '---'.
    lines["__body__"] = first + fm_text.count("\n") + 1
    lines["__text__"] = text[: len(text) - len(body.lstrip("\n"))].count("\n") + 1  # its first written line
    return meta, body.strip("\n") + "\n", lines


@dataclass
class _Checker:
    """Validate front-matter values one key at a time, collecting problems."""

    rel: str
    meta: dict[str, Any]
    lines: dict[str, int]
    problems: list[Problem]

    def add(self, key: str, message: str, warning: bool = False) -> None:
        """Record a problem at the line of key (line 1 if the key is absent)."""
        self.problems.append(Problem(self.rel, self.lines.get(key, 1), message, warning))

    def text(self, key: str, required: bool = False) -> str | None:
        """Return a normalised one-line string value, or None."""
        value = self.meta.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                label = LABELS.get(key, key)
                self.add(key, f"thiếu trường bắt buộc '{key}' ({label})")
            return None
        if isinstance(value, (dict, list)):
            self.add(key, f"'{key}' phải là một chuỗi văn bản")
            return None
        text = " ".join(normalize_text(str(value)).split())
        if not text and required:  # only invisible characters (zero-width spaces, fillers): nothing there
            self.add(key, f"thiếu trường bắt buộc '{key}' ({LABELS.get(key, key)}): chỉ có ký tự vô hình")
            return None
        return text or None

    def string_list(self, key: str) -> tuple[str, ...]:
        """Return a list of normalised strings; a single string counts as one item."""
        value = self.meta.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
            self.add(key, f"'{key}' phải là một danh sách, ví dụ: [giá trị 1, giá trị 2]")
            return ()
        items = (" ".join(normalize_text(str(v)).split()) for v in value)
        return tuple(dict.fromkeys(v for v in items if v))

    def fields(self, allowed: tuple[str, ...]) -> tuple[str, ...]:
        """Return the entry's fields, each one of the allowed names."""
        if "fields" not in self.meta or self.meta["fields"] in (None, [], ""):
            self.add("fields", "thiếu trường bắt buộc 'fields' (lĩnh vực): cần ít nhất một lĩnh vực")
            return ()
        values = self.string_list("fields")
        by_key = {v.casefold(): v for v in allowed}
        chosen = []
        for i, value in enumerate(values):
            if value.casefold() in by_key:
                chosen.append(by_key[value.casefold()])
                continue
            close = difflib.get_close_matches(value, allowed, n=1, cutoff=0.6)
            hint = f"; có phải là '{close[0]}'?" if close else ""
            key = f"fields[{i}]" if f"fields[{i}]" in self.lines else "fields"
            self.add(key, f"lĩnh vực '{value}' không có trong content/fields.yml{hint}")
        return tuple(dict.fromkeys(chosen))

    def year(self) -> int | None:
        """Return the year as an integer between 1945 and next year."""
        value = self.meta.get("year")
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, str) and value.strip().isdigit():
                value = int(value.strip())
            else:
                self.add("year", f"'year' phải là một số nguyên (năm), ví dụ 2022, không phải '{value}'")
                return None
        if not 1945 <= value <= dt.date.today().year + 1:
            self.add("year", f"năm {value} không hợp lệ")
            return None
        return value

    def status(self) -> str:
        """Return the workflow status: published, draft, review or archived (published when absent)."""
        value = self.meta.get("status", "published")
        if value is None:
            return "published"
        if value not in STATUSES:
            allowed = ", ".join(f"'{s}'" for s in STATUSES)
            self.add("status", f"'status' phải là một trong {allowed}, không phải '{value}'")
            return "draft"
        return value

    def source(self) -> Source | None:
        """Return the source mapping (title, url, date), if any."""
        value = self.meta.get("source")
        if value is None:
            return None
        if isinstance(value, str):
            return Source(title=" ".join(normalize_text(value).split()))
        if not isinstance(value, dict):
            self.add("source", "'source' phải gồm các khóa title, url, date")
            return None
        unknown = sorted(set(map(str, value)) - {"title", "url", "date"})
        if unknown:
            self.add("source", f"khóa lạ trong 'source': {', '.join(unknown)}", warning=True)
        url = value.get("url")
        if url is not None and not (isinstance(url, str) and url.startswith(("http://", "https://"))):
            self.add("source", "'source.url' phải là địa chỉ bắt đầu bằng http:// hoặc https://")
            url = None
        date = value.get("date")
        if isinstance(date, (dt.date, dt.datetime)):
            date = date.isoformat()
        title = value.get("title")
        return Source(
            title=" ".join(normalize_text(str(title)).split()) if title else None,
            url=url,
            date=str(date) if date else None,
        )

    def attachments(self) -> tuple[Attachment, ...]:
        """Return the list of attachments: each a file name (with a caption and a credit, optional)."""
        value = self.meta.get("attachments")
        if value in (None, []):
            return ()
        if not isinstance(value, list):
            self.add("attachments", "'attachments' phải là một danh sách, mỗi mục có 'file' (và 'caption', 'credit')")
            return ()
        found: dict[str, Attachment] = {}
        for i, item in enumerate(value):
            key = f"attachments[{i}]" if f"attachments[{i}]" in self.lines else "attachments"
            if isinstance(item, str):
                item = {"file": item}
            if not isinstance(item, dict) or not isinstance(item.get("file"), str):
                self.add(key, "mỗi tệp đính kèm cần khóa 'file' là tên tệp, ví dụ: file: anh-tu-thuoc.jpg")
                continue
            name = item["file"].strip()
            if not ATTACHMENT_RE.match(name):
                self.add(key, f"tên tệp đính kèm '{name}' không hợp lệ: chữ thường không dấu, số, dấu '-' và một "
                              "phần mở rộng jpg, png, webp, pdf, docx hoặc xlsx")  # fmt: skip
                continue
            unknown = sorted(set(map(str, item)) - {"file", "caption", "credit"})
            if unknown:
                self.add(key, f"khóa lạ trong tệp đính kèm '{name}': {', '.join(unknown)}", warning=True)
            texts = {}
            for part in ("caption", "credit"):
                text = " ".join(normalize_text(str(item.get(part) or "")).split())
                if len(text) > CAPTION_MAX:
                    self.add(key, f"'{part}' của tệp '{name}' dài {len(text)} ký tự, tối đa {CAPTION_MAX}")
                texts[part] = text or None
            if name in found:
                self.add(key, f"tệp đính kèm '{name}' được liệt kê hai lần", warning=True)
                continue
            found[name] = Attachment(name, **texts)
        return tuple(found.values())

    def build(self, body: str, digest: str, allowed: tuple[str, ...]) -> Entry | None:
        """Check every key and return the Entry (None if a required value is missing)."""
        for key in self.meta:
            if key not in KEYS:
                close = difflib.get_close_matches(str(key), KEYS, n=1)
                hint = f"; có phải là '{close[0]}'?" if close else ""
                self.add(str(key), f"khóa lạ '{key}' sẽ bị bỏ qua{hint}", warning=True)
        title = self.text("title", required=True)
        if title and (problem := title_problem(title)):
            self.add("title", problem)
            title = None
        summary = self.text("summary", required=True)
        unit = self.text("unit", required=True)
        fields = self.fields(allowed)
        if summary and len(summary) > SUMMARY_MAX:
            self.add("summary", f"'summary' dài {len(summary)} ký tự, tối đa {SUMMARY_MAX}")
        entry_values = dict(
            province=self.text("province"),
            tags=self.string_list("tags"),
            year=self.year(),
            status=self.status(),
            source=self.source(),
            contact=self.text("contact"),
            attachments=self.attachments(),
        )
        slug = self.slug(title)
        if not body.strip():
            self.problems.append(Problem(self.rel, self.lines["__body__"], "nội dung trống", True))
        for line, section in leftover_guidance(body):  # help from the new-entry form, not content
            msg = f"câu gợi ý của phần “{section.heading}” vẫn còn trong nội dung: hãy thay bằng nội dung thật"
            self.problems.append(Problem(self.rel, self.lines["__text__"] + line - 1, msg, True))
        if not (title and summary and unit and fields and slug):
            return None
        return Entry(
            slug=slug,
            path=self.rel,
            title=title,
            summary=summary,
            unit=unit,
            fields=fields,
            body=normalize_text(body),
            content_hash=digest,
            warnings=tuple(p for p in self.problems if p.warning),
            **entry_values,
        )

    def slug(self, title: str | None) -> str | None:
        """Return the slug named by the file, which must be a valid slug."""
        stem = Path(self.rel).stem
        expected = slugify(title) if title else ""
        if not SLUG_RE.match(stem):
            hint = f" ('{expected}.md')" if expected else ""
            self.problems.append(Problem(
                self.rel, 1,
                "tên tệp phải là slug: chữ thường không dấu, số và dấu '-'" + hint,
            ))  # fmt: skip
            return None
        # A file name that differs from the title's slug is no problem: a title may be edited
        # after the entry was created, and its address (the slug) must not change with it.
        return stem
