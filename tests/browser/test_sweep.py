"""Every page each role reaches, on a phone and a desktop: no serious accessibility violation; tables that fit."""

from __future__ import annotations

import json
import re

import pytest
from pages import DESKTOP, PHONE, serious_violations, shoot, sign_in

SIZES = {"phone": PHONE, "desktop": DESKTOP}
HISTORY_OF = "vuon-uom-thu-nghiem-so-13"  # saved once from the browser by the fixture below
PROPOSED = "vuon-uom-thu-nghiem-so-12"  # an editor proposes a change to it
RECORDED = "vuon-uom-thu-nghiem-so-11"  # a member records a unit that adopted it

ANONYMOUS = {
    "home": "/",
    "search": "/search?q=tủ+thuốc",
    "search without results": "/search?q=qqzzxxkhongco",
    "entry": "/models/tu-thuoc-bien-cuong",
    "entry with photos": "/models/vuon-uom-thu-nghiem-so-14",
    "statistics": "/thong-ke",
    "formats": "/du-lieu",
    "login": "/login",
    "404": "/trang-khong-co",
    "404 entry": "/models/khong-co-muc-nay",
}


def save(page) -> None:
    """Press the form's save button and wait to leave the form.

    On a machine under heavy load the first render of the text can pass its time limit (a new
    helper process's start counts in it): the form comes back with a message and everything typed,
    and pressing again is what a person would do.
    """
    for attempt in range(6):
        if attempt:
            page.wait_for_timeout(1000 * attempt)
        with page.expect_navigation(timeout=60_000):
            page.click("button[value=save]")
        if "/edit" not in page.url:
            return
    raise AssertionError(page.inner_text("main")[:500])


@pytest.fixture(scope="module")
def seeded(browser, site) -> dict[str, str]:
    """Give the site a history, a proposal, a replication record and a reindex job; return their pages."""
    context = browser.new_context(viewport=DESKTOP, locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        sign_in(page, site, "bientap")
        page.goto(f"{site}/models/{PROPOSED}/edit")
        page.fill("#comment", "Đề xuất sửa để thử trang duyệt")
        page.fill("#summary", "Vườn ươm cây giống ở đồn biên phòng, bản tóm tắt được đề xuất sửa.")
        save(page)
        page.goto(site + "/edit")
        proposal = page.locator(f"a[href*='/models/{PROPOSED}/proposals/']").first.get_attribute("href")

        page.context.clear_cookies()
        sign_in(page, site, "thanhvien")
        page.goto(f"{site}/models/{RECORDED}/replications/new")
        page.fill("#unit", "Đồn Biên phòng Quét Thử")
        page.fill("#start_date", "15/03/2024")
        page.click("form.stack-form button[type=submit]")
        page.wait_for_url(lambda url: "/replications/new" not in url)

        page.context.clear_cookies()
        sign_in(page, site, "quantri")
        page.goto(f"{site}/models/{HISTORY_OF}/edit")
        page.fill("#comment", "Sửa lời tóm tắt cho rõ hơn, một ghi chú khá dài để xem bảng có vừa màn hình không")
        page.fill("#summary", "Vườn ươm cây giống ở đồn biên phòng số 13, thử nghiệm giống mới cho bà con trong xã.")
        save(page)
        page.goto(f"{site}/models/{HISTORY_OF}/history")
        ids = page.eval_on_selector_all("input[name=from]", "els => els.map(e => e.value)")
        page.goto(site + "/admin")
        page.click("button:has-text('Lập chỉ mục lại ngay')")
        page.wait_for_url(re.compile(r"/admin/jobs/\d+$"))
        job = page.url[len(site) :]
        page.locator("#job-phase", has_text="Hoàn tất").wait_for(timeout=90_000)
    finally:
        context.close()
    return {
        "history": f"/models/{HISTORY_OF}/history",
        "history with a proposal": f"/models/{PROPOSED}/history",
        "revision": f"/models/{HISTORY_OF}/revisions/{ids[-1]}",
        "compare": f"/models/{HISTORY_OF}/diff?from={ids[-1]}&to={ids[0]}",
        "proposal review": proposal,
        "job": job,
    }


def pages_for(role: str, seeded: dict[str, str]) -> dict[str, str]:
    """Return every page this role can reach (name -> path), error pages included."""
    pages = dict(ANONYMOUS)
    if role == "anonymous":
        return pages
    del pages["login"]
    pages["replication form"] = "/models/thap-sang-vung-bien/replications/new"
    if role in ("member", "editor"):
        pages["403"] = "/admin"
    if role == "member":
        return pages
    pages |= {
        "desk": "/edit",
        "edit": "/models/tu-thuoc-bien-cuong/edit",
        "edit with photos": "/models/vuon-uom-thu-nghiem-so-14/edit",
        "new": "/edit/new",
        **{
            name: seeded[name]
            for name in ("history", "history with a proposal", "revision", "compare", "proposal review")
        },
    }
    if role == "admin":
        pages |= {
            "admin": "/admin",
            "admin users": "/admin/users",
            "admin audit": "/admin/audit",
            "admin searches": "/admin/searches",
            "admin job": seeded["job"],
        }
    return pages


USERS = {"anonymous": None, "member": "thanhvien", "editor": "bientap", "admin": "quantri"}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("role", USERS)
def test_no_page_any_role_reaches_has_a_serious_accessibility_violation(open_page, site, seeded, role, size):
    page = open_page(SIZES[size], user=USERS[role], bypass_csp=True)  # the checker is injected as an inline script
    found = {}
    for name, path in pages_for(role, seeded).items():
        response = page.goto(site + path)
        expected = 404 if name.startswith("404") else 403 if name == "403" else 200
        assert response.status == expected, f"{name} ({path}) answered {response.status}"
        if violations := serious_violations(page):
            found[f"{name} {path}"] = violations
    assert found == {}, json.dumps(found, ensure_ascii=False, indent=1)


# Every question asked before a hard-to-undo action: (role, page, button that asks, its question).
CONFIRMATIONS = [
    ("editor", f"/models/{RECORDED}", ".replication button:has-text('Xóa…')", "Xóa bản ghi nhân rộng"),
    ("admin", "/models/tu-thuoc-bien-cuong", ".workflow-actions button:has-text('Lưu trữ')", "Lưu trữ mục"),
    ("admin", "/models/tu-thuoc-bien-cuong", ".workflow-actions button:has-text('Gỡ xuống')", "Gỡ mục"),
    ("admin", "/admin/users", "tr:has-text('bientap2') button:has-text('Khóa…')", "Khóa tài khoản bientap2"),
    ("admin", "proposal review", "button:has-text('Từ chối')", "Từ chối bản sửa"),
]


@pytest.mark.parametrize("size", SIZES)
def test_every_confirmation_page_is_clean_and_fits(open_page, site, seeded, size):
    found = {}
    for role, where, button, question in CONFIRMATIONS:
        page = open_page(SIZES[size], user=USERS[role], bypass_csp=True)
        page.goto(site + seeded.get(where, where))
        page.locator(button).first.click()
        page.locator("h1", has_text=question).wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"], question
        confirm, cancel = page.locator(".confirm-actions button.danger"), page.locator(".confirm-actions a")
        assert confirm.is_visible() and cancel.is_visible(), question
        if violations := serious_violations(page):
            found[question] = violations
        page.context.close()  # nothing is confirmed: the site stays as the other tests expect it
    assert found == {}, json.dumps(found, ensure_ascii=False, indent=1)


TABLES = {"history": None, "admin users": "/admin/users", "admin audit": "/admin/audit"}


def _table_pages(seeded) -> dict[str, str]:
    return {name: path or seeded[name] for name, path in TABLES.items()}


@pytest.mark.parametrize("size", SIZES)
def test_history_accounts_and_audit_fit_the_screen_with_their_actions_in_view(open_page, site, seeded, size):
    page = open_page(SIZES[size], user="quantri")
    width = SIZES[size]["width"]
    for name, path in _table_pages(seeded).items():
        page.goto(site + path)
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"{name}: the page is {scroll}px wide on a {width}px screen"
        wrap = page.locator(".table-wrap").first
        inner = wrap.evaluate("e => [e.scrollWidth, e.clientWidth]")
        assert inner[0] <= inner[1], f"{name}: the table scrolls sideways inside its box ({inner})"
        shoot(page, name.replace(" ", "-"))
    page.goto(site + "/admin/users")
    actions = page.locator(".users button:visible, .users input:visible, .users select:visible").all()
    assert len(actions) >= 4 * 4  # four accounts: a role, a lock, a password and its button each
    for control in actions:
        box = control.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, control.evaluate("e => e.outerHTML")
    page.goto(site + seeded["history"])
    restore = page.locator("button", has_text="Khôi phục").first
    box = restore.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    assert "(UTC)" not in page.inner_text("main")
    assert re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d", page.inner_text("main"))  # Vietnamese dates and times


@pytest.mark.parametrize("size", SIZES)
def test_on_a_phone_each_row_is_a_card_with_labels_and_on_a_desktop_a_table(open_page, site, seeded, size):
    page = open_page(SIZES[size], user="quantri")
    page.goto(site + "/admin/audit")
    header_shown = page.locator(".audit thead").bounding_box()["height"] > 2  # hidden: clipped to 1px, still read
    label = page.locator(".audit tbody td").first.evaluate("e => getComputedStyle(e, '::before').content")
    if size == "phone":
        assert not header_shown and label == '"Thời gian"'  # each value says what it is
    else:
        assert header_shown and label in ("none", "normal")
    text = page.inner_text(".audit")
    assert "Ghi nhận nhân rộng" in text and "Đơn vị áp dụng: Đồn Biên phòng Quét Thử" in text
    assert "Bắt đầu từ: 15/03/2024" in text and "{" not in text  # no JSON


@pytest.mark.parametrize("size", SIZES)
def test_the_table_regions_are_reached_with_the_keyboard(open_page, site, seeded, size):
    page = open_page(SIZES[size], user="quantri")
    for name, path in _table_pages(seeded).items():
        page.goto(site + path)
        page.focus(".breadcrumb a")
        for _ in range(40):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.classList.contains('table-wrap')"):
                break
        else:
            pytest.fail(f"{name}: the table's scroll region is never reached with Tab")
        region = page.evaluate("[document.activeElement.getAttribute('role'), document.activeElement.ariaLabel]")
        assert region[0] == "region" and region[1], f"{name}: {region}"
