"""Photos and documents, as an editor attaches them and an officer finds, opens and prints them."""

from __future__ import annotations

import itertools
import re
import sys
from pathlib import Path

import pytest
from pages import DESKTOP, PHONE, save_and, serious_violations, shoot

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the file makers of tests/test_uploads.py
from test_uploads import jpeg_with_gps, pdf

_numbers = itertools.count(1)
SIZES = pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])


def _fill(page, site: str, label: str) -> str:
    """Fill a new entry's form; return its title."""
    title = f"Mô hình có ảnh số {next(_numbers)} {label}"
    page.goto(site + "/edit/new")
    page.fill("#title", title)
    page.fill("#summary", "Mô hình thử với ảnh và báo cáo đính kèm.")
    page.fill("#unit", "Đồn Biên phòng Thử Ảnh")
    page.check("input[name=fields][value='Dân vận']")
    page.fill("#body", "## Cách làm\n\nLàm từng bước, có ảnh minh họa.")
    return title


@SIZES
def test_a_photo_and_a_report_go_from_the_form_to_the_page_search_and_print(open_page, site, size):
    word = f"xqzanh{next(_numbers)}"
    admin = open_page(size, user="quantri", bypass_csp=True)  # the accessibility checker is injected
    title = _fill(admin, site, "gallery")  # the report's word is only in the report
    admin.set_input_files("#files", [
        {"name": "IMG_0042.JPG", "mimeType": "image/jpeg", "buffer": jpeg_with_gps(2400, 1600)},
        {"name": "Báo cáo tổng kết.pdf", "mimeType": "application/pdf", "buffer": pdf([f"Bao cao {word} nam 2023"])},
    ])  # fmt: skip
    chosen = admin.locator("#chosen-files li")
    assert chosen.count() == 2 and "IMG_0042.JPG" in chosen.first.inner_text()
    assert serious_violations(admin) == [], "edit form with files chosen"
    save_and(admin, "publish")
    admin.wait_for_url(re.compile(r"/models/[a-z0-9-]+$"))
    slug = admin.url.rsplit("/", 1)[1]
    # The entry page: the photo's thumbnail in a gallery, the report in a list, nothing off the side.
    photo = admin.locator(".gallery img")
    photo.wait_for()
    assert photo.evaluate("img => img.complete && img.naturalWidth") == 480
    assert admin.locator(".document-list a", has_text="bao-cao-tong-ket.pdf").is_visible()
    assert "PDF" in admin.inner_text(".document-list")
    assert admin.evaluate("document.documentElement.scrollWidth") <= size["width"]
    assert serious_violations(admin) == [], "entry page with a gallery"
    shoot(admin, f"attachments-entry-{'phone' if size == PHONE else 'desktop'}")
    # What the site serves has no camera data and no GPS position.
    for path in (f"/media/{slug}/img-0042.jpg", f"/media/{slug}/thumbs/img-0042.jpg"):
        served = admin.request.get(site + path)
        assert served.ok and served.headers["x-content-type-options"] == "nosniff"
        assert b"Exif" not in served.body() and b"Model X" not in served.body()
    # An officer finds the entry by a word inside the report, and is told where it was found.
    officer = open_page(size)
    officer.goto(site + f"/search?q={word}")
    result = officer.locator(".result", has_text=title)
    assert result.locator(".found-in", has_text="Trong tệp đính kèm: bao-cao-tong-ket.pdf").is_visible()
    assert word in result.locator(".snippet mark").first.inner_text()
    # The print brief carries the photos' thumbnails.
    officer.goto(site + f"/models/{slug}")
    officer.emulate_media(media="print")
    assert officer.locator(".gallery img").is_visible()
    box = officer.locator(".gallery img").bounding_box()
    assert box["width"] > 50 and box["height"] > 30


def test_a_file_dropped_on_the_form_joins_the_chosen_files(open_page, site):
    editor = open_page(DESKTOP, user="bientap")
    _fill(editor, site, "keo-tha")
    zone = editor.locator("#drop-zone")
    assert zone.is_visible()
    editor.evaluate(
        """() => {
            const data = new DataTransfer();
            data.items.add(new File([new Uint8Array([37, 80, 68, 70])], "ke-hoach.pdf", {type: "application/pdf"}));
            const drop = new DragEvent("drop", {dataTransfer: data, bubbles: true});
            document.getElementById("drop-zone").dispatchEvent(drop);
        }"""
    )
    assert editor.locator("#chosen-files li", has_text="ke-hoach.pdf").is_visible()
    assert editor.evaluate("document.getElementById('files').files.length") == 1


@SIZES
def test_without_javascript_a_refused_file_is_named_and_the_good_one_is_kept(open_page, site, size):
    editor = open_page(size, javascript=False, user="bientap")
    title = _fill(editor, site, "khong-js")
    assert not editor.locator("#drop-zone").is_visible()  # the plain input is the way in
    editor.set_input_files("#files", [
        {"name": "anh.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_gps()},
        {"name": "trang.jpg", "mimeType": "image/jpeg", "buffer": b"<html><script>alert(1)</script></html>"},
    ])  # fmt: skip
    editor.click("button[value=save]")
    error = editor.locator("#attachments-error")
    assert "“trang.jpg” không phải loại được nhận" in error.inner_text()
    assert editor.locator(".attachment-row.is-new", has_text="anh.jpg").is_visible()
    assert editor.input_value("#title") == title  # nothing typed is lost
    editor.click("button[value=save]")  # again, without choosing any file
    editor.wait_for_url(re.compile(r"/models/[a-z0-9-]+$"))
    assert editor.locator(".gallery img").count() == 1
