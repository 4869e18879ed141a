"""Editors and admins in a browser: write with preview, review, publish, conflicts, history, reindex."""

from __future__ import annotations

import re

from pages import DESKTOP, PHONE, shoot


def write_entry(page, site: str, title: str, body: str) -> str:
    """Fill the new-entry form, watch the live preview, submit it for review; return the slug."""
    page.goto(site + "/edit/new")
    page.fill("#title", title)
    page.fill("#summary", "Bữa trưa miễn phí cho học sinh vùng biên do đồn biên phòng tổ chức.")
    page.fill("#unit", "Đồn Biên phòng Thử nghiệm")
    page.fill("#province", "Hà Giang")
    page.check("input[name=fields][value='Dân vận']")
    page.fill("#body", body)
    return page


def test_an_editor_writes_with_a_live_preview_and_an_admin_publishes(open_page, site):
    editor = open_page(PHONE, user="bientap")
    write_entry(editor, site, "Bếp ăn bán trú biên cương", "## Cách làm\n\nNấu **bữa trưa xqzbep** cho học sinh.")
    editor.locator("#preview strong", has_text="bữa trưa xqzbep").wait_for()  # rendered by the server as typed
    shoot(editor, "edit-preview")
    editor.click("button[value=submit]")
    editor.wait_for_url(re.compile(r"/models/bep-an-ban-tru-bien-cuong$"))
    assert "Chờ duyệt" in editor.inner_text(".workflow")

    reader = open_page(PHONE)
    assert reader.request.get(site + "/models/bep-an-ban-tru-bien-cuong").status == 404  # no console noise
    reader.goto(site + "/search?q=xqzbep")
    assert reader.locator(".result").count() == 0

    admin = open_page(DESKTOP, user="quantri")
    admin.goto(site + "/admin")
    admin.locator("a", has_text="Bếp ăn bán trú biên cương").first.click()
    admin.locator(".workflow button", has_text="Xuất bản").click()
    assert "Đã xuất bản" in admin.inner_text(".flash")

    reader.goto(site + "/search?q=bep+an+ban+tru")
    assert reader.locator(".result-title a").first.inner_text() == "Bếp ăn bán trú biên cương"


def test_a_stale_save_shows_the_conflict_page_and_keeps_both_versions(open_page, site):
    first = open_page(DESKTOP, user="bientap")
    write_entry(first, site, "Góc thư viện xung đột", "Bản đầu.")
    first.click("button[value=save]")
    first.wait_for_url(re.compile(r"/models/goc-thu-vien-xung-dot$"))
    second = open_page(DESKTOP, user="bientap2")
    first.goto(site + "/models/goc-thu-vien-xung-dot/edit")
    second.goto(site + "/models/goc-thu-vien-xung-dot/edit")
    second.fill("#body", "Bản của người thứ hai.")
    second.click("button[value=save]")
    second.wait_for_url(re.compile(r"/models/goc-thu-vien-xung-dot$"))
    first.fill("#body", "Bản của người thứ nhất.")
    first.click("button[value=save]")
    assert "mục đã thay đổi trong lúc bạn sửa" in first.inner_text("h1")
    assert "Bản của người thứ hai." in first.input_value("#current-text")
    assert "Bản của người thứ nhất." in first.input_value("#mine-text")
    shoot(first, "conflict")


def test_an_admin_restores_a_revision_from_the_history(open_page, site):
    admin = open_page(DESKTOP, user="quantri")
    write_entry(admin, site, "Tủ sách khôi phục", "Lời ban đầu.")
    admin.click("button[value=save]")
    admin.wait_for_url(re.compile(r"/models/tu-sach-khoi-phuc$"))
    admin.goto(site + "/models/tu-sach-khoi-phuc/edit")
    admin.fill("#body", "Lời đã sửa.")
    admin.click("button[value=save]")
    admin.wait_for_url(re.compile(r"/models/tu-sach-khoi-phuc$"))
    admin.goto(site + "/models/tu-sach-khoi-phuc/history")
    shoot(admin, "history")
    admin.locator("button", has_text="Khôi phục").first.click()
    assert "Đã khôi phục" in admin.inner_text(".flash")
    assert "Lời ban đầu." in admin.inner_text(".entry-body")


def test_an_admin_reindexes_and_watches_the_progress_bar(open_page, site):
    admin = open_page(DESKTOP, user="quantri")
    admin.goto(site + "/admin")
    admin.click("button:has-text('Lập chỉ mục lại ngay')")
    admin.wait_for_url(re.compile(r"/admin/jobs/\d+$"))
    assert admin.locator("progress").is_visible()
    admin.locator("#job-phase", has_text="Hoàn tất").wait_for(timeout=60_000)
    assert "Lập chỉ mục toàn bộ" in admin.inner_text("#job-result")
    value, maximum = admin.eval_on_selector("progress", "p => [p.value, p.max]")
    assert value == maximum > 20
    shoot(admin, "reindex")
