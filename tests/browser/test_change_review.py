"""A new entry's guidance never becomes content; a proposed change is reviewed as what changed."""

from __future__ import annotations

import json
import re

import pytest
from pages import DESKTOP, PHONE, serious_violations, shoot

GUIDANCE = (
    "Đơn vị, địa bàn và vấn đề mà mô hình giải quyết.",
    "Các bước triển khai, ai tham gia, nguồn lực và kinh phí.",
    "Kết quả đã ghi nhận (chỉ nêu số liệu có nguồn).",
    "Đơn vị khác cần những gì để áp dụng.",
    "Điều gì giúp mô hình thành công, điều gì cần tránh.",
)
SECTIONS = ["Bối cảnh", "Cách làm", "Kết quả", "Điều kiện nhân rộng", "Bài học kinh nghiệm"]


def seen(locator) -> str:
    """Return the text a sighted reader sees in an element (without the words for screen readers)."""
    return locator.evaluate(
        "e => { const c = e.cloneNode(true); c.querySelectorAll('.visually-hidden').forEach(h => h.remove());"
        " return c.textContent.trim(); }"
    )


def fill_new_entry(page, site: str, title: str) -> None:
    """Open the new-entry form and fill every field but the body."""
    page.goto(site + "/edit/new")
    page.fill("#title", title)
    page.fill("#summary", "Bếp ăn cho học sinh bán trú ở xã biên giới, do đồn biên phòng tổ chức.")
    page.fill("#unit", "Đồn Biên phòng Thử nghiệm")
    page.check("input[name=fields][value='Dân vận']")


@pytest.mark.parametrize(
    ("size", "javascript", "slug"),
    [(PHONE, False, "bep-an-goi-y-dien-thoai"), (DESKTOP, True, "bep-an-goi-y-may-tinh")],
    ids=["phone-no-javascript", "desktop"],
)
def test_a_new_entry_never_publishes_the_guidance(open_page, site, size, javascript, slug):
    title = "Bếp ăn gợi ý " + ("điện thoại" if size is PHONE else "máy tính")
    editor = open_page(size, javascript=javascript, user="bientap")
    fill_new_entry(editor, site, title)
    body = editor.input_value("#body")
    assert [line[3:] for line in body.splitlines() if line.strip()] == SECTIONS  # headings only, in order
    guide = editor.locator("#section-guide")
    assert guide.is_visible() and all(g in guide.inner_text() for g in GUIDANCE)  # beside the field
    shoot(editor, "new-entry-guidance")

    # An editor who copies a guidance sentence in is stopped on submit, with the text kept.
    pasted = body.replace("## Bối cảnh\n", f"## Bối cảnh\n\n{GUIDANCE[0]}\n\nXã A thiếu bếp ăn.\n", 1)
    editor.fill("#body", pasted)
    editor.click("button[value=submit]")
    alert = editor.locator(".form-error[role=alert]")
    assert "câu gợi ý của phần “Bối cảnh” vẫn còn trong nội dung" in alert.inner_text()
    assert editor.input_value("#body").replace("\r\n", "\n") == pasted

    written = body
    for number, section in enumerate(SECTIONS, 1):
        written = written.replace(f"## {section}\n", f"## {section}\n\nĐoạn {number} của mục {title}.\n", 1)
    editor.fill("#body", written)
    editor.click("button[value=submit]")
    editor.wait_for_url(re.compile(rf"/models/{slug}$"))

    admin = open_page(size, javascript=javascript, user="quantri")
    admin.goto(f"{site}/models/{slug}")
    admin.locator(".workflow button", has_text="Xuất bản").click()
    assert "Đã xuất bản" in admin.inner_text(".flash")

    reader = open_page(size, javascript=javascript)
    reader.goto(f"{site}/models/{slug}")
    text = reader.inner_text(".entry-body")
    assert [h.inner_text() for h in reader.locator(".entry-body h2").all()] == SECTIONS
    assert "Đoạn 5 của mục" in text and not any(g in text for g in GUIDANCE)


@pytest.mark.parametrize(("size", "slug"), [(PHONE, "to-do-doan-ket"), (DESKTOP, "to-hop-nha-thien-nguyen")])
def test_the_review_of_a_proposal_shows_only_the_paragraph_and_the_contact_that_changed(open_page, site, size, slug):
    editor = open_page(size, user="bientap")
    editor.goto(f"{site}/models/{slug}/edit")
    body = editor.input_value("#body")
    paragraph = [line for line in body.splitlines() if line.strip() and not line.startswith(("#", "-"))][-1]
    editor.fill("#body", body.replace(paragraph, paragraph + " Đơn vị đã bổ sung kinh phí năm 2025."))
    editor.fill("#contact", "Ban Dân vận, điện thoại 0225 000 000")
    editor.click("button[value=save]")
    editor.wait_for_url(re.compile(rf"/models/{slug}$"))

    admin = open_page(size, user="quantri", bypass_csp=True)  # the accessibility checker is an inline script
    admin.goto(f"{site}/models/{slug}")
    admin.locator(".workflow a[href*='/proposals/']").last.click()
    review = admin.locator("section.review-part").last
    rows = review.locator(".field-changes tbody tr")
    assert rows.count() == 1
    assert rows.locator("th").inner_text() == "Liên hệ"
    assert seen(rows.locator("td.change-old del")) == "Chưa ghi nhận"
    assert seen(rows.locator("td.change-new ins")) == "Ban Dân vận, điện thoại 0225 000 000"
    assert review.locator(".body-hunk").count() == 1
    assert review.locator(".body-line.body-del").count() == 1 and review.locator(".body-line.body-add").count() == 1
    assert seen(review.locator(".body-line.body-add ins")) == "Đơn vị đã bổ sung kinh phí năm 2025."
    assert review.locator(".body-line.body-del del").count() == 0  # nothing of the old paragraph was removed
    assert admin.evaluate("document.documentElement.scrollWidth") <= size["width"]
    shoot(admin, "proposal-review")

    # The file itself changed in those two lines only: the line diff, shown on request, says so.
    raw = review.locator("details.raw-diff")
    assert not raw.locator(".diff").is_visible()
    raw.locator("summary").click()
    assert raw.locator(".diff-line.diff-del").count() == 2 and raw.locator(".diff-line.diff-add").count() == 2

    found = serious_violations(admin)
    assert found == [], json.dumps(found, ensure_ascii=False)
