"""Bulk import from a spreadsheet: rows become drafts, checked first (a dry run), then saved one by one.

A row is checked the way a save checks the edit form: its values become a `Draft`, composed into
the entry file (kb/drafts.py) and read back by `parse_entry` — the very check `save_entry` and
`kb check` run — so an import accepts exactly what the form accepts. Only what a spreadsheet adds
is checked here: its headers, a year or date typed in a cell, field and province names spelled
without accents, and the form's length limits.

A row matches an existing entry by title and unit, compared after normalising (case, spaces,
Unicode NFC, tone placement: "hoà" = "hòa"). A matching draft is updated (re-running a file
updates the drafts it made); an entry in review, published or archived is never touched. Each
row is saved with `save_entry`, all or nothing across file, database, index and audit; a row
with an error is listed and skipped, and the other rows are still saved.
"""

from __future__ import annotations

import difflib
import re
import time
from contextlib import suppress
from dataclasses import dataclass, field, replace
from pathlib import Path

import sqlite_utils
import yaml

from indexer import fold_accents, normalize_text

from .dates import DateError, parse_date
from .drafts import BODY_TEMPLATE, STATUS_LABELS, Draft, compose, read_draft
from .editing import Note, Who, file_state, save_entry
from .entries import InvalidEntry, Problem, load_fields, parse_entry
from .spreadsheets import HEADER_ROWS, Sheet, SheetRefused, misencoded
from .store import StoreBusy, write_audit, write_transaction
from .vocabulary import load_vocabulary

__all__ = [
    "COLUMNS",
    "LENGTHS",
    "ImportPlan",
    "RowResult",
    "apply_import",
    "column_notes",
    "match_key",
    "plan_import",
]

# Each column: the Draft attribute it fills -> its header in the template, then other headers accepted.
COLUMNS: dict[str, tuple[str, ...]] = {
    "title": ("Tên mô hình", "Tiêu đề", "Tên"),
    "summary": ("Tóm tắt",),
    "unit": ("Đơn vị",),
    "province": ("Tỉnh, thành phố", "Tỉnh/thành phố", "Tỉnh thành", "Tỉnh"),
    "fields": ("Lĩnh vực",),
    "tags": ("Từ khóa",),
    "year": ("Năm",),
    "source_title": ("Tên nguồn", "Nguồn"),
    "source_url": ("Địa chỉ nguồn", "URL nguồn", "Đường dẫn nguồn"),
    "source_date": ("Ngày của nguồn", "Ngày nguồn"),
    "contact": ("Liên hệ",),
    "body": ("Nội dung",),
}
REQUIRED = ("title", "summary", "unit", "fields")
# The edit form's length limits (kb/web/forms.py EntryForm; tests/test_importing.py checks they agree).
LENGTHS = {"title": 200, "unit": 200, "province": 100, "tags": 500, "source_title": 300, "contact": 300,
           "body": 200_000}  # fmt: skip
_PROVINCE_PREFIX = re.compile(r"^(tinh|thanh pho|tp\.?)\s+")


def _key(text: str) -> str:
    """Return text folded for comparing names: no accents or case, punctuation and spaces collapsed."""
    return " ".join(re.sub(r"[^\w]+", " ", fold_accents(normalize_text(text)).casefold()).split())


def match_key(title: str, unit: str) -> tuple[str, str]:
    """Return what identifies a row's entry: title and unit in NFC, canonical tones, one case, single spaces."""
    title, unit = (" ".join(normalize_text(v).casefold().split()) for v in (title, unit))
    return title, unit


def _header_key(text: str) -> str:
    """Return a header as compared: its words without accents or case, hints in brackets and '*' left out."""
    return _key(re.sub(r"\([^)]*\)|\*", " ", text))


_HEADERS = {_header_key(name): column for column, names in COLUMNS.items() for name in names}
LABELS = {column: names[0] for column, names in COLUMNS.items()}


@dataclass
class RowResult:
    """What one row will do (dry run) or did: create, update, unchanged, kept (not a draft) or error."""

    row: int
    title: str
    action: str
    messages: list[str] = field(default_factory=list)
    slug: str = ""
    draft: Draft | None = None
    base_hash: str = ""

    @property
    def label(self) -> str:
        """Return the action as the results table says it."""
        return ACTION_LABELS[self.action]


ACTION_LABELS = {
    "create": "Tạo bản nháp mới",
    "update": "Cập nhật bản nháp",
    "unchanged": "Không đổi",
    "kept": "Bỏ qua",
    "error": "Lỗi, bỏ qua",
    "created": "Đã tạo bản nháp",
    "updated": "Đã cập nhật bản nháp",
    "later": "Chưa nhập: hết thời gian của một lần nhập",
}


@dataclass
class ImportPlan:
    """A file's rows and what each will do; problems of the file as a whole (e.g. ignored columns)."""

    name: str
    rows: list[RowResult]
    notes: list[str] = field(default_factory=list)

    def count(self, *actions: str) -> int:
        """Return how many rows have one of the actions."""
        return sum(r.action in actions for r in self.rows)

    @property
    def to_save(self) -> int:
        """Return how many rows a confirmation would save."""
        return self.count("create", "update")

    def summary(self, done: bool = False) -> str:
        """Return the counts in Vietnamese: created, updated, unchanged, errors (and entries left alone)."""
        made, changed = ("created", "updated") if done else ("create", "update")
        parts = [f"{'đã tạo' if done else 'tạo mới'} {self.count(made)}",
                 f"{'đã cập nhật' if done else 'cập nhật'} {self.count(changed)}",
                 f"không đổi {self.count('unchanged')}", f"lỗi {self.count('error')}"]  # fmt: skip
        if kept := self.count("kept"):
            parts.append(f"không ghi đè {kept}")
        if later := self.count("later"):
            parts.append(f"chưa nhập {later}")
        return ", ".join(parts)


def column_notes(fields: tuple[str, ...]) -> list[tuple[str, str]]:
    """Return (header, how to fill it) for every column, for the template and the admin page."""
    how = {
        "title": "Bắt buộc. Tối đa 200 ký tự. Cùng tên mô hình và đơn vị với một bản nháp đã có thì bản nháp đó "
        "được cập nhật.",
        "summary": "Bắt buộc. Một đoạn, tối đa 600 ký tự.",
        "unit": "Bắt buộc. Ví dụ: Đồn Biên phòng Thanh Thủy.",
        "province": "Tên tỉnh, thành phố hôm nay hoặc tên trước sắp xếp năm 2025 (được giữ như viết).",
        "fields": "Bắt buộc. Một hoặc nhiều lĩnh vực, cách nhau bằng dấu chấm phẩy: " + "; ".join(fields) + ".",
        "tags": "Các từ khóa, cách nhau bằng dấu phẩy.",
        "year": "Năm bắt đầu áp dụng, ví dụ 2022.",
        "source_title": "Tên văn bản, bài báo… nêu mô hình.",
        "source_url": "Bắt đầu bằng http:// hoặc https://.",
        "source_date": "15/06/2024, 06/2024 hoặc 2024.",
        "contact": "Người hoặc đơn vị liên hệ.",
        "body": "Nội dung (Markdown). Để trống thì bản nháp có sẵn các phần nên viết; khi cập nhật, để trống thì "
        "giữ nội dung đã có.",
    }
    return [(LABELS[column], how[column]) for column in COLUMNS]


def _find_header(sheet: Sheet) -> tuple[int, dict[int, str], list[str]]:
    """Return the header row's position in sheet.rows, its column -> Draft attribute, and notes; raise SheetRefused."""
    for at, (number, cells) in enumerate(sheet.rows[:HEADER_ROWS]):
        keys = [_header_key(c) for c in cells]
        if not any(_HEADERS.get(k) == "title" for k in keys):
            continue
        columns: dict[int, str] = {}
        notes: list[str] = []
        seen: dict[str, int] = {}
        for index, (key, cell) in enumerate(zip(keys, cells, strict=True)):
            column = _HEADERS.get(key)
            if column is None:
                if cell:
                    notes.append(f"Cột “{cell}” (dòng {number}) không thuộc mẫu nên được bỏ qua.")
                continue
            if column in seen:
                raise SheetRefused(f"Tệp “{sheet.name}”: cột “{LABELS[column]}” có hai lần trong dòng tiêu đề "
                                   f"(dòng {number}). Hãy giữ một cột.")  # fmt: skip
            seen[column] = index
            columns[index] = column
        missing = [LABELS[c] for c in REQUIRED if c not in seen]
        if missing:
            names = ", ".join(f"“{m}”" for m in missing)
            raise SheetRefused(f"Tệp “{sheet.name}”: dòng tiêu đề (dòng {number}) thiếu cột bắt buộc {names}.")
        return at, columns, notes
    first = " ".join(sheet.rows[0][1]) if sheet.rows else ""
    if misencoded(first):
        raise SheetRefused(f"Tệp “{sheet.name}” bị sai bảng mã: chữ có dấu hiện thành “{first[:40]}”. Hãy lưu lại "
                           "tệp với bảng mã UTF-8 (trong Excel: “CSV UTF-8”).")  # fmt: skip
    if not sheet.rows:
        raise SheetRefused(f"Tệp “{sheet.name}” không có dòng nào.")
    raise SheetRefused(f"Tệp “{sheet.name}”: không tìm thấy dòng tiêu đề (cần ít nhất các cột "
                       + ", ".join(f"“{LABELS[c]}”" for c in REQUIRED) + "). Hãy dùng tệp mẫu.")  # fmt: skip


class _Row:
    """One row's cells by column, and the problems found in them, each naming the row and the column."""

    def __init__(self, number: int, cells: dict[str, str]) -> None:
        self.number, self.cells, self.messages, self.notes = number, cells, [], []

    def error(self, column: str, message: str) -> None:
        """Record a problem in a column."""
        self.messages.append(self._said(column, message))

    def note(self, column: str, message: str) -> None:
        """Record something worth knowing about a column that is no error."""
        self.notes.append(self._said(column, message))

    def _said(self, column: str, message: str) -> str:
        """Return a message naming the row and the column, as the spreadsheet shows them."""
        text = message[0].upper() + message[1:] if message else message
        return f"Dòng {self.number}, cột “{LABELS[column]}”: {text}"


def _split_items(text: str, known: dict[str, str]) -> list[str]:
    """Split a cell of names at ';' and ','; a known name that holds a comma ("Phòng, chống…") stays whole."""
    items: list[str] = []
    for piece in (p.strip() for p in text.replace("\n", ";").split(";")):
        tokens = [t.strip() for t in piece.split(",")]
        start = 0
        while start < len(tokens):
            for end in range(len(tokens), start, -1):  # the longest run of tokens that names a known item
                joined = ", ".join(tokens[start:end])
                if _key(joined) in known:
                    items.append(known[_key(joined)])
                    start = end
                    break
            else:
                items.append(tokens[start])
                start += 1
    return [i for i in dict.fromkeys(items) if i]


def _province(row: _Row, text: str, regions: dict[str, str]) -> str:
    """Return a province as places.yml spells it; a former name is kept, and noted (any name without places.yml)."""
    if not text or not regions:
        return text
    names = {_key(name): name for name in regions}
    key = _key(text)
    found = names.get(key) or names.get(_PROVINCE_PREFIX.sub("", key))
    if found is None:
        close = difflib.get_close_matches(key, list(names), n=1, cutoff=0.75)
        hint = f"; có phải là “{names[close[0]]}”?" if close else ""
        row.error("province", f"“{text}” không phải tên tỉnh, thành phố trong danh sách (content/places.yml){hint}")
        return text
    if regions[found] != found:  # kept as written, like the form: the entry tells of its time
        row.note("province", f"“{found}” là tên trước năm 2025, nay thuộc {regions[found]}; tên được giữ như đã ghi")
    return found


def _year(row: _Row, text: str) -> int | None:
    """Return a year typed in a cell (range checked by parse_entry), or None."""
    if not text:
        return None
    if re.fullmatch(r"\d{4}", text):
        return int(text)
    row.error("year", f"“{text}” không phải một năm; hãy ghi bốn chữ số, ví dụ 2022")
    return None


def _draft(row: _Row, fields: dict[str, str], regions: dict[str, str], old: Draft | None) -> Draft:
    """Return the row's Draft: the columns present replace the old draft's values (a new one starts empty)."""
    cells = row.cells
    for column, limit in LENGTHS.items():
        if len(cells.get(column, "")) > limit:
            row.error(column, f"dài {len(cells[column]):,} ký tự, tối đa {limit:,}".replace(",", " "))
    values: dict = {}
    for column in ("title", "summary", "unit", "contact", "source_title", "source_url"):
        if column in cells:
            values[column] = cells[column]
    if "province" in cells:
        values["province"] = _province(row, cells["province"], regions)
    if "fields" in cells:
        values["fields"] = _split_items(cells["fields"], fields)
    if "tags" in cells:
        values["tags"] = _split_items(cells["tags"], {})
    if "year" in cells:
        values["year"] = _year(row, cells["year"])
    if "source_date" in cells:
        try:
            values["source_date"] = parse_date(cells["source_date"]) if cells["source_date"] else ""
        except DateError as exc:
            row.error("source_date", str(exc))
    if cells.get("body"):  # an empty body keeps what the draft has (a new draft: the recommended sections)
        values["body"] = cells["body"]
    if old is not None:  # matched by title and unit: kept as they are spelled in the draft
        values.pop("title", None)
        values.pop("unit", None)
    base = old if old is not None else Draft(body=BODY_TEMPLATE)
    return replace(base, **values, status="draft")


def _column_of(problem: Problem, text: str) -> str:
    """Return the column a problem of a composed entry file is about, from the key at its line."""
    lines = text.split("\n")
    close = next((i for i, line in enumerate(lines[1:], 2) if line.startswith("---")), len(lines))
    if problem.line >= close:
        return "body"
    key = ""
    for line in lines[1 : problem.line]:
        if match := re.match(r"([a-z_]+):", line):
            key = match[1]
    if key == "source":
        return "source_url" if "url" in problem.message else "source_title"
    return key if key in COLUMNS else "title"  # the file name (slug) and the status come from the title


def _check(row: _Row, draft: Draft, old_text: str | None, rel: str, allowed: tuple[str, ...]) -> str:
    """Compose the entry file and check it as a save does; record each problem in its column. Return the text."""
    text = compose(draft, old_text)
    try:
        parse_entry(text.encode("utf-8"), rel, allowed)
    except InvalidEntry as exc:
        for problem in exc.problems:
            row.error(_column_of(problem, text), problem.message)
    return text


@dataclass
class _Known:
    """What every row is checked against: the entries by title and unit, the fields and places, earlier rows."""

    content_dir: Path
    db: sqlite_utils.Database
    allowed: tuple[str, ...]  # fields.yml
    fields: dict[str, str] = field(default_factory=dict)  # folded name -> as fields.yml spells it
    regions: dict[str, str] = field(default_factory=dict)  # places.yml: any name -> today's province
    entries: dict[tuple[str, str], list[dict]] = field(default_factory=dict)  # by match_key
    rows: dict[tuple[str, str], int] = field(default_factory=dict)  # the file's first row of each match_key


def plan_import(sheet: Sheet, content_dir: Path, db: sqlite_utils.Database) -> ImportPlan:
    """Check every row and decide what it will do, writing nothing (the dry run); raise SheetRefused."""
    at, columns, notes = _find_header(sheet)
    allowed = load_fields(content_dir / "fields.yml")
    known = _Known(content_dir, db, allowed, {_key(name): name for name in allowed},
                   load_vocabulary(content_dir).regions)  # fmt: skip
    for entry in db.query("SELECT slug, title, unit, status FROM entries"):
        known.entries.setdefault(match_key(entry["title"], entry["unit"]), []).append(entry)
    results = []
    for number, cells in sheet.rows[at + 1 :]:
        row = _Row(number, {column: cells[i] if i < len(cells) else "" for i, column in columns.items()})
        if any(row.cells.values()):
            results.append(_plan_row(row, known))
    if not results:
        raise SheetRefused(f"Tệp “{sheet.name}” không có dòng dữ liệu nào dưới dòng tiêu đề.")
    return ImportPlan(sheet.name, results, notes)


def _plan_row(row: _Row, known: _Known) -> RowResult:
    """Decide one row: an error, an entry left alone, a new draft, an update, or nothing to change."""
    title = row.cells.get("title", "")
    key = match_key(title, row.cells.get("unit", ""))
    if key in known.rows and title:
        row.error("title", f"trùng tên mô hình và đơn vị với dòng {known.rows[key]}; dòng này bị bỏ qua")
        return RowResult(row.number, title, "error", row.messages)
    known.rows.setdefault(key, row.number)
    matches = known.entries.get(key, []) if title else []
    if len(matches) > 1:
        names = ", ".join(m["slug"] for m in matches)
        row.error("title", f"khớp với nhiều mục đã có ({names}); hãy sửa các mục đó trên trang Biên tập")
        return RowResult(row.number, title, "error", row.messages)
    match = matches[0] if matches else None
    if match is not None and match["status"] != "draft":
        state = STATUS_LABELS.get(match["status"], match["status"]).lower()
        said = "đã xuất bản" if match["status"] == "published" else f"đang ở trạng thái “{state}”"
        return RowResult(row.number, title, "kept", [f"Dòng {row.number}: {said}, không ghi đè"], match["slug"])
    old_text, base_hash, old = None, "", None
    if match is not None:
        state = file_state(known.content_dir, known.db, match["slug"])
        try:
            old = read_draft(state[0])[0] if state is not None else None
        except yaml.YAMLError:
            old = None
        if state is None or old is None:
            row.error("title", f"tệp của bản nháp khớp với dòng này (“{match['slug']}”) không còn hoặc có lỗi; hãy "
                      "chạy 'kb check' rồi nhập lại")  # fmt: skip
            return RowResult(row.number, title, "error", row.messages)
        old_text, base_hash = state[0].decode("utf-8", "replace"), state[1]
    draft = _draft(row, known.fields, known.regions, old)
    rel = f"models/{match['slug']}.md" if match else "models/ban-nhap-nhap-tu-bang-tinh.md"
    text = _check(row, draft, old_text, rel, known.allowed)
    if row.messages:
        return RowResult(row.number, title, "error", row.messages)
    if match is None:
        return RowResult(row.number, draft.title, "create", row.notes, "", draft)
    if text == old_text:
        return RowResult(row.number, draft.title, "unchanged", [], match["slug"])
    return RowResult(row.number, draft.title, "update", row.notes, match["slug"], draft, base_hash)


def apply_import(
    plan: ImportPlan,
    content_dir: Path,
    data_dir: Path,
    db: sqlite_utils.Database,
    who: Who,
    budget: float | None = None,
) -> ImportPlan:
    """Save the rows a plan creates or updates, each all or nothing; return the plan with what each row did.

    With a budget (seconds), rows not reached in time are left "later": importing the file again
    goes on from there, since the rows saved are then unchanged.
    """
    stop = time.monotonic() + budget if budget is not None else None
    tried = 0
    for result in plan.rows:
        if result.action not in ("create", "update") or result.draft is None:
            continue
        if stop is not None and tried and time.monotonic() > stop:  # at least one row a time: always progress
            result.action = "later"
            continue
        tried += 1
        new = result.action == "create"
        detail = f"Nhập từ bảng tính “{plan.name}”, dòng {result.row}"
        outcome = save_entry(
            content_dir, data_dir, db, result.draft, slug=None if new else result.slug, base_hash=result.base_hash,
            author=who, comment=detail, notes=(Note("create" if new else "save", detail),),
        )  # fmt: skip
        if outcome.outcome == "saved":
            result.action, result.slug = ("created" if new else "updated"), outcome.slug
        else:
            result.action = "error"
            result.messages = [f"Dòng {result.row}: " + _unsaved(outcome.outcome, outcome.problems)]
    with suppress(StoreBusy), write_transaction(db) as conn:  # each saved row has its own line already
        write_audit(conn, who.name, "import", plan.name, plan.summary(done=True), who.address)
    return plan


def _unsaved(outcome: str, problems: list[Problem]) -> str:
    """Say why a row checked in the dry run was not saved after all."""
    if outcome == "busy":
        return "hệ thống đang bận ghi dữ liệu khác nên chưa lưu; hãy nhập lại tệp sau ít phút (không bị trùng)"
    if outcome == "conflict":
        return "bản nháp vừa được sửa trong lúc nhập nên không ghi đè; hãy nhập lại tệp"
    return "không lưu được: " + "; ".join(p.message for p in problems)
