"""Dates and times the Vietnamese way, and entries dated by their own history rather than by the install."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from helpers import login, site_with_accounts, token, write_entry

from kb.catalog import reindex
from kb.dates import DateError, parse_date, show_date, show_time, start_of
from kb.store import get_entry, open_db

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("2026-06-15T16:59:00+00:00", "15/06/2026 23:59"),  # a minute before midnight in Vietnam
        ("2026-06-15T17:00:00+00:00", "16/06/2026 00:00"),  # midnight in Vietnam: already the next day
        ("2026-12-31T17:30:00+00:00", "01/01/2027 00:30"),  # and the next year
        ("2026-06-15T02:56:00+00:00", "15/06/2026 09:56"),
        ("2026-06-15T02:56:00", "15/06/2026 09:56"),  # no zone written: UTC, as the database keeps it
        ("2024-06-15", "15/06/2024"),
        ("2024-06", "06/2024"),
        ("2024", "2024"),
        ("khoảng năm 2020", "khoảng năm 2020"),  # free text in a file is shown as written
        (None, ""),
    ],
)
def test_times_are_shown_in_vietnam_and_dates_day_first(stored, shown):
    assert show_time(stored) == shown


def test_the_date_of_a_time_is_its_day_in_vietnam():
    assert show_time("2026-06-15T17:00:00+00:00", "date") == "16/06/2026"
    assert show_time("2026-06-15T16:59:59+00:00", "date") == "15/06/2026"
    assert show_date("2022-09-20") == "20/09/2022"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("15/06/2024", "2024-06-15"),
        ("5/6/2024", "2024-06-05"),
        ("15-06-2024", "2024-06-15"),
        ("15.06.2024", "2024-06-15"),
        ("06/2024", "2024-06"),
        ("6/2024", "2024-06"),
        ("2024", "2024"),
        ("2024-06-15", "2024-06-15"),
        ("2024-6", "2024-06"),
        ("  29/02/2024 ", "2024-02-29"),  # a leap year
    ],
)
def test_a_date_is_typed_the_vietnamese_way_or_as_iso_and_kept_as_iso(typed, stored):
    assert parse_date(typed) == stored


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("31/02/2024", "Ngày 31/02/2024 không có thật: tháng 2 năm 2024 chỉ có 29 ngày."),
        ("29/02/2023", "Ngày 29/02/2023 không có thật: tháng 2 năm 2023 chỉ có 28 ngày."),
        ("31/04/2024", "Ngày 31/04/2024 không có thật: tháng 4 năm 2024 chỉ có 30 ngày."),
        ("13/2024", "Tháng 13 không có thật: tháng chỉ từ 1 đến 12."),
        ("2024-13-01", "Tháng 13 không có thật"),
        ("1900", "Năm 1900 không hợp lệ: năm phải từ 1945"),
        ("tháng ba", "“tháng ba” không phải một ngày. Hãy nhập ngày/tháng/năm, tháng/năm hoặc năm"),
    ],
)
def test_an_impossible_date_is_refused_with_a_message_saying_why(typed, message):
    with pytest.raises(DateError, match=re.escape(message)):
        parse_date(typed)


def test_the_feed_gets_a_full_timestamp_even_from_a_year():
    assert start_of("2022") == "2021-12-31T17:00:00+00:00"  # 1 January 2022, midnight in Vietnam
    assert start_of("2022-09-20") == "2022-09-19T17:00:00+00:00"
    assert start_of("2026-06-15T02:56:00+00:00") == "2026-06-15T02:56:00+00:00"


@pytest.fixture
def site(content_dir, data_dir):
    """An install of two shipped entries: one with a dated source, one with only a year."""
    common = {"summary": "Tóm tắt.", "unit": "Đồn Biên phòng Thử", "fields": ["Dân vận"], "status": "published"}
    write_entry(content_dir, "co-nguon", "Nội dung.", title="Có nguồn", year=2022,
                source={"title": "Báo", "date": "2022-09-20"}, **common)  # fmt: skip
    write_entry(content_dir, "chi-co-nam", "Nội dung.", title="Chỉ có năm", year=2021, **common)
    return site_with_accounts(content_dir, data_dir, {"quantri": "admin"})


def _updated_line(client, slug: str) -> str:
    return re.search(r'<p class="entry-updated">([^<]*)</p>', client.get(f"/models/{slug}").get_data(as_text=True))[1]


def _feed(client) -> dict[str, tuple[str, str]]:
    root = ET.fromstring(client.get("/feed.xml").data)
    return {
        e.find(f"{ATOM}title").text: (e.find(f"{ATOM}published").text, e.find(f"{ATOM}updated").text)
        for e in root.findall(f"{ATOM}entry")
    }


def test_shipped_entries_are_dated_by_their_source_or_year_not_by_the_install(site):
    client = site.test_client()
    assert _updated_line(client, "co-nguon") == "Cập nhật: 20/09/2022"
    assert _updated_line(client, "chi-co-nam") == "Cập nhật: 2021"
    feed = _feed(client)
    assert feed["Có nguồn"] == ("2022-09-19T17:00:00+00:00", "2022-09-19T17:00:00+00:00")
    assert feed["Chỉ có năm"] == ("2020-12-31T17:00:00+00:00", "2020-12-31T17:00:00+00:00")
    assert list(feed).index("Có nguồn") < list(feed).index("Chỉ có năm")  # newest first, by their own dates


def test_a_save_from_the_browser_dates_the_entry_and_a_fresh_reindex_keeps_that(site, content_dir, data_dir):
    client = site.test_client()
    assert login(client, "quantri").status_code == 302
    url = "/models/chi-co-nam/edit"
    page = client.get(url).get_data(as_text=True)
    base = re.search(r'name="base_hash" type="hidden" value="([^"]*)"', page)[1]
    form = {"title": "Chỉ có năm", "summary": "Tóm tắt mới.", "unit": "Đồn Biên phòng Thử", "fields": ["Dân vận"],
            "year": "2021", "body": "Nội dung.", "csrf_token": token(page), "base_hash": base}  # fmt: skip
    assert client.post(url, data=form).status_code == 302
    saved_at = open_db(data_dir).execute("SELECT max(created_at) FROM revisions").fetchone()[0]
    assert get_entry(open_db(data_dir), "chi-co-nam")["updated_at"] == saved_at
    assert _updated_line(client, "chi-co-nam") == f"Cập nhật: {show_time(saved_at, 'date')}"
    # A full reindex (or a clone's first one, with new file times) dates it by the same history.
    reindex(content_dir, data_dir, full=True)
    assert get_entry(open_db(data_dir), "chi-co-nam")["updated_at"] == saved_at
    assert get_entry(open_db(data_dir), "co-nguon")["updated_at"] == "2022-09-20"
    assert _feed(client)["Chỉ có năm"][1] == saved_at  # its last change; first published still its year
