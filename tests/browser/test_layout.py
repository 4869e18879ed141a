"""Pleasant on a phone, composed on a desktop, accessible, and printable as a brief."""

from __future__ import annotations

import itertools
import json
import re

import pytest
from pages import DESKTOP, PHONE, serious_violations, shoot

PUBLIC = {
    "home": "/",
    "search": "/search?q=tủ+thuốc",
    "entry": "/models/tu-thuoc-bien-cuong",
    "statistics": "/thong-ke",
    "formats": "/du-lieu",
}
SIGNED_IN = {
    "edit": "/models/tu-thuoc-bien-cuong/edit",
    "new": "/edit/new",
    "admin": "/admin",
    "replication": "/models/thap-sang-vung-bien/replications/new",
}
# What a finger presses: controls and the links that stand alone (not words inside a sentence).
TAP_TARGETS = (
    "button:visible, input:not([type=hidden]):visible, select:visible, summary:visible, "
    ".account-nav a:visible, .brand:visible, .result-title a:visible, .facet-value:visible, "
    ".pagination a:visible, .chip:visible, .chip-remove:visible, .field-grid a:visible, .check:visible, "
    ".sort-links a:visible, .workflow-actions a:visible"
)


def pages_to_check():
    return [(name, path, None) for name, path in PUBLIC.items()] + [
        (name, path, "quantri") for name, path in SIGNED_IN.items()
    ]


@pytest.mark.parametrize(("name", "path", "user"), pages_to_check())
def test_on_a_phone_nothing_scrolls_sideways_and_every_target_is_big_enough(open_page, site, name, path, user):
    page = open_page(PHONE, user=user)
    page.goto(site + path)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name}: the page is {width}px wide on a 360px screen"
    small = []
    targets = page.locator(TAP_TARGETS).element_handles()
    assert len(targets) >= 3, f"{name}: the check found nothing to press"
    for handle in targets:
        box = handle.bounding_box()
        if box and box["height"] < 40 and handle.get_attribute("type") not in ("checkbox", "radio"):
            small.append((handle.evaluate("e => e.outerHTML.slice(0, 80)"), round(box["height"])))
    assert small == [], f"{name}: tap targets under 40px: {small}"
    shoot(page, name)


@pytest.mark.parametrize(("name", "path", "user"), pages_to_check())
def test_on_a_desktop_pages_are_composed_not_stretched(open_page, site, name, path, user):
    page = open_page(DESKTOP, user=user)
    page.goto(site + path)
    main = page.locator("main").bounding_box()
    assert main["width"] <= 1100 and main["x"] > 50  # a readable column, centred
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
    shoot(page, name)


def test_the_search_box_suits_an_on_screen_keyboard(open_page, site):
    page = open_page(PHONE)
    page.goto(site + "/")
    box = page.locator("#q")
    assert box.get_attribute("type") == "search" and box.get_attribute("enterkeyhint") == "search"
    assert box.get_attribute("autocomplete") == "off"
    # At 16px or more, phones do not zoom the page when the box gets focus.
    assert float(box.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 16
    box.click()
    assert page.evaluate("document.activeElement.id") == "q"


@pytest.mark.parametrize(
    ("name", "path", "user"),
    [
        *pages_to_check(),
        ("login", "/login", None),
        ("search-filtered", "/search?q=vườn+ươm+thử+nghiệm&province=Lai+Châu", None),
        ("desk", "/edit", "bientap"),
        ("history", "/models/goc-doc-sach-lich-su/history", "quantri"),
    ],
)
def test_no_serious_accessibility_violations(open_page, site, name, path, user):
    page = open_page(DESKTOP, user=user, bypass_csp=True)  # the checker is injected as an inline script
    if path == HISTORY:
        ensure_history(page, site)
    page.goto(site + path)
    found = serious_violations(page)
    assert found == [], f"{name}: {json.dumps(found, ensure_ascii=False)}"


def test_pages_declare_vietnamese_and_keep_headings_in_order(open_page, site):
    page = open_page(DESKTOP)
    for path in PUBLIC.values():
        page.goto(site + path)
        assert page.get_attribute("html", "lang") == "vi"
        levels = [
            int(t[1]) for t in page.eval_on_selector_all("main h1, main h2, main h3", "els => els.map(e => e.tagName)")
        ]
        assert levels and levels[0] == 1
        assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), f"{path}: {levels}"


def test_an_entry_prints_as_a_brief_without_navigation_and_with_links_as_text(open_page, site, tmp_path):
    page = open_page(DESKTOP)
    page.goto(site + "/models/tu-thuoc-bien-cuong")
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible()
    assert not page.locator(".related").is_visible()
    pdf = page.pdf(format="A4", path=str(tmp_path / "brief.pdf"))
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 1 <= pages <= 2, f"the brief takes {pages} pages"
    page.goto(site + "/models/vuon-uom-thu-nghiem-so-1")
    after = page.locator(".entry-source a").evaluate("e => getComputedStyle(e, '::after').content")
    assert "https://example.org/vuon-uom" in after  # the address is printed after the link


# Every page each role reaches: readers, a member, an editor, an admin.
HISTORY = "/models/goc-doc-sach-lich-su/history"
EVERY_PAGE = [
    ("home", "/", None),
    ("search", "/search?q=tủ+thuốc", None),
    ("search-filtered", "/search?q=vườn+ươm+thử+nghiệm&province=Lai+Châu&year=2012", None),
    ("entry", "/models/tu-thuoc-bien-cuong", None),
    ("entry-with-files", "/models/vuon-uom-thu-nghiem-so-14", None),
    ("statistics", "/thong-ke", None),
    ("formats", "/du-lieu", None),
    ("login", "/login", None),
    ("entry-member", "/models/tu-thuoc-bien-cuong", "thanhvien"),
    ("replication", "/models/thap-sang-vung-bien/replications/new", "thanhvien"),
    ("desk", "/edit", "bientap"),
    ("history", HISTORY, "bientap"),
    ("new", "/edit/new", "bientap"),
    ("edit-with-files", "/models/vuon-uom-thu-nghiem-so-14/edit", "bientap"),
    ("entry-editor", "/models/thap-sang-vung-bien", "bientap"),
    ("admin", "/admin", "quantri"),
    ("users", "/admin/users", "quantri"),
    ("audit", "/admin/audit", "quantri"),
    ("searches", "/admin/searches", "quantri"),
    ("history-admin", HISTORY, "quantri"),
]
# Links and controls the check always measures, even beside words: the kinds found too small.
ALWAYS_MEASURED = (
    ".site-footer a, .breadcrumb a, .desk-list a, td a, table input, a[download], input[type=radio], "
    "input[type=checkbox], .admin-links a, .chosen a"
)
# Primary actions, 44 px high on a phone.
PRIMARY = (
    "button[type=submit]:not(.small):not(.link-button), .button:not(.small-button), input[type=search], "
    ".filter-toggle, .footer-links a, .pagination a"
)
TOO_SMALL = """([always, primary, phone]) => {
    const wordsBeside = (el) => {  // a link inside a sentence (WCAG's exception for inline targets)
        let block = el.parentElement;
        while (block && getComputedStyle(block).display.startsWith('inline')) block = block.parentElement;
        let text = block ? block.innerText : '';
        for (const other of block ? block.querySelectorAll('a, button, input, select') : []) {
            text = text.replace(other.innerText || '', '');
        }
        return /[\\p{L}\\p{N}]/u.test(text);
    };
    const found = [];
    for (const el of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, summary')) {
        const r = el.getBoundingClientRect();
        if (!r.width || !r.height || getComputedStyle(el).visibility === 'hidden') continue;  // not shown
        if (el.matches('.skip-link, .skip-filters')) continue;  // off screen until focused
        if (!el.matches(always) && wordsBeside(el)) continue;
        const what = el.outerHTML.slice(0, 90);
        if (r.width < 24 || r.height < 24) found.push([what, Math.round(r.width), Math.round(r.height)]);
        else if (phone && el.matches(primary) && r.height < 44) found.push([what, 'primary', Math.round(r.height)]);
    }
    return found;
}"""


def ensure_history(page, site: str) -> None:
    """Give the history pages two revisions of a draft (written once per test session)."""
    if page.request.get(site + HISTORY).status == 200:
        return
    page.goto(site + "/edit/new")
    page.fill("#title", "Góc đọc sách lịch sử")
    page.fill("#summary", "Góc đọc sách cho bà con vùng biên, để thử trang lịch sử.")
    page.fill("#unit", "Đồn Biên phòng Thử nghiệm")
    page.check("input[name=fields][value='Dân vận']")
    page.fill("#body", "Bản đầu.")
    page.click("button[value=save]")
    page.wait_for_url(re.compile(r"/models/goc-doc-sach-lich-su$"))
    page.goto(site + "/models/goc-doc-sach-lich-su/edit")
    page.fill("#body", "Bản thứ hai.")
    page.click("button[value=save]")
    page.wait_for_url(re.compile(r"/models/goc-doc-sach-lich-su$"))


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize(("name", "path", "user"), EVERY_PAGE, ids=[p[0] for p in EVERY_PAGE])
def test_every_target_on_every_page_is_at_least_24px_and_primary_actions_44px_on_a_phone(
    open_page, site, name, path, user, size
):
    page = open_page(size, user=user)
    if user in ("bientap", "quantri"):  # the desk lists the draft, its history has revisions
        ensure_history(page, site)
    page.goto(site + path)
    assert page.locator(ALWAYS_MEASURED).count() + page.locator(PRIMARY).count() >= 3, f"{name}: nothing measured"
    found = page.evaluate(TOO_SMALL, [ALWAYS_MEASURED, PRIMARY, size == PHONE])
    assert found == [], f"{name}: targets under 24×24 px (or primary actions under 44 px on a phone): {found}"
