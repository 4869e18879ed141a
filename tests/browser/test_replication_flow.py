"""Replication as a new user would try it: two units record a model; it rises; the admin sees gaps."""

from __future__ import annotations

import re

from pages import DESKTOP, PHONE, shoot


def record(page, site: str, slug: str, unit: str, status: str) -> None:
    """Fill 'Ghi nhận đơn vị đã áp dụng' on the entry page."""
    page.goto(site + f"/models/{slug}")
    page.click("a:has-text('Ghi nhận đơn vị đã áp dụng')")
    page.fill("#unit", unit)
    page.fill("#province", "Quảng Trị")
    page.fill("#start_date", "2025-02")
    page.select_option("#status", status)
    page.fill("#result", "Đã triển khai ở hai bản; bà con hưởng ứng.")
    page.click("form.stack-form button[type=submit]")
    page.wait_for_url(re.compile(rf"/models/{slug}#nhan-rong$"))


def test_two_units_record_a_model_and_it_rises_under_most_replicated(open_page, site):
    reader = open_page(DESKTOP)
    reader.goto(site + "/search?sort=replicated")
    first_before = reader.locator(".result-title a").first.inner_text()
    member = open_page(PHONE, user="thanhvien")
    record(member, site, "vuon-uom-thu-nghiem-so-9", "Đồn Biên phòng Ví Dụ Một", "đang triển khai")
    record(member, site, "vuon-uom-thu-nghiem-so-9", "Đồn Biên phòng Ví Dụ Hai", "đã hoàn thành")
    assert "Đã nhân rộng tại 2 đơn vị" in member.inner_text("#nhan-rong")
    shoot(member, "ledger")
    reader.goto(site + "/search?sort=replicated")
    first = reader.locator(".result").first
    assert first.locator(".result-title a").inner_text() == "Vườn ươm thử nghiệm số 9" != first_before
    assert "Đã nhân rộng · 2 đơn vị" in first.locator(".level").inner_text()
    reader.goto(site + "/thong-ke")
    assert "Vườn ươm thử nghiệm số 9: 2" in reader.locator("#nhan-rong-nhieu-nhat desc").text_content()
    shoot(reader, "statistics")


def test_a_search_that_found_nothing_shows_in_the_admins_list(open_page, site):
    reader = open_page(PHONE)
    reader.goto(site + "/")
    reader.fill("#q", "nuôi ong lấy mật")
    reader.press("#q", "Enter")
    admin = open_page(DESKTOP, user="quantri")
    admin.goto(site + "/admin/searches")
    row = admin.locator("tr", has_text="nuôi ong lấy mật").first
    row.locator("a", has_text="Viết mô hình này").click()
    assert admin.input_value("#title") == "Nuôi ong lấy mật"
