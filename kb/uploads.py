"""Files people upload: their type told by content, their size bounded, photos stripped of metadata.

Every check here runs before anything is stored. A refusal is a FileRefused whose message is
for the person who uploaded the file, in Vietnamese, naming the file.

- The type comes from the bytes (filetype), never from the name: an HTML page renamed `.jpg`
  is refused. Allowed: JPEG, PNG, WebP, PDF, DOCX, XLSX (and plain text where a form asks for
  a document to read).
- DOCX and XLSX are zip archives: the sum of their members' sizes, their number and their
  compression ratio are bounded before a byte is inflated, and every XML part is parsed by
  defusedxml (no DTD, no entities) before any library reads it.
- Photos are decoded under Pillow's decompression-bomb guard (a pixel budget), turned upright
  by their EXIF orientation, then re-encoded from pixels alone: GPS position, camera, dates,
  comments and colour profiles are all dropped. A display size and a thumbnail are made.
"""

from __future__ import annotations

import io
import os
import re
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass

import defusedxml.ElementTree as SafeET
import filetype
from defusedxml import DefusedXmlException
from PIL import Image, ImageOps

from .slugs import slugify

__all__ = [
    "IMAGE_KINDS",
    "KINDS",
    "FileRefused",
    "Limits",
    "PreparedImage",
    "check_office",
    "human_size",
    "prepare_image",
    "safe_name",
    "sniff",
]

# What an attachment may be: the extension it is stored with, by the type its content shows.
KINDS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
}
IMAGE_KINDS = {"jpg", "png", "webp"}
KIND_LABELS = {"jpg": "Ảnh JPEG", "png": "Ảnh PNG", "webp": "Ảnh WebP", "pdf": "PDF", "docx": "Word (DOCX)",
               "xlsx": "Excel (XLSX)", "txt": "Văn bản"}  # fmt: skip
MB = 1024 * 1024


def _env_int(name: str, default: int) -> int:
    """Return a whole number from the environment, or default when unset or not a number."""
    try:
        return int(os.environ.get(name, "") or default)
    except ValueError:
        return default


@dataclass(frozen=True)
class Limits:
    """How large an upload may be. Defaults are documented in docs/operations.md; each has a setting."""

    file_bytes: int = 20 * MB  # one file (KB_UPLOAD_FILE_MB)
    request_bytes: int = 60 * MB  # one form, all its files together (KB_UPLOAD_REQUEST_MB)
    image_pixels: int = 40_000_000  # a photo's width × height: 40 megapixels (KB_IMAGE_MEGAPIXELS)
    unzipped_bytes: int = 100 * MB  # a DOCX or XLSX once inflated
    zip_members: int = 2_000
    zip_ratio: int = 200  # inflated size / stored size, for any member larger than 1 MB inflated
    xml_part_bytes: int = 50 * MB
    display_px: int = 1600  # the longer side of a photo as pages show it
    thumb_px: int = 480  # the longer side of a thumbnail (gallery, print brief)

    @classmethod
    def from_env(cls) -> Limits:
        """Return the limits, with any set in the environment."""
        return cls(
            file_bytes=_env_int("KB_UPLOAD_FILE_MB", 20) * MB,
            request_bytes=_env_int("KB_UPLOAD_REQUEST_MB", 60) * MB,
            image_pixels=_env_int("KB_IMAGE_MEGAPIXELS", 40) * 1_000_000,
        )


class FileRefused(ValueError):
    """A file that is not stored; the message says why, in Vietnamese."""


def human_size(size: int) -> str:
    """Return a size as people read it: 840 KB, 2,4 MB."""
    if size < 1024:
        return f"{size} byte"
    if size < MB:
        return f"{round(size / 1024)} KB"
    return f"{size / MB:.1f} MB".replace(".", ",")


def sniff(data: bytes, name: str, limits: Limits, allow_text: bool = False) -> str:
    """Return the extension a file is stored with, told by its content; raise FileRefused otherwise."""
    shown = display_name(name)
    if not data:
        raise FileRefused(f"Tệp “{shown}” rỗng.")
    if len(data) > limits.file_bytes:
        raise FileRefused(
            f"Tệp “{shown}” nặng {human_size(len(data))}, quá giới hạn {human_size(limits.file_bytes)} cho một tệp."
        )
    kind = filetype.guess(data)
    if kind is not None and kind.mime in KINDS:
        ext = KINDS[kind.mime]
        if ext in ("docx", "xlsx"):
            check_office(data, shown, limits)
        return ext
    if allow_text and kind is None and _is_text(data):
        return "txt"
    found = f" (nội dung là {kind.mime})" if kind is not None else ""
    accepted = "ảnh JPEG, PNG, WebP, PDF, DOCX, XLSX" + (" hoặc văn bản thuần" if allow_text else "")
    raise FileRefused(f"Tệp “{shown}” không phải loại được nhận{found}. Chỉ nhận {accepted}.")


def _is_text(data: bytes) -> bool:
    """Return whether data reads as UTF-8 text (a .txt file), not markup a browser would run."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    head = text.lstrip()[:512].lower()
    if head.startswith(("<!doctype", "<html", "<?xml", "<svg", "<script")):
        return False
    return not any(ch in text for ch in "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f")


def check_office(data: bytes, shown: str, limits: Limits) -> None:
    """Refuse a DOCX or XLSX whose archive would inflate past the limits or whose XML is unsafe."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileRefused(f"Tệp “{shown}” bị hỏng: không mở được như tệp Office.") from exc
    if len(members) > limits.zip_members:
        raise FileRefused(f"Tệp “{shown}” chứa quá nhiều thành phần ({len(members)}).")
    total = sum(m.file_size for m in members)
    if total > limits.unzipped_bytes:
        limit = human_size(limits.unzipped_bytes)
        raise FileRefused(f"Tệp “{shown}” khi giải nén nặng tới {human_size(total)}, quá giới hạn {limit}.")
    for member in members:
        if member.file_size > MB and member.file_size > limits.zip_ratio * max(member.compress_size, 1):
            raise FileRefused(f"Tệp “{shown}” bị nén bất thường (có thể là “bom nén”): không nhận.")
        if member.filename.endswith((".xml", ".rels")):
            if member.file_size > limits.xml_part_bytes:
                raise FileRefused(f"Tệp “{shown}” có phần XML quá lớn.")
            _safe_xml(archive, member, shown)


def _safe_xml(archive: zipfile.ZipFile, member: zipfile.ZipInfo, shown: str) -> None:
    """Parse one XML part with defusedxml, reading no more than its declared size."""
    try:
        with archive.open(member) as handle:
            raw = handle.read(member.file_size + 1)
        SafeET.fromstring(raw, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise FileRefused(f"Tệp “{shown}” chứa XML không an toàn (khai báo DTD hoặc thực thể): không nhận.") from exc
    except (SafeET.ParseError, zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise FileRefused(f"Tệp “{shown}” bị hỏng: phần {member.filename} không đọc được.") from exc


@dataclass
class PreparedImage:
    """A photo re-encoded from its pixels alone: no EXIF, GPS, XMP, comments or colour profile."""

    ext: str  # jpg or png (png where the picture has transparency)
    display: bytes  # the longer side at most Limits.display_px
    thumb: bytes  # the longer side at most Limits.thumb_px
    full: bytes  # full size, kept only where an admin allows originals
    width: int
    height: int


def prepare_image(data: bytes, name: str, limits: Limits) -> PreparedImage:
    """Decode a photo under the pixel budget and re-encode it without any metadata."""
    shown = display_name(name)
    too_big = f"Ảnh “{shown}” quá lớn (hơn {limits.image_pixels // 1_000_000} triệu điểm ảnh): không nhận."
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        previous = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = limits.image_pixels
        try:
            with Image.open(io.BytesIO(data)) as opened:
                if opened.width * opened.height > limits.image_pixels:
                    raise FileRefused(too_big)
                opened.load()
                picture = ImageOps.exif_transpose(opened)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise FileRefused(too_big) from exc
        except (OSError, ValueError, SyntaxError) as exc:
            raise FileRefused(f"Ảnh “{shown}” bị hỏng: không đọc được.") from exc
        finally:
            Image.MAX_IMAGE_PIXELS = previous
    clear = picture.mode in ("RGBA", "LA", "PA") or (picture.mode == "P" and "transparency" in picture.info)
    picture = picture.convert("RGBA" if clear else "RGB")
    ext = "png" if clear else "jpg"

    def encode(image: Image.Image, longest: int | None) -> bytes:
        copy = image.copy()
        if longest and max(copy.size) > longest:
            copy.thumbnail((longest, longest), Image.Resampling.LANCZOS)
        # A new image holds pixels only: nothing of the original's info (EXIF, XMP, ICC, text) is passed on.
        bare = Image.new(copy.mode, copy.size)
        bare.paste(copy)
        out = io.BytesIO()
        if ext == "png":
            bare.save(out, "PNG", optimize=True)
        else:
            bare.save(out, "JPEG", quality=85, optimize=True, progressive=True)
        return out.getvalue()

    return PreparedImage(
        ext=ext, display=encode(picture, limits.display_px), thumb=encode(picture, limits.thumb_px),
        full=encode(picture, None), width=picture.width, height=picture.height,
    )  # fmt: skip


def display_name(name: str) -> str:
    """Return an uploaded file's name as it may be shown: its last part, printable, not too long."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if ch.isprintable())
    return (base[:80] + "…") if len(base) > 80 else (base or "tệp không tên")


def safe_name(name: str, ext: str, taken: set[str]) -> str:
    """Return a file name for storing: ASCII words of the uploaded name (đ → d, no tones), the true extension."""
    stem = re.split(r"[\\/]", name or "")[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    stem = slugify(stem)[:60].strip("-") or "tep"
    candidate, number = f"{stem}.{ext}", 2
    while candidate in taken:
        candidate, number = f"{stem}-{number}.{ext}", number + 1
    return candidate
