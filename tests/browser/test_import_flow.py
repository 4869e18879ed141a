"""Bulk import in the browser: the template filled, uploaded, checked in a dry run, confirmed, drafts on the desk."""

from __future__ import annotations

import io

import openpyxl
import pytest
from pages import DESKTOP, PHONE, serious_violations, shoot


@pytest.mark.parametrize(
    ("size", "javascript"), [(PHONE, False), (DESKTOP, True)], ids=["phone-without-javascript", "desktop"]
)
def test_an_admin_imports_the_filled_template_and_finds_the_drafts_on_the_desk(open_page, site, tmp_path, size,
                                                                               javascript):  # fmt: skip
    page = open_page(size, javascript=javascript, user="quantri", bypass_csp=javascript)
    page.goto(site + "/admin")
    page.click("text=Nhập từ bảng tính")
    page.wait_for_url("**/admin/import")
    template = page.request.get(site + "/admin/import/mau-nhap-mo-hinh.xlsx")
    assert template.ok
    book = openpyxl.load_workbook(io.BytesIO(template.body()))
    width = size["width"]
    book.worksheets[0].append([
        f"Bếp ăn tình thương {width}", "Bữa trưa miễn phí cho học sinh vùng biên.", "Đồn Biên phòng Sín Thầu",
        "Điện Biên", "Giáo dục - Huấn luyện; Dân vận", "bếp ăn, học sinh", 2023, "Báo Biên phòng",
        "https://bienphong.vn/a", "15/06/2024", "Đại úy Lò Văn A", "## Cách làm\n\nMỗi trưa đồn nấu cơm cho các em.",
    ])  # fmt: skip
    book.worksheets[0].append([f"Dòng có lỗi {width}", "Tóm tắt.", "Đồn A", "", "Y tế", "", "20x"])
    filled = tmp_path / "mo-hinh.xlsx"
    book.save(filled)

    page.set_input_files("#import-file", str(filled))
    page.click("text=Kiểm tra tệp (chạy thử)")
    page.wait_for_selector("table.import-rows")
    assert page.locator("h2#results").inner_text().startswith("Kết quả chạy thử")
    rows = page.locator("table.import-rows tbody tr")
    assert rows.count() == 2
    assert "Tạo bản nháp mới" in rows.nth(0).inner_text()
    assert "Dòng 3, cột “Năm”: “20x” không phải một năm" in rows.nth(1).inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "the dry run scrolls sideways"
    if javascript:
        assert serious_violations(page) == []
    shoot(page, "import-dry-run")

    page.click("button:has-text('Tạo bản nháp')")
    page.wait_for_selector("text=Kết quả nhập")
    assert "Đã tạo bản nháp" in page.locator("table.import-rows tbody tr").nth(0).inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shoot(page, "import-done")

    page.click("text=Xem các bản nháp trên trang Biên tập")
    page.wait_for_url("**/edit")
    assert page.locator(f"text=Bếp ăn tình thương {width}").count() == 1
    assert page.locator(f"text=Dòng có lỗi {width}").count() == 0
