"""Drafting from a document in the browser: a Word report uploaded, the proposed form checked and saved."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pages import DESKTOP, PHONE, serious_violations, shoot

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from drafting_samples import SAMPLES

REPORT = SAMPLES[0]  # a DOCX with a quoted name, a station, a province and the usual headings


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_an_editor_uploads_a_report_checks_the_proposal_and_saves_a_draft(open_page, site, tmp_path, size):
    width = size["width"]
    page = open_page(size, user="bientap", bypass_csp=True)
    page.goto(site + "/edit/new")
    page.click("a:has-text('Tạo từ tài liệu')")
    page.wait_for_url("**/edit/new/from-document")
    assert serious_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    report = tmp_path / REPORT.name
    report.write_bytes(REPORT.data())
    page.set_input_files("#document-file", str(report))
    page.click("button:has-text('Đề xuất bản nháp')")
    page.wait_for_selector("#proposal-notice")

    assert page.input_value("#title").casefold() == REPORT.title.casefold()
    assert page.input_value("#unit") == REPORT.unit and page.input_value("#province") == REPORT.province
    assert "## Cách làm" in page.input_value("#body")
    badge = page.locator("#title-proposed")
    assert badge.is_visible() and badge.inner_text().startswith("Đề xuất\n")
    assert page.locator("#title-proposed .proposed-nojs").is_hidden()  # the long words are for no-JavaScript
    assert "do hệ thống đề xuất tự động" in badge.text_content()  # and for screen readers, named by the field
    assert "title-proposed" in page.get_attribute("#title", "aria-describedby")
    assert page.locator("text=Tài liệu gốc sẽ được đính kèm: " + REPORT.name).is_visible()
    assert page.locator('input[name="staged"]').count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "the form scrolls sideways"
    assert serious_violations(page) == []
    shoot(page, "drafting-proposed")

    page.fill("#title", f"Bếp ăn bán trú {width}")
    assert page.locator("#title-proposed").count() == 0
    assert "title-proposed" not in (page.get_attribute("#title", "aria-describedby") or "")
    assert page.locator("#unit-proposed").is_visible()  # untouched fields keep theirs
    if page.locator('input[name="fields"]:checked').count() == 0:
        page.locator('input[name="fields"][value="Dân vận"]').check()
    page.locator("button[name=action][value=save]").click()
    page.wait_for_url("**/models/bep-an-ban-tru-*")
    assert page.locator("h1").inner_text().strip() == f"Bếp ăn bán trú {width}"
    assert "Bản nháp" in page.content()
    assert page.locator(f"a[href*='{REPORT.name}']").count() >= 1  # the report, attached


def test_without_javascript_the_marks_say_in_full_that_values_were_proposed(open_page, site):
    page = open_page(PHONE, javascript=False, user="bientap")
    page.goto(site + "/edit/new/from-document")
    page.fill("#document-text", REPORT.text)
    page.click("button:has-text('Đề xuất bản nháp')")
    page.wait_for_selector("#proposal-notice")
    assert page.locator("#title-proposed").inner_text().startswith("Đề xuất: đề xuất tự động, hãy kiểm tra")
    assert page.locator('input[name="staged"]').count() == 0  # a pasted article is not a file


def test_a_file_that_is_not_a_document_is_refused_on_the_same_page(open_page, site, tmp_path):
    page = open_page(PHONE, user="bientap", bypass_csp=True)
    page.goto(site + "/edit/new/from-document")
    fake = tmp_path / "bao-cao.docx"
    fake.write_bytes(b"<html><script>alert(1)</script></html>")
    page.set_input_files("#document-file", str(fake))
    page.click("button:has-text('Đề xuất bản nháp')")
    alert = page.locator("#document-error")
    assert "không phải loại được nhận" in alert.inner_text()
    assert page.get_attribute("#document-file", "aria-describedby") == "document-file-hint document-error"
    assert serious_violations(page) == []
    shoot(page, "drafting-refused")
