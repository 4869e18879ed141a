"""Asking before hard-to-undo actions, rejected proposals on the editor's desk, and the editing space."""

from __future__ import annotations

import itertools
import re

import pytest
from pages import DESKTOP, PHONE, save_and, serious_violations, shoot

RED = "rgb(155, 28, 28)"
# Each action at both sizes, with JavaScript and without.
MODES = [
    pytest.param(size, javascript, id=f"{name}-{'js' if javascript else 'nojs'}")
    for (name, size), javascript in itertools.product((("phone", PHONE), ("desktop", DESKTOP)), (True, False))
]
_titles = itertools.count(1)


def publish_new(page, site: str, label: str) -> str:
    """As an admin, write an entry and publish it at once; return its slug."""
    page.goto(site + "/edit/new")
    page.fill("#title", f"Mô hình {label} số {next(_titles)}")
    page.fill("#summary", "Mô hình thử cho các bước cần xác nhận.")
    page.fill("#unit", "Đồn Biên phòng Thử nghiệm")
    page.check("input[name=fields][value='Dân vận']")
    page.fill("#body", "## Cách làm\n\nLàm từng bước.")
    save_and(page, "publish")
    page.wait_for_url(re.compile(r"/models/[a-z0-9-]+$"))
    return page.url.rsplit("/", 1)[1]


def confirm_page(page, question: str, button: str) -> None:
    """Check the confirmation page: what it asks, its red confirming button and its Hủy."""
    assert question in page.inner_text("h1")
    assert page.locator(".confirm-what li").count() >= 1
    confirm = page.locator("button.danger", has_text=button)
    assert confirm.is_visible()
    assert confirm.evaluate("b => getComputedStyle(b).backgroundColor") == RED
    assert page.locator(".confirm-actions a", has_text="Hủy").is_visible()


@pytest.mark.parametrize(("size", "javascript"), MODES)
def test_archiving_and_unpublishing_ask_first_and_cancel_changes_nothing(open_page, site, size, javascript):
    admin = open_page(size, javascript=javascript, user="quantri")
    slug = publish_new(admin, site, "lưu trữ")
    actions = admin.locator(".workflow-actions")
    publish_like = actions.locator("a", has_text="Sửa")
    take_down = actions.locator("button", has_text="Gỡ xuống")
    archive = actions.locator("button", has_text="Lưu trữ")
    # Destructive actions look destructive: red, unlike the green ones.
    assert archive.evaluate("b => getComputedStyle(b).color") == RED
    assert take_down.evaluate("b => getComputedStyle(b).borderColor") == RED
    assert publish_like.evaluate("b => getComputedStyle(b).color") != RED

    take_down.click()
    confirm_page(admin, "Gỡ mục", "Xác nhận gỡ xuống")
    shoot(admin, f"confirm-unpublish-{'js' if javascript else 'nojs'}")
    admin.locator(".confirm-actions a", has_text="Hủy").click()
    admin.wait_for_url(site + f"/models/{slug}")
    assert "Đã xuất bản" in admin.inner_text(".workflow")

    admin.locator(".workflow-actions button", has_text="Lưu trữ").click()
    confirm_page(admin, "Lưu trữ mục", "Xác nhận lưu trữ")
    admin.locator("button.danger", has_text="Xác nhận lưu trữ").click()
    admin.wait_for_url(site + f"/models/{slug}")
    assert "Lưu trữ" in admin.inner_text(".flash")
    reader = open_page(size, javascript=javascript)
    assert reader.request.get(site + f"/models/{slug}").status == 404


@pytest.mark.parametrize(("size", "javascript"), MODES)
def test_a_rejection_asks_why_and_the_editor_finds_it_on_the_desk_and_sends_it_again(open_page, site, size, javascript):
    admin = open_page(size, javascript=javascript, user="quantri")
    slug = publish_new(admin, site, "từ chối")
    editor = open_page(size, javascript=javascript, user="bientap")
    editor.goto(site + f"/models/{slug}/edit")
    editor.fill("#body", "## Cách làm\n\nBản đề xuất xqzbitu chối.")
    editor.click("button[value=save]")
    editor.wait_for_url(site + f"/models/{slug}")

    admin.goto(site + f"/models/{slug}")
    admin.locator(".workflow a[href*='/proposals/']").first.click()
    admin.locator("button", has_text="Từ chối").click()
    confirm_page(admin, "Từ chối bản sửa", "Xác nhận từ chối")
    assert admin.evaluate("document.activeElement.id") == "reason"  # ready to type why
    admin.fill("#reason", "Thiếu nguồn; hãy ghi rõ số liệu.")
    shoot(admin, f"confirm-reject-{'js' if javascript else 'nojs'}")
    admin.locator("button.danger", has_text="Xác nhận từ chối").click()
    admin.wait_for_url(site + f"/models/{slug}")
    assert "Đã từ chối bản sửa." in admin.inner_text(".flash")

    editor.goto(site + "/edit")
    item = editor.locator(".rejected-item", has=editor.locator(f"a[href^='/models/{slug}/']"))
    assert item.count() == 1 and item.is_visible()
    assert "Thiếu nguồn; hãy ghi rõ số liệu." in item.inner_text()
    assert "quantri từ chối" in item.inner_text()
    shoot(editor, f"desk-rejected-{'js' if javascript else 'nojs'}")
    item.locator("a", has_text="Sửa và gửi lại").click()
    assert "Bản đề xuất xqzbitu chối." in editor.input_value("#body")
    assert "Thiếu nguồn" in editor.inner_text(".reopening")
    editor.fill("#body", "## Cách làm\n\nBản đề xuất xqzbitu chối, có nguồn.")
    editor.click("button[value=save]")
    editor.wait_for_url(site + f"/models/{slug}")
    editor.goto(site + "/edit")
    assert editor.locator(".rejected-item", has=editor.locator(f"a[href^='/models/{slug}/']")).count() == 0
    editor.goto(site + f"/models/{slug}/history")
    assert "Bị từ chối" in editor.inner_text("table.proposals")


@pytest.mark.parametrize(("size", "javascript"), MODES)
def test_disabling_an_account_asks_first(open_page, site, size, javascript):
    admin = open_page(size, javascript=javascript, user="quantri")
    name = f"tamthoi{next(_titles)}"
    admin.goto(site + "/admin/users")
    admin.fill("#name", name)
    admin.fill("#password", "mat-khau-du-dai-1")
    admin.locator("form.stack-form button[type=submit]").click()
    row = admin.locator("tr", has_text=name)
    row.locator("button", has_text="Khóa").click()
    confirm_page(admin, f"Khóa tài khoản {name}?", "Xác nhận khóa tài khoản")
    admin.locator(".confirm-actions a", has_text="Hủy").click()
    assert "Đang dùng" in admin.locator("tr", has_text=name).inner_text()
    admin.locator("tr", has_text=name).locator("button", has_text="Khóa").click()
    admin.locator("button.danger", has_text="Xác nhận khóa tài khoản").click()
    admin.wait_for_url(re.compile(r"/admin/users$"))
    assert "Đã khóa" in admin.locator("tr", has_text=name).inner_text()


def _fill_valid_but_the_source_address(page, site: str) -> None:
    page.goto(site + "/edit/new")
    page.fill("#title", "Mô hình thử thanh lưu")
    page.fill("#summary", "Một câu tóm tắt.")
    page.fill("#unit", "Đồn Biên phòng Thử nghiệm")
    page.check("input[name=fields][value='Dân vận']")
    page.fill("#source_url", "javascript:alert(1)")


def test_on_a_phone_the_save_bar_is_one_compact_row_and_the_first_error_shows_above_it(open_page, site):
    editor = open_page(PHONE, user="bientap")
    _fill_valid_but_the_source_address(editor, site)
    editor.click("button[value=save]")
    editor.locator(".form-error").first.wait_for()
    bar = editor.locator(".form-actions")
    box = bar.bounding_box()
    assert box["height"] <= 64, f"the save bar is {box['height']}px tall"
    tops = {round(b.bounding_box()["y"]) for b in bar.locator("button").all()}
    assert len(tops) == 1, "the save bar's buttons wrap onto several rows"
    field = editor.locator("#source_url")
    assert field.get_attribute("aria-invalid") == "true"
    assert editor.evaluate("document.activeElement.id") == "source_url"
    spot = field.bounding_box()
    assert spot["y"] >= 0 and spot["y"] + spot["height"] <= box["y"], "the field in error is hidden"
    shoot(editor, "save-bar-error")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_an_admins_four_actions_fit_one_row_on_a_phone_and_all_show_on_a_desktop(open_page, site, javascript):
    admin = open_page(PHONE, javascript=javascript, user="quantri")
    admin.goto(site + "/edit/new")
    bar = admin.locator(".form-actions")
    box = bar.bounding_box()
    assert box["height"] <= 64, f"the save bar is {box['height']}px tall"
    assert bar.evaluate("b => b.scrollWidth <= b.clientWidth"), "the save bar scrolls sideways"
    controls = bar.locator("button:visible, summary:visible").all()
    assert [c.inner_text().strip() for c in controls] == ["Lưu", "Lưu và…", "Xem trước"]
    for control in controls:
        spot = control.bounding_box()
        assert spot["x"] >= 0 and spot["x"] + spot["width"] <= PHONE["width"], f"{control.inner_text()} is cut off"
        assert spot["height"] >= 44 and round(spot["y"]) == round(controls[0].bounding_box()["y"])
    # The menu opens upward, inside the screen, and its actions work.
    admin.fill("#title", "Mô hình thử trình đơn lưu")
    admin.fill("#summary", "Mô hình thử cho trình đơn trên điện thoại.")
    admin.fill("#unit", "Đồn Biên phòng Thử nghiệm")
    admin.check("input[name=fields][value='Dân vận']")
    admin.fill("#body", "## Cách làm\n\nLàm từng bước.")
    admin.locator(".more-actions > summary").click()
    publish = admin.locator("button[value=publish]")
    spot = publish.bounding_box()
    assert spot["y"] + spot["height"] <= bar.bounding_box()["y"] and spot["y"] >= 0
    assert spot["x"] + spot["width"] <= PHONE["width"] and spot["height"] >= 44
    shoot(admin, f"save-menu-{'js' if javascript else 'nojs'}", full_page=False)
    publish.click()
    admin.wait_for_url(re.compile(r"/models/[a-z0-9-]+$"))
    assert "Mô hình thử trình đơn lưu" in admin.inner_text("h1")
    # A desktop: the form's column beside the preview is narrower; the bar stays inside it.
    wide = open_page(DESKTOP, javascript=javascript, user="quantri")
    wide.goto(site + "/edit/new")
    form = wide.locator("#edit-form").bounding_box()
    for control in wide.locator(".form-actions").locator("button:visible, summary:visible").all():
        spot = control.bounding_box()
        assert spot["x"] >= form["x"] and spot["x"] + spot["width"] <= form["x"] + form["width"], control.inner_text()
    # A screen with room for the whole bar shows every action in it, with no menu to open.
    middle = open_page({"width": 900, "height": 800}, javascript=javascript, user="quantri")
    middle.goto(site + "/edit/new")
    shown = middle.locator(".form-actions").locator("button:visible, summary:visible").all()
    names = [c.inner_text().strip() for c in shown]
    assert names == ["Lưu", "Lưu và gửi duyệt", "Lưu và xuất bản ngay", "Xem trước"]


def test_without_javascript_the_error_list_leads_to_the_field_above_the_save_bar(open_page, site):
    editor = open_page(PHONE, javascript=False, user="bientap")
    _fill_valid_but_the_source_address(editor, site)
    editor.click("button[value=save]")
    # The page opens on the field in error, in view above the bar, with the focus in it.
    editor.wait_for_function("document.activeElement && document.activeElement.id === 'source_url'")
    spot, bar = editor.locator("#source_url").bounding_box(), editor.locator(".form-actions").bounding_box()
    assert spot["y"] >= 0 and spot["y"] + spot["height"] <= bar["y"], (spot, bar)
    editor.evaluate("window.scrollTo(0, 0)")
    editor.locator(".error-links a[href='#source_url']").click()
    spot, bar = editor.locator("#source_url").bounding_box(), editor.locator(".form-actions").bounding_box()
    assert spot["y"] >= 0 and spot["y"] + spot["height"] <= bar["y"]
    assert editor.locator("label[for=source_url]").bounding_box()["y"] >= 0  # its label shows too


def test_on_a_desktop_the_preview_sits_beside_the_form(open_page, site):
    editor = open_page(DESKTOP, user="bientap")
    editor.goto(site + "/edit/new")
    editor.fill("#body", "## Cách làm\n\nXem trước xqzbenh.")
    editor.locator("#preview", has_text="Xem trước xqzbenh.").wait_for()
    form, preview = editor.locator("#edit-form").bounding_box(), editor.locator(".preview").bounding_box()
    assert preview["x"] >= form["x"] + form["width"], "the preview is not beside the form"
    assert preview["y"] < 800 and preview["width"] >= 400
    editor.locator("#body").scroll_into_view_if_needed()
    assert editor.locator(".preview").bounding_box()["y"] < 800  # it stays in view while typing lower down
    shoot(editor, "edit-preview-beside")


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_failed_title_looks_in_error_like_every_failed_field(open_page, site, size):
    editor = open_page(size, user="bientap")
    editor.goto(site + "/edit/new")
    editor.fill("#title", "!!!")
    editor.fill("#summary", "")
    editor.click("button[value=save]")
    editor.locator(".form-error").first.wait_for()
    for name in ("title", "summary", "unit"):
        box = editor.locator(f"#{name}")
        assert box.evaluate("e => getComputedStyle(e).borderTopColor") == RED, name
        assert box.get_attribute("aria-invalid") == "true", name
        message = editor.locator(f"#{name}-error")
        assert message.is_visible() and f"{name}-error" in box.get_attribute("aria-describedby")
    assert "ít nhất một chữ cái" in editor.inner_text("#title-error")


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_new_pages_have_no_serious_accessibility_violations(open_page, site, size):
    admin = open_page(size, user="quantri", bypass_csp=True)  # the checker is injected as an inline script
    slug = publish_new(admin, site, "truy cập")
    editor = open_page(size, user="bientap", bypass_csp=True)
    editor.goto(site + f"/models/{slug}/edit")
    editor.fill("#body", "## Cách làm\n\nBản đề xuất để kiểm tra.")
    editor.click("button[value=save]")
    editor.wait_for_url(site + f"/models/{slug}")
    admin.goto(site + f"/models/{slug}")
    admin.locator(".workflow a[href*='/proposals/']").first.click()
    admin.locator("button", has_text="Từ chối").click()
    assert serious_violations(admin) == [], "confirmation page"
    admin.fill("#reason", "Chưa đủ nguồn.")
    admin.locator("button.danger", has_text="Xác nhận từ chối").click()
    admin.wait_for_url(site + f"/models/{slug}")
    for path, name in (("/edit", "desk"), (f"/models/{slug}/history", "history")):
        editor.goto(site + path)
        assert serious_violations(editor) == [], name
    editor.goto(site + "/edit/new")
    editor.fill("#title", "!!!")
    editor.click("button[value=save]")
    editor.locator(".error-links").wait_for()
    assert serious_violations(editor) == [], "edit form with errors"
