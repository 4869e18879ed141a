"""Spreadsheets people upload for a bulk import: XLSX or CSV, read into rows of text, within bounds.

The type comes from the bytes (kb/uploads.py `sniff`, which also bounds the zip and parses every
XML part with defusedxml) before openpyxl opens anything; openpyxl reads in read-only mode with
cached values (no formulas evaluated). A CSV is UTF-8 (with or without a byte-order mark), its
cells separated by commas or semicolons (Excel in Vietnam often writes semicolons). Everything a
person can get wrong is a SheetRefused with a Vietnamese message naming the file. Between the dry
run and its confirmation the uploaded file waits in the data folder (`keep_upload`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import secrets
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .editing import atomic_write
from .uploads import FileRefused, Limits, display_name, sniff

__all__ = ["CELL_MAX", "MAX_COLUMNS", "MAX_ROWS", "UPLOAD_TTL", "Sheet", "SheetRefused", "drop_upload", "keep_upload",
           "misencoded", "read_sheet", "take_upload", "template_csv", "template_xlsx"]  # fmt: skip

MAX_ROWS = 2_000  # rows of data in one file; more is several files (and a long wait for one request)
MAX_COLUMNS = 40  # columns read; the template has 12
CELL_MAX = 200_000  # characters kept of a cell: the longest body the edit form takes, plus one to tell
UPLOAD_TTL = 3600  # seconds an uploaded file waits for its confirmation
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")
HEADER_ROWS = 10  # the header row is looked for among the first rows (a title line may come first)
_UTF8_HINT = (
    "Hãy mở tệp trong Excel rồi lưu lại bằng “Lưu thành” → “CSV UTF-8 (phân cách bằng dấu phẩy)”, hoặc lưu thành .xlsx."
)


class SheetRefused(ValueError):
    """A file that cannot be read as a table; the message says why, in Vietnamese."""


@dataclass
class Sheet:
    """A table read from a file: its rows as text, each with its number as the spreadsheet shows it."""

    name: str  # the file's name as it may be shown
    kind: str  # "xlsx" or "csv"
    rows: list[tuple[int, list[str]]]  # (row number, cells), empty rows left out


def read_sheet(data: bytes, name: str, limits: Limits) -> Sheet:
    """Return the rows of an XLSX (its first sheet) or CSV file; raise SheetRefused."""
    shown = display_name(name)
    try:
        kind = sniff(data, name, limits, allow_text=True)
    except FileRefused as exc:
        if _legacy_text(data):
            raise SheetRefused(f"Tệp “{shown}” không được lưu bằng bảng mã UTF-8 (có thể là Windows-1258, "
                               f"TCVN3 hoặc VNI). {_UTF8_HINT}") from None  # fmt: skip
        raise SheetRefused(str(exc)) from None
    if kind == "xlsx":
        rows = _xlsx_rows(data, shown)
    elif kind == "txt":
        rows = _csv_rows(data.decode("utf-8-sig"), shown)
    else:
        raise SheetRefused(f"Tệp “{shown}” không phải bảng tính. Chỉ nhận tệp Excel (.xlsx) hoặc CSV (.csv).")
    return Sheet(shown, "xlsx" if kind == "xlsx" else "csv", rows)


def _legacy_text(data: bytes) -> bool:
    """Return whether data looks like text in an 8-bit encoding (no NUL bytes, not UTF-8)."""
    head = data[:4096]
    if b"\x00" in head:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def misencoded(text: str) -> bool:
    """Return whether UTF-8 text was read as Windows-1252 and saved again ("TÃªn mÃ´ hÃ¬nh")."""
    try:
        return text.encode("cp1252").decode("utf-8") != text
    except (UnicodeEncodeError, UnicodeDecodeError):
        return False


def _text(value: object) -> str:
    """Return a cell's value as text: a date as ISO, a whole number without '.0', text in NFC, trimmed."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.date() if value.time() == dt.time() else value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = unicodedata.normalize("NFC", str(value)[: CELL_MAX + 1])
    return text.replace("\r\n", "\n").strip()


def _keep(rows: list[tuple[int, list[str]]], number: int, cells: list[str], shown: str) -> None:
    """Add a non-empty row, refusing a file with more rows than MAX_ROWS (plus its header)."""
    if not any(cells):
        return
    if len(rows) >= MAX_ROWS + HEADER_ROWS:
        many = f"{MAX_ROWS:,}".replace(",", " ")
        raise SheetRefused(f"Tệp “{shown}” có hơn {many} dòng; hãy chia thành nhiều tệp nhỏ hơn.")
    while cells and not cells[-1]:
        cells.pop()
    rows.append((number, cells))


def _xlsx_rows(data: bytes, shown: str) -> list[tuple[int, list[str]]]:
    """Read the first sheet of a workbook already checked by sniff."""
    import openpyxl  # only for imports: the site does not pay for it at start

    rows: list[tuple[int, list[str]]] = []
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file; every one means the same
        raise SheetRefused(f"Tệp “{shown}” bị hỏng hoặc không phải bảng tính Excel (.xlsx) đọc được.") from exc
    try:
        if not book.worksheets:
            raise SheetRefused(f"Tệp “{shown}” không có trang tính nào.")
        sheet = book.worksheets[0]
        try:
            for number, values in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), 1):
                _keep(rows, number, [_text(v) for v in values], shown)
        except SheetRefused:
            raise
        except Exception as exc:  # a damaged sheet part, found while reading it
            raise SheetRefused(f"Tệp “{shown}” bị hỏng: không đọc được trang tính đầu tiên.") from exc
    finally:
        book.close()
    return rows


def _csv_rows(text: str, shown: str) -> list[tuple[int, list[str]]]:
    """Read CSV text separated by commas or semicolons, whichever splits its first lines into more cells."""
    head = text.splitlines()[:HEADER_ROWS]
    delimiter = max((",", ";", "\t"), key=lambda d: max((len(next(csv.reader([line], delimiter=d), []))
                                                          for line in head), default=0))  # fmt: skip
    rows: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for number, values in enumerate(reader, 1):  # records, as Excel numbers its rows (a cell may hold lines)
            _keep(rows, number, [_text(v) for v in values[:MAX_COLUMNS]], shown)
    except csv.Error as exc:
        raise SheetRefused(f"Tệp “{shown}” không đọc được như CSV (dòng {reader.line_num}): {exc}.") from None
    return rows


def template_xlsx(headers: list[str], notes: list[tuple[str, str]], example: list[str]) -> bytes:
    """Return an empty workbook to fill: the headers on the first sheet, a guide to each column on the second."""
    import openpyxl
    from openpyxl.styles import Alignment, Font

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Mô hình"
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[cell.column_letter].width = 40 if cell.value in ("Tóm tắt", "Nội dung") else 22
    sheet.freeze_panes = "A2"
    guide = book.create_sheet("Hướng dẫn")
    guide.append(["Cột", "Cách điền"])
    for cell in guide[1]:
        cell.font = Font(bold=True)
    for row in notes:
        guide.append(list(row))
    guide.append([])
    guide.append(["Ví dụ một dòng (điền ở trang “Mô hình”, từ dòng 2):"])
    for header, value in zip(headers, example, strict=True):
        guide.append([header, value])
    guide.column_dimensions["A"].width = 24
    guide.column_dimensions["B"].width = 100
    for row in guide.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def template_csv(headers: list[str]) -> bytes:
    """Return a CSV of the header row alone, UTF-8 with a byte-order mark (so Excel reads the accents)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(headers)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# Between the dry run and its confirmation the file waits in the data folder under a random token,
# for UPLOAD_TTL seconds, for the admin who uploaded it only. Keeping it on the server means the
# confirmation needs no second upload (a file field cannot be refilled without JavaScript), and
# the file is read and checked again at confirmation, so what is saved is what the rows say then.


def _uploads(data_dir: Path) -> Path:
    """Return the folder where uploads wait for their confirmation, made readable by the site alone."""
    path = data_dir / "imports"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def keep_upload(data_dir: Path, data: bytes, name: str, owner: str) -> str:
    """Keep an uploaded file for its confirmation; return its token (older uploads are removed)."""
    folder = _uploads(data_dir)
    for meta in folder.glob("*.json"):  # expired ones, and any left by a crash
        if meta.stat().st_mtime < time.time() - UPLOAD_TTL:
            drop_upload(data_dir, meta.stem)
    token = secrets.token_urlsafe(24)
    atomic_write(folder / f"{token}.data", data)
    about = {"name": name, "owner": owner, "at": dt.datetime.now(dt.UTC).isoformat()}
    atomic_write(folder / f"{token}.json", json.dumps(about, ensure_ascii=False).encode("utf-8"))
    for part in (folder / f"{token}.data", folder / f"{token}.json"):
        part.chmod(0o600)
    return token


def take_upload(data_dir: Path, token: str, owner: str) -> tuple[bytes, str] | None:
    """Return a kept file and its name, if the token is one, not expired and kept for this owner."""
    if not _TOKEN.fullmatch(token or ""):
        return None
    folder = data_dir / "imports"
    try:
        meta_path = folder / f"{token}.json"
        if meta_path.stat().st_mtime < time.time() - UPLOAD_TTL:
            drop_upload(data_dir, token)
            return None
        about = json.loads(meta_path.read_text(encoding="utf-8"))
        data = (folder / f"{token}.data").read_bytes()
    except (OSError, ValueError):
        return None
    if about.get("owner") != owner:
        return None
    return data, str(about.get("name") or "")


def drop_upload(data_dir: Path, token: str) -> None:
    """Remove a kept file (after its confirmation, or once expired)."""
    if not _TOKEN.fullmatch(token or ""):
        return
    for suffix in (".data", ".json"):
        (data_dir / "imports" / f"{token}{suffix}").unlink(missing_ok=True)
