"""The text inside a document: a PDF, a Word file (DOCX) or plain text, for search and for drafting.

A PDF is read by pypdf in a separate process, stopped after PDF_SECONDS and held to a memory
ceiling: a crafted PDF can make a parser loop or swell, and no web worker or reindex may wait on
it. A DOCX has passed uploads.check_office (bounded archive, XML through defusedxml) before
python-docx reads it. What comes out is bounded to MAX_CHARS characters.
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
from dataclasses import dataclass, field

from .uploads import FileRefused, Limits, check_office, display_name

__all__ = ["MAX_CHARS", "PDF_SECONDS", "Block", "Extracted", "extract"]

PDF_SECONDS = float(os.environ.get("KB_PDF_SECONDS", "") or 15)
PDF_MEMORY = 1024 * 1024 * 1024  # bytes of address space for the PDF reader
MAX_PAGES = 500
MAX_CHARS = 1_000_000  # about 300 pages of text


@dataclass
class Block:
    """A paragraph of a document; level 1–3 for a heading, 0 for text."""

    text: str
    level: int = 0


@dataclass
class Extracted:
    """What a document says, paragraph by paragraph, and what it says about itself."""

    blocks: list[Block] = field(default_factory=list)
    title: str = ""  # the document's own title property, if any
    truncated: bool = False

    @property
    def text(self) -> str:
        return "\n\n".join(b.text for b in self.blocks)


def extract(data: bytes, ext: str, name: str = "", limits: Limits | None = None) -> Extracted:
    """Return the text of a document (pdf, docx, txt); raise FileRefused if it cannot be read in bounds."""
    if ext == "pdf":
        return _pdf(data, name)
    if ext == "docx":
        check_office(data, display_name(name), limits or Limits.from_env())
        return _docx(data, name)
    if ext == "txt":
        return _bounded([Block(p.strip()) for p in _paragraphs(data.decode("utf-8-sig", "replace")) if p.strip()])
    return Extracted()


def _paragraphs(text: str) -> list[str]:
    """Return a plain text's paragraphs (blank lines between them, or one a line)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\n\n" in text.strip():
        return [" ".join(p.split()) for p in text.split("\n\n")]
    return text.split("\n")


def _bounded(blocks: list[Block], title: str = "") -> Extracted:
    """Return blocks cut to MAX_CHARS characters in all."""
    kept, total = [], 0
    for block in blocks:
        total += len(block.text) + 2
        if total > MAX_CHARS:
            return Extracted(kept, title, truncated=True)
        kept.append(block)
    return Extracted(kept, title)


_HEADING_NAMES = ("heading", "title", "tiêu đề", "đề mục")


def _docx(data: bytes, name: str) -> Extracted:
    """Return a Word file's paragraphs (headings by their style) and tables, in document order."""
    import docx  # python-docx: imported here, the site's other pages never need it
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many kinds on a damaged file
        raise FileRefused(f"Tệp “{display_name(name)}” bị hỏng: không đọc được nội dung Word.") from exc
    blocks = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = " ".join(item.text.split())
            if text:
                blocks.append(Block(text, _heading_level(item)))
        elif isinstance(item, Table):
            for row in item.rows:
                cells = []
                for cell in row.cells:
                    value = " ".join(cell.text.split())
                    if value and (not cells or cells[-1] != value):  # merged cells repeat their text
                        cells.append(value)
                if cells:
                    blocks.append(Block(" | ".join(cells)))
    title = (document.core_properties.title or "").strip()
    return _bounded(blocks, title)


def _heading_level(paragraph) -> int:
    """Return 1–3 for a heading paragraph (by its style's name, English or Vietnamese), else 0."""
    style = paragraph.style
    name = (style.name or "").lower() if style is not None else ""
    if name == "title":
        return 1
    if name.startswith(_HEADING_NAMES):
        digits = [ch for ch in name if ch.isdigit()]
        return min(int(digits[0]), 3) if digits else 1
    return 0


def _pdf(data: bytes, name: str) -> Extracted:
    """Return a PDF's text, page by page, read in a helper process bounded in time and memory."""
    shown = display_name(name)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "kb.extract"], input=data, capture_output=True, timeout=PDF_SECONDS,
            preexec_fn=_limit_memory, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        raise FileRefused(
            f"Không đọc được chữ trong tệp “{shown}” sau {PDF_SECONDS:g} giây (tệp PDF bất thường hoặc quá phức tạp)."
        ) from exc
    if done.returncode != 0:
        raise FileRefused(f"Tệp “{shown}” bị hỏng: không đọc được như tệp PDF.")
    found = json.loads(done.stdout)
    blocks = [Block(p) for page in found["pages"] for p in _paragraphs(page) if p.strip()]
    return _bounded(blocks, found.get("title", ""))


def _limit_memory() -> None:
    """In the helper process: a ceiling on memory, so a swelling PDF fails instead of the machine."""
    resource.setrlimit(resource.RLIMIT_AS, (PDF_MEMORY, PDF_MEMORY))


def _read_pdf_from_stdin() -> None:
    """The helper process: read a PDF from stdin, write {"pages": [...], "title": ...} as JSON."""
    import logging

    from pypdf import PdfReader

    logging.disable(logging.WARNING)  # pypdf warns on every odd object; the caller only needs the text
    reader = PdfReader(io.BytesIO(sys.stdin.buffer.read()), strict=False)
    pages, total = [], 0
    for number, page in enumerate(reader.pages):
        if number >= MAX_PAGES or total > MAX_CHARS:
            break
        text = page.extract_text() or ""
        pages.append(text)
        total += len(text)
    title = ""
    try:
        title = str((reader.metadata or {}).get("/Title") or "").strip()
    except Exception:  # a damaged information dictionary: the text is what matters
        title = ""
    json.dump({"pages": pages, "title": title}, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    _read_pdf_from_stdin()
