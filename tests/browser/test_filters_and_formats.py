"""Reading on a phone and a desktop: the filters, their chips, the keyboard, the formats page, print."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
from pages import DESKTOP, PHONE, serious_violations, shoot

SEARCH = "/search?q=vườn+ươm+thử+nghiệm"
SIZES = pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])


def total(page) -> int:
    """Return the number of results the heading announces."""
    return int(re.match(r"\d+", page.inner_text("#ket-qua").strip()).group())


def chips(page) -> list[str]:
    """Return the active filters' chips, as read."""
    return [" ".join(t.split()) for t in page.locator(".chip-remove").all_inner_texts()]


def query_of(page) -> dict[str, list[str]]:
    """Return the arguments of the page's address."""
    return parse_qs(urlsplit(page.url).query)


def choose(page, size: dict, group: str, name: str) -> None:
    """Switch a facet value on, through the "Lọc" control on a phone, opening its group if closed."""
    if size == PHONE:
        page.click(".filter-toggle")
    if page.locator(".facet:not([open]) summary", has_text=group).count():
        page.click(f".facet summary:has-text('{group}')")
    page.locator(".facet-value", has_text=name).first.click()
    page.wait_for_load_state()


@pytest.mark.parametrize(
    ("size", "javascript"), [(PHONE, True), (PHONE, False), (DESKTOP, True)], ids=["phone", "phone-no-js", "desktop"]
)
def test_the_filters_are_on_the_first_screen_and_each_chip_removes_one_filter(open_page, site, size, javascript):
    page = open_page(size, javascript=javascript)
    page.goto(site + SEARCH)
    everything = total(page)
    if size == PHONE:
        toggle = page.locator(".filter-toggle")
        assert toggle.is_visible() and toggle.bounding_box()["y"] + toggle.bounding_box()["height"] <= size["height"]
        assert not page.locator(".facets").is_visible()  # folded until asked for
        assert page.locator(".result").first.bounding_box()["y"] < size["height"]  # the results stay in view
    else:
        assert not page.locator(".filter-toggle").is_visible()  # no button: the filters are there
        facets, results = page.locator(".facets").bounding_box(), page.locator(".results").bounding_box()
        assert facets["y"] < size["height"] and facets["x"] + facets["width"] <= results["x"]  # beside the results
    choose(page, size, "Tỉnh, thành phố", "Lai Châu")
    choose(page, size, "Năm", "2012")
    assert query_of(page) == {"q": ["vườn ươm thử nghiệm"], "province": ["Lai Châu"], "year": ["2012"]}
    assert chips(page) == ["Lai Châu ×", "2012 ×"]
    chip = page.locator(".chip-remove").first.bounding_box()
    assert chip["y"] + chip["height"] <= size["height"]  # on the first screen
    if size == PHONE:
        assert "2 đang chọn" in page.inner_text(".filter-toggle")
    shoot(page, "filters-chosen")
    page.click(".chip-remove:has-text('Lai Châu')")
    assert query_of(page) == {"q": ["vườn ươm thử nghiệm"], "year": ["2012"]}  # the rest of the search kept
    assert chips(page) == ["2012 ×"]
    page.click(".chip-remove")
    assert query_of(page) == {"q": ["vườn ươm thử nghiệm"]} and total(page) == everything
    assert page.locator(".chip-remove").count() == 0


@SIZES
def test_every_facet_shows_an_arrow_that_turns_when_opened(open_page, site, size):
    page = open_page(size)
    page.goto(site + SEARCH)
    if size == PHONE:
        page.click(".filter-toggle")
    arrow = (
        "e => { const s = getComputedStyle(e, '::before');"
        " return [s.content, s.width, s.borderRightWidth, s.transform]; }"
    )
    summaries = page.locator(".facet summary")
    assert summaries.count() >= 4
    for summary in summaries.all():
        content, width, border, _ = summary.evaluate(arrow)
        assert content != "none" and float(width[:-2]) >= 6 and float(border[:-2]) >= 2, summary.inner_text()
    closed = page.locator(".facet:not([open]) summary", has_text="Năm")
    assert closed.count() == 1 and page.locator(".facet:not([open]) summary", has_text="Đơn vị").count() == 1
    before = closed.evaluate(arrow)[3]
    closed.click()
    assert page.locator(".facet[open] summary", has_text="Năm").evaluate(arrow)[3] != before
    assert page.locator(".facet-value", has_text="2012").is_visible()


def test_on_a_desktop_filters_taller_than_the_screen_are_all_in_reach_beside_the_first_results(open_page, site):
    page = open_page(DESKTOP, bypass_csp=True)  # the accessibility checker is injected as an inline script
    page.goto(site + SEARCH)
    while page.locator(".facet:not([open]) summary").count():
        page.locator(".facet:not([open]) summary").first.click()
    panel = page.locator(".facets")
    assert panel.evaluate("e => e.scrollHeight") > DESKTOP["height"], "the test needs filters taller than the screen"
    page.evaluate("window.scrollTo(0, 300)")  # past the header, among the first results
    page.wait_for_function("window.scrollY === 300")
    box = panel.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= DESKTOP["height"], "the filters run past the screen"
    # The last filter is reached where the results start: by the wheel over the filters...
    last = page.locator(".facet-value").last
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, 5000)
    page.wait_for_function("() => { const e = document.querySelector('.facets');"
                           " return e.scrollTop + e.clientHeight >= e.scrollHeight - 1; }")  # fmt: skip
    spot = last.bounding_box()
    assert spot["y"] >= 0 and spot["y"] + spot["height"] <= DESKTOP["height"]
    assert page.evaluate("window.scrollY") == 300, "the page scrolled instead of the filters"
    assert page.locator(".result-title a").nth(1).bounding_box()["y"] < DESKTOP["height"]
    # ...and by the keyboard, each filter scrolled into view as it takes the focus.
    panel.evaluate("e => { e.scrollTop = 0; }")
    page.locator(".facet-value").first.focus()
    for _ in range(page.locator(".facet-value").count() + page.locator(".facet summary").count()):
        if last.evaluate("e => e === document.activeElement"):
            break
        page.keyboard.press("Tab")
    assert last.evaluate("e => e === document.activeElement")
    spot = last.bounding_box()
    assert spot["y"] >= 0 and spot["y"] + spot["height"] <= DESKTOP["height"]
    assert serious_violations(page) == []
    shoot(page, "filters-scroll", full_page=False)


def tab_until(page, selector: str, limit: int = 80) -> list[str]:
    """Press Tab until the focus is on selector; return what each press reached."""
    reached = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.className + ':' + document.activeElement.innerText"))
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return reached
    raise AssertionError(f"Tab never reached {selector}: {reached}")


@SIZES
def test_the_keyboard_goes_from_the_search_box_to_the_filters_then_the_results(open_page, site, size):
    page = open_page(size)
    page.goto(site + SEARCH)
    page.focus("#q")
    reached = tab_until(page, ".result-title a")
    first_filter = next(i for i, r in enumerate(reached) if r.startswith(("facet-value", "filter-toggle")))
    assert reached[0].startswith(":Tìm kiếm") and first_filter < len(reached) - 1, reached
    if size == DESKTOP:
        # A skip link right after the box jumps over the filters to the results.
        page.focus("#q")
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip-filters"
        assert page.locator(".skip-filters").is_visible()
        page.keyboard.press("Enter")
        after = tab_until(page, ".result-title a")
        assert not any(r.startswith("facet-value") for r in after), after


@pytest.mark.parametrize(("path", "box"), [("/", "#q"), ("/models/tu-thuoc-bien-cuong", "#q-header")])
def test_the_search_placeholder_fits_a_phone(open_page, site, path, box):
    page = open_page(PHONE)
    page.goto(site + path)
    text, room = page.locator(box).evaluate(
        """e => { const s = getComputedStyle(e), c = document.createElement('canvas').getContext('2d');
            c.font = s.font;
            return [c.measureText(e.placeholder).width,
                    e.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight)]; }"""
    )
    assert text <= room * 0.85, f"the placeholder needs {text:.0f}px of {room:.0f}px"  # room for other fonts


@SIZES
def test_the_footer_leads_to_a_page_that_explains_the_feed_and_the_export(open_page, site, size):
    page = open_page(size)
    page.goto(site + "/")
    footer = page.locator(".site-footer")
    assert footer.locator("a[href$='/feed.xml'], a[href$='/api/export']").count() == 0  # no raw XML or JSON
    footer.locator("a", has_text="Theo dõi tin mới và tải dữ liệu").click()
    page.wait_for_url(re.compile(r"/du-lieu$"))
    assert page.inner_text("h1") == "Theo dõi tin mới và tải dữ liệu"
    assert page.inner_text("#feed-url") == site + "/feed.xml"  # the address to paste into a reader
    assert "Cách đăng ký" in page.inner_text("#tin-moi")
    feed = page.request.get(site + page.get_attribute("#tin-moi a.button", "href"))
    assert feed.ok and feed.headers["content-type"].startswith("application/atom+xml")
    export = page.locator("#xuat-du-lieu a[download]")
    assert export.get_attribute("download") == "kho-mo-hinh-hay.json"
    assert page.request.get(site + export.get_attribute("href")).json()["count"] > 10
    assert page.locator("#thong-ke-csv a[download]").count() == 5
    shoot(page, "formats")


@pytest.mark.parametrize("user", [None, "thanhvien"])
def test_the_print_brief_says_where_and_when_and_drops_the_controls(open_page, site, user):
    page = open_page(DESKTOP, user=user)
    page.goto(site + "/models/tu-thuoc-bien-cuong")
    assert not page.locator(".print-header").is_visible()  # on screen, nothing changes
    page.emulate_media(media="print")
    header = page.locator(".print-header")
    assert header.is_visible()
    text = header.inner_text()
    assert "Kho mô hình hay" in text and site + "/models/tu-thuoc-bien-cuong" in text
    assert f"In ngày {date.today():%d/%m/%Y}" in text
    visible = page.locator("body").inner_text()
    assert "Đăng nhập" not in visible and "Ghi nhận đơn vị đã áp dụng" not in visible
    controls = "button:visible, .button:visible, form:visible, input:visible, .breadcrumb:visible"
    assert page.locator(controls).count() == 0
    assert page.locator("h1").is_visible() and page.locator(".entry-body").is_visible()
    # A page left open for days still prints the day it is printed.
    page.eval_on_selector(".print-date", "e => { e.textContent = '01/01/2020'; }")
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert page.inner_text(".print-date") == f"{date.today():%d/%m/%Y}"
