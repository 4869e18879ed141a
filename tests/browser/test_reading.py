"""Reading in a browser: search, filters, pages, entries, suggestions, keyboard, no JavaScript."""

from __future__ import annotations

import re

import pytest
from pages import DESKTOP, PHONE, shoot


def results(page) -> list[str]:
    """Return the titles of the results shown."""
    return page.locator(".result-title a").all_inner_texts()


@pytest.mark.parametrize("query", ["tủ thuốc biên cương", "tu thuoc bien cuong"])
def test_search_with_and_without_diacritics_finds_the_model(open_page, site, query):
    page = open_page()
    page.goto(site + "/")
    page.fill("#q", query)
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r"/search\?q="))
    assert results(page)[0] == "Tủ thuốc biên cương"
    assert page.locator(".result mark").count() > 0  # the words are highlighted


def total(page) -> int:
    """Return the number of results the heading announces."""
    return int(re.match(r"\d+", page.inner_text("#ket-qua").strip()).group())


def test_a_facet_filter_is_applied_and_removed(open_page, site):
    page = open_page(DESKTOP)
    page.goto(site + "/search?q=vườn+ươm+thử+nghiệm")
    everything = total(page)
    facet = page.locator(".facet-value", has_text="Lai Châu")
    count = int(facet.locator(".count").inner_text())
    facet.click()
    assert total(page) == count < everything
    assert all(t.startswith("Vườn ươm thử nghiệm") for t in results(page))
    assert page.locator(".chip-remove").inner_text().startswith("Lai Châu")
    page.locator(".chip-remove").click()
    assert total(page) == everything


def test_paging_through_results_shows_each_entry_once(open_page, site):
    page = open_page()
    page.goto(site + "/search?q=vườn+ươm+thử+nghiệm")
    pages = -(-total(page) // 10)
    first = results(page)
    assert len(first) == 10 and pages >= 2 and f"Trang 1 / {pages}" in page.inner_text(".pagination")
    page.click("a[rel=next]")
    second = results(page)
    assert second and not set(first) & set(second) and f"Trang 2 / {pages}" in page.inner_text(".pagination")
    page.click("a[rel=prev]")
    assert results(page) == first


def test_opening_an_entry_shows_its_text_metadata_and_source(open_page, site):
    page = open_page()
    page.goto(site + "/search?q=thắp+sáng+vùng+biên")
    page.locator(".result-title a").first.click()
    assert page.inner_text("h1") == "Thắp sáng vùng biên"
    assert page.locator(".entry-meta").inner_text().count("Lĩnh vực") == 1
    assert page.locator(".entry-source").is_visible()
    shoot(page, "entry")


def test_suggestions_appear_while_typing_and_are_chosen_with_the_keyboard(open_page, site):
    page = open_page()
    page.goto(site + "/")
    page.locator("#q").press_sequentially("tàu thuy", delay=40)
    options = page.locator(".suggest-list [role=option]")
    options.first.wait_for()
    assert page.get_attribute("#q", "aria-expanded") == "true"
    assert any("Tàu thuyền" in t or "tàu thuyền" in t.lower() for t in options.all_inner_texts())
    page.press("#q", "ArrowDown")
    chosen = options.first.inner_text()
    assert page.get_attribute("#q", "aria-activedescendant") == options.first.get_attribute("id")
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r"/models/"))
    assert page.inner_text("h1") == chosen


def test_did_you_mean_leads_to_results(open_page, site):
    page = open_page()
    page.goto(site + "/search?q=tủ+thuôc+biên+cuơng")
    link = page.locator(".suggestion a")
    assert link.is_visible()
    link.click()
    assert results(page)[0] == "Tủ thuốc biên cương"


def test_the_whole_reading_flow_works_from_the_keyboard(open_page, site):
    page = open_page(DESKTOP)
    page.goto(site + "/models/thap-sang-vung-bien")  # the home page puts the cursor in the search box
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "noi-dung"
    page.focus("#q-header")
    page.keyboard.type("tổ đò đoàn kết")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search"))
    page.focus(".result-title a")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # focus is visible
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/models/"))
    assert page.locator("h1").is_visible()


def test_search_filters_and_entries_work_without_javascript(open_page, site):
    page = open_page(PHONE, javascript=False)
    page.goto(site + "/")
    page.fill("#q", "vuon uom thu nghiem")
    page.press("#q", "Enter")
    assert results(page)[0].startswith("Vườn ươm thử nghiệm")
    page.click(".filter-toggle")  # on a phone the filters fold into "Lọc" (a <details>: no script needed)
    facet = page.locator(".facet-value", has_text="Tuyên Quang")  # Hà Giang, by its name since 2025
    count = int(facet.locator(".count").inner_text())
    facet.click()
    assert total(page) == count
    page.locator(".result-title a").first.click()
    assert page.inner_text("h1").startswith("Vườn ươm thử nghiệm")


def search_from_home(page, site: str, query: str) -> None:
    """Type a query in the home page's box and submit it."""
    page.goto(site + "/")
    page.fill("#q", query)
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r"/search\?q="))


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_topic_the_knowledge_base_lacks_is_said_plainly(open_page, site, size):
    page = open_page(size)
    search_from_home(page, site, "ma túy")
    assert results(page) == []
    assert "Không tìm thấy mô hình nào về «ma túy»" in page.inner_text("main")
    assert page.locator(".browse-fields a").count() > 0  # ways on: browse by field
    assert "chính tả" not in page.inner_text("main")  # nothing was respelled: spelling is not blamed


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_keys_typed_with_the_keyboard_off_and_everyday_words_find_the_model(open_page, site, size):
    page = open_page(size)
    search_from_home(page, site, "thawps sangs vungf bieen")
    assert "Đã tìm theo «thắp sáng vùng biên»" in page.inner_text("main")
    assert results(page)[0] == "Thắp sáng vùng biên"
    search_from_home(page, site, "người ốm ở biên giới")  # the entry says "tủ thuốc", "y tế"
    assert results(page)[0] == "Tủ thuốc biên cương"
