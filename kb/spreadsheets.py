"""Spreadsheets people upload for a bulk import: XLSX or CSV, read into rows of text, within bounds.

The type comes from the bytes (kb/uploads.py `sniff`, which also bounds the zip and parses every
XML part with defusedxml) before openpyxl opens anything; openpyxl reads in read-only mode with
cached values (no formulas evaluated). A CSV is UTF-8 (with or without a byte-order mark), its
cells separated by commas or semicolons (Excel in Vietnam often writes semicolons). Everything a
person can get wrong is a SheetRefused with a Vietnamese message naming the file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from dataclasses import dataclass

from .uploads import FileRefused, Limits, display_name, sniff

__all__ = ["CELL_MAX", "MAX_COLUMNS", "MAX_ROWS", "Sheet", "SheetRefused", "read_sheet", "template_csv",
           "template_xlsx"]  # fmt: skip

MAX_ROWS = 2_000  # rows of data in one file; more is several files (and a long wait for one request)
MAX_COLUMNS = 40  # columns read; the template has 12
CELL_MAX = 200_000  # characters kept of a cell: the longest body the edit form takes, plus one to tell
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
        for values in reader:
            cells = [_text(v) for v in values[:MAX_COLUMNS]]
            _keep(rows, reader.line_num, cells, shown)
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
