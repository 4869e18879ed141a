"""Uploaded files: told by content, bounded, photos stripped of where they were taken; text read from documents."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest
from PIL import Image

from kb import extract as extract_module
from kb.extract import extract
from kb.uploads import FileRefused, Limits, prepare_image, safe_name, sniff

LIMITS = Limits()


def jpeg_with_gps(width: int = 1200, height: int = 800, orientation: int = 1) -> bytes:
    """Return a camera-like JPEG: GPS position, camera make and model, an orientation."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, width // 2, height // 4))  # a blue band at the top left
    exif = Image.Exif()
    exif[0x010F] = "Máy ảnh đồn"  # Make
    exif[0x0110] = "Model X"  # Model
    exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (22.0, 50.0, 12.5)  # latitude
    gps[3], gps[4] = "E", (104.0, 58.0, 1.0)  # longitude
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=b"Dong Van, 2024")
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """Return a tiny PNG file that claims width × height pixels (a decompression bomb's header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = chunk(b"IDAT", zlib.compress(b"\0" * 64))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + pixels + chunk(b"IEND", b"")


def docx(paragraphs: list[tuple[str, str]], extra: dict[str, bytes] | None = None) -> bytes:
    """Return a Word file with (style, text) paragraphs, written with python-docx."""
    import docx as python_docx

    document = python_docx.Document()
    for style, text in paragraphs:
        document.add_paragraph(text, style=style)
    out = io.BytesIO()
    document.save(out)
    if not extra:
        return out.getvalue()
    rewritten = io.BytesIO()
    with zipfile.ZipFile(out) as source, zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, extra.pop(item.filename, source.read(item)))
        for name, data in extra.items():
            target.writestr(name, data)
    return rewritten.getvalue()


def pdf(text_lines: list[str]) -> bytes:
    """Return a one-page PDF showing the lines (Helvetica; ASCII only)."""
    stream = "BT /F1 12 Tf 50 780 Td " + " ".join(f"({line}) Tj 0 -16 Td" for line in text_lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        " /Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def test_a_photo_loses_its_gps_position_camera_and_comment_and_stands_upright():
    original = jpeg_with_gps(orientation=6)  # taken sideways: shown rotated by 90°
    assert b"Model X" in original and b"Dong Van" in original
    prepared = prepare_image(original, "IMG_0001.JPG", LIMITS)
    for data in (prepared.display, prepared.thumb, prepared.full):
        assert b"Model X" not in data and b"Exif" not in data and b"Dong Van" not in data
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == "JPEG" and not image.getexif() and "exif" not in image.info
            assert image.height > image.width  # turned upright: 800 × 1200
    assert (prepared.width, prepared.height) == (800, 1200)
    with Image.open(io.BytesIO(prepared.thumb)) as thumb:
        assert max(thumb.size) == LIMITS.thumb_px


def test_a_large_photo_is_sized_for_the_web_and_a_transparent_one_stays_png():
    prepared = prepare_image(jpeg_with_gps(4000, 3000), "lon.jpg", LIMITS)
    with Image.open(io.BytesIO(prepared.display)) as display:
        assert display.size == (1600, 1200)
    clear = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    out = io.BytesIO()
    clear.save(out, "PNG")
    assert prepare_image(out.getvalue(), "logo.png", LIMITS).ext == "png"


def test_a_decompression_bomb_is_refused_before_its_pixels_are_inflated():
    bomb = png_header_only(50_000, 50_000)  # 2.5 billion pixels in a file of 100 bytes
    assert len(bomb) < 200 and sniff(bomb, "anh.png", LIMITS) == "png"
    with pytest.raises(FileRefused, match="quá lớn"):
        prepare_image(bomb, "anh.png", LIMITS)


def test_the_type_is_told_by_content_not_by_name():
    html = b"<!doctype html><html><script>alert(1)</script></html>"
    with pytest.raises(FileRefused, match="không phải loại được nhận"):
        sniff(html, "anh-dep.jpg", LIMITS)
    with pytest.raises(FileRefused):
        sniff(html, "bao-cao.txt", LIMITS, allow_text=True)  # markup is not plain text either
    assert sniff(jpeg_with_gps(), "bao-cao.pdf", LIMITS) == "jpg"  # a photo misnamed is still a photo
    assert sniff(pdf(["Hello"]), "x", LIMITS) == "pdf"
    assert sniff("Báo cáo tổng kết".encode(), "bao-cao.txt", LIMITS, allow_text=True) == "txt"
    with pytest.raises(FileRefused, match="rỗng"):
        sniff(b"", "trong.jpg", LIMITS)


def test_a_file_over_the_limit_is_refused_with_its_size():
    with pytest.raises(FileRefused, match=r"nặng 2,0 MB, quá giới hạn 1,0 MB"):
        sniff(b"\xff\xd8\xff" + b"0" * (2 * 1024 * 1024 - 3), "lon.jpg", Limits(file_bytes=1024 * 1024))


def test_a_zip_bomb_dressed_as_a_word_file_is_refused():
    bomb = docx([("Normal", "Báo cáo")], {"word/media/zeros.bin": b"\0" * (150 * 1024 * 1024)})
    assert len(bomb) < 1024 * 1024  # 150 MB of zeros stored in well under one
    with pytest.raises(FileRefused, match=r"giải nén|bất thường"):
        sniff(bomb, "bao-cao.docx", LIMITS)


def test_a_word_file_with_an_entity_expansion_is_refused():
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">&lol2;</w:document>'
    )
    hostile = docx([("Normal", "x")], {"word/document.xml": laughs})
    with pytest.raises(FileRefused, match="không an toàn"):
        sniff(hostile, "bao-cao.docx", LIMITS)


def test_the_text_of_a_word_file_keeps_its_headings_and_tables():
    data = docx([("Title", "Mô hình “Tủ thuốc biên cương”"), ("Heading 1", "Cách làm"),
                 ("Normal", "Đồn Biên phòng cấp thuốc cho bà con."), ("Heading 2", "Kết quả")])  # fmt: skip
    assert sniff(data, "bao-cao.docx", LIMITS) == "docx"
    found = extract(data, "docx", "bao-cao.docx")
    assert [(b.level, b.text) for b in found.blocks] == [
        (1, "Mô hình “Tủ thuốc biên cương”"), (1, "Cách làm"), (0, "Đồn Biên phòng cấp thuốc cho bà con."),
        (2, "Kết quả"),
    ]  # fmt: skip


def test_the_text_of_a_pdf_is_read_in_a_bounded_helper():
    found = extract(pdf(["Tu thuoc bien cuong", "Cap thuoc mien phi"]), "pdf", "bao-cao.pdf")
    assert "Tu thuoc bien cuong" in found.text and "Cap thuoc mien phi" in found.text
    with pytest.raises(FileRefused, match="không đọc được như tệp PDF"):
        extract(b"%PDF-1.4\n" + b"rac" * 100, "pdf", "hong.pdf")


def test_a_pdf_that_keeps_the_reader_busy_is_stopped_at_the_time_limit(monkeypatch):
    # A page of 200 000 text operations: a real PDF that takes pypdf far longer than the limit set here.
    heavy = pdf(["x"] * 200_000)
    monkeypatch.setattr(extract_module, "PDF_SECONDS", 0.5)
    with pytest.raises(FileRefused, match=r"sau 0\.5 giây"):  # the helper was stopped, not waited for
        extract(heavy, "pdf", "nang.pdf")


def test_stored_names_are_plain_ascii_with_the_true_extension():
    assert safe_name("Ảnh Đồn Lũng Cú (1).JPG", "jpg", set()) == "anh-don-lung-cu-1.jpg"
    assert safe_name("../../etc/passwd", "pdf", set()) == "passwd.pdf"
    assert safe_name("bao-cao.docx", "docx", {"bao-cao.docx"}) == "bao-cao-2.docx"
    assert safe_name("!!!.png", "png", set()) == "tep.png"
