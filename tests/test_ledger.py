"""The replication ledger, evidence levels, statistics, the search log, the feed and the export."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from helpers import login, site_with_accounts, token, write_entry

from kb.catalog import reindex
from kb.replications import MODEL, NEW, SPREAD, evidence_level
from kb.store import open_db
from kb.web.formats import xml_safe

ROOT = Path(__file__).resolve().parent.parent
ATOM = "{http://www.w3.org/2005/Atom}"
RECORD = {
    "unit": "Đồn Biên phòng Thử Một",
    "province": "Quảng Bình",
    "start_date": "2024-03",
    "status": "đang triển khai",
    "adapted": "Đặt tủ thuốc ở nhà văn hóa bản.",
    "result": "Bà con được cấp thuốc thông thường.",
    "contact": "Quân y đồn",
}


@pytest.fixture
def site(content_dir, data_dir):
    """The app with places.yml, one entry filed under a former province name, and four accounts."""
    write_entry(
        content_dir, "bep-an-ban-tru", "## Cách làm\n\nNấu ăn cho học sinh.", title="Bếp ăn bán trú",
        summary="Bữa trưa cho học sinh.", unit="Đồn Biên phòng Thử Hai", province="Hà Giang", fields=["Dân vận"],
        year=2021,
    )  # fmt: skip
    accounts = {"quantri": "admin", "bientap": "editor", "thanhvien": "member", "thanhvien2": "member"}
    return site_with_accounts(content_dir, data_dir, accounts)


def signed_in(app, name: str):
    client = app.test_client()
    assert login(client, name).status_code == 302
    return client


def record(client, slug: str, **values):
    """Fill the 'Ghi nhận đơn vị đã áp dụng' form."""
    page = client.get(f"/models/{slug}/replications/new").get_data(as_text=True)
    return client.post(f"/models/{slug}/replications/new", data={**RECORD, **values, "csrf_token": token(page)})


def search_slugs(client, **args) -> list[str]:
    return [r["slug"] for r in client.get("/api/search", query_string=args).get_json()["results"]]


@pytest.mark.parametrize(
    ("units", "completed", "level"),
    [(0, False, NEW), (1, False, SPREAD), (1, True, SPREAD), (2, True, SPREAD), (3, False, SPREAD), (3, True, MODEL),
     (7, True, MODEL)],
)  # fmt: skip
def test_evidence_levels_at_their_boundaries(units, completed, level):
    assert evidence_level(units, completed) == level


def test_two_units_record_a_model_its_badge_count_and_list_change_and_it_rises(site):
    anonymous = site.test_client()
    page = anonymous.get("/models/thap-sang-vung-bien").get_data(as_text=True)
    assert "Mới đề xuất" in page and "Chưa có đơn vị nào" in page
    before = search_slugs(anonymous, sort="replicated")
    assert before.index("thap-sang-vung-bien") > 0
    member = signed_in(site, "thanhvien")
    assert record(member, "thap-sang-vung-bien", start_date="2023-05").status_code == 302
    assert record(signed_in(site, "thanhvien2"), "thap-sang-vung-bien", unit="Đồn Biên phòng Thử Hai",
                  start_date="2024-01", status="đã hoàn thành").status_code == 302  # fmt: skip
    page = anonymous.get("/models/thap-sang-vung-bien").get_data(as_text=True)
    assert "Đã nhân rộng tại <strong>2</strong> đơn vị" in page
    assert page.index("Đồn Biên phòng Thử Hai") < page.index("Đồn Biên phòng Thử Một")  # newest start first
    assert search_slugs(anonymous, sort="replicated")[0] == "thap-sang-vung-bien"
    hit = anonymous.get("/api/search", query_string={"q": "thắp sáng"}).get_json()["results"][0]
    assert (hit["slug"], hit["level"], hit["units_adopted"]) == ("thap-sang-vung-bien", "Đã nhân rộng", 2)
    results = anonymous.get("/search", query_string={"q": "thắp sáng"}).get_data(as_text=True)
    assert "Đã nhân rộng · 2 đơn vị" in results
    assert search_slugs(anonymous, level="Đã nhân rộng") == ["thap-sang-vung-bien"]


def test_the_same_unit_twice_counts_once_and_a_third_completed_unit_makes_it_exemplary(site):
    member = signed_in(site, "thanhvien")
    record(member, "tu-thuoc-bien-cuong", unit="Đồn Biên phòng A")
    record(member, "tu-thuoc-bien-cuong", unit="  đồn biên phòng a ")  # the same unit, typed otherwise
    record(member, "tu-thuoc-bien-cuong", unit="Đồn Biên phòng B")
    anonymous = site.test_client()
    assert "Đã nhân rộng tại <strong>2</strong> đơn vị" in anonymous.get("/models/tu-thuoc-bien-cuong").get_data(
        as_text=True
    )
    record(member, "tu-thuoc-bien-cuong", unit="Đồn Biên phòng C")
    assert search_slugs(anonymous, level="Điển hình") == []  # three units, none completed yet
    record(member, "tu-thuoc-bien-cuong", unit="Đồn Biên phòng C", status="đã hoàn thành")
    assert search_slugs(anonymous, level="Điển hình") == ["tu-thuoc-bien-cuong"]
    facets = dict(
        map(tuple, [(f["value"], f["count"]) for f in anonymous.get("/api/search").get_json()["facets"]["level"]])
    )
    assert facets["Điển hình"] == 1 and facets["Mới đề xuất"] == 3


def test_who_may_record_correct_and_remove(site, data_dir):
    anonymous = site.test_client()
    response = anonymous.get("/models/thap-sang-vung-bien/replications/new")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    member = signed_in(site, "thanhvien")
    record(member, "thap-sang-vung-bien")
    record_id = next(open_db(data_dir)["replications"].rows)["key"]
    page = member.get("/models/thap-sang-vung-bien").get_data(as_text=True)
    assert member.get(f"/models/thap-sang-vung-bien/replications/{record_id}/edit").status_code == 403
    assert member.post(f"/models/thap-sang-vung-bien/replications/{record_id}/delete",
                       data={"csrf_token": token(page)}).status_code == 403  # fmt: skip
    assert member.get("/edit/new").status_code == 403  # a member writes no entries
    editor = signed_in(site, "bientap")
    form = editor.get(f"/models/thap-sang-vung-bien/replications/{record_id}/edit").get_data(as_text=True)
    assert 'value="Đồn Biên phòng Thử Một"' in form
    fixed = editor.post(f"/models/thap-sang-vung-bien/replications/{record_id}/edit",
                        data={**RECORD, "unit": "Đồn Biên phòng Thử Ba", "csrf_token": token(form)})  # fmt: skip
    assert fixed.status_code == 302
    page = editor.get("/models/thap-sang-vung-bien").get_data(as_text=True)
    assert "Đồn Biên phòng Thử Ba" in page
    confirmed = {"csrf_token": token(page), "confirmed": "1"}  # Xóa, then Xác nhận xóa
    editor.post(f"/models/thap-sang-vung-bien/replications/{record_id}/delete", data=confirmed)
    assert open_db(data_dir)["replications"].count == 0
    log = [(r["action"], r["detail"]) for r in open_db(data_dir)["audit"].rows_where("action LIKE 'replication%'")]
    assert [a for a, _ in log] == ["replication_add", "replication_edit", "replication_delete"]
    assert "Đồn Biên phòng Thử Ba" in log[2][1]  # the removed record is kept whole in the log


def test_a_record_with_bad_values_comes_back_with_messages_and_everything_typed(site, data_dir):
    member = signed_in(site, "thanhvien")
    response = record(member, "thap-sang-vung-bien", unit="", start_date="tháng ba")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Hãy nhập tên đơn vị áp dụng." in page and "“tháng ba” không phải một ngày" in page
    assert "Bà con được cấp thuốc thông thường." in page
    assert open_db(data_dir)["replications"].count == 0
    assert member.get("/models/ban-nhap-thu-nghiem/replications/new").status_code == 404  # drafts are not adopted


def test_related_models_list_what_the_same_units_adopted(site):
    member = signed_in(site, "thanhvien")
    record(member, "thap-sang-vung-bien", unit="Đồn Biên phòng Chung")
    record(member, "to-tau-thuyen-doan-ket", unit="Đồn Biên phòng Chung")
    page = site.test_client().get("/models/thap-sang-vung-bien").get_data(as_text=True)
    section = page[page.index("Các đơn vị này cũng áp dụng") :]
    assert "Tổ Tàu thuyền đoàn kết" in section and "Đồn Biên phòng Chung" in section


def test_statistics_match_a_known_fixture_in_charts_and_csv(site):
    member = signed_in(site, "thanhvien")
    record(member, "thap-sang-vung-bien", start_date="2023-05")
    record(member, "thap-sang-vung-bien", unit="Đồn Biên phòng Thử Hai", start_date="2024-01")
    record(member, "to-tau-thuyen-doan-ket", start_date="2024")
    client = site.test_client()
    page = client.get("/thong-ke").get_data(as_text=True)
    assert page.count("<svg") == 5 and page.count('role="img"') == 5

    def table(name: str) -> dict[str, int]:
        text = client.get(f"/thong-ke/{name}.csv").get_data(as_text=True)
        assert text.startswith("\ufeff")
        rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
        return {label: int(n) for label, n in rows[1:]}

    # Published: tủ thuốc (Y tế, Dân vận), thắp sáng (Kinh tế - Xã hội), tàu thuyền (Dân vận, Phòng chống tội phạm),
    # bếp ăn (Dân vận); the draft is not counted.
    assert table("linh-vuc") == {"Dân vận": 3, "Y tế": 1, "Kinh tế - Xã hội": 1, "Phòng, chống tội phạm": 1}
    # Hà Giang has been part of Tuyên Quang since 2025: counted under today's name.
    assert table("tinh-thanh") == {"Nghệ An": 1, "Ninh Bình": 1, "Hải Phòng": 1, "Tuyên Quang": 1}
    assert table("nam") == {"2021": 2, "2022": 2}
    assert table("nhan-rong-theo-nam") == {"2023": 1, "2024": 2}
    assert table("nhan-rong-nhieu-nhat") == {"Thắp sáng vùng biên": 2, "Tổ Tàu thuyền đoàn kết": 1}
    assert "Thắp sáng vùng biên: 2" in page  # the chart's text alternative
    assert client.get("/thong-ke/khong-co.csv").status_code == 404


def test_a_search_that_found_nothing_reaches_the_admins_list_and_becomes_a_draft(site, data_dir):
    reader = site.test_client()
    for _ in range(2):
        reader.get("/search", query_string={"q": "Nuôi ong lấy mật"})
    reader.get("/api/search", query_string={"q": "tủ thuốc"})
    reader.get("/search", query_string={"q": "tủ thuốc", "page": 2})  # paging is not a new search
    reader.get("/search", query_string={"q": "tủ thuố biên cương"})  # found once the typo is corrected
    reader.get("/search", query_string={"q": "thuốc biên cương lợn"})  # only a partial match
    rows = list(open_db(data_dir)["search_log"].rows)
    assert [(r["query"], r["results"]) for r in rows[:2]] == [("nuôi ong lấy mật", 0)] * 2
    assert rows[2]["query"] == "tủ thuốc" and rows[2]["results"] > 0
    assert (rows[3]["query"], rows[3]["corrected"]) == ("tủ thuố biên cương", "tủ thuốc biên cương")
    assert rows[3]["results"] > 0
    assert (rows[4]["query"], rows[4]["results"], rows[4]["corrected"]) == ("thuốc biên cương lợn", 0, None)
    assert len(rows) == 5
    assert all(set(r) == {"id", "at", "query", "filters", "results", "corrected"} for r in rows)  # no identity kept
    admin = signed_in(site, "quantri")
    page = admin.get("/admin/searches").get_data(as_text=True)
    missing = page[page.index("Tìm mà không thấy gì") : page.index("Tìm thấy sau khi sửa lỗi gõ")]
    assert "nuôi ong lấy mật" in missing and "thuốc biên cương lợn" in missing
    assert "tủ thuốc" not in missing.replace("thuốc biên cương lợn", "")
    assert "tủ thuố biên cương" not in missing  # it found entries: listed with its correction instead
    fixed = page[page.index("Tìm thấy sau khi sửa lỗi gõ") : page.index("Tìm nhiều nhất")]
    assert "tủ thuố biên cương" in fixed and "tủ thuốc biên cương</a>" in fixed
    link = re.search(r'href="(/edit/new\?title=[^"]+)"', missing).group(1)
    form = admin.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert 'value="Nuôi ong lấy mật"' in form
    assert signed_in(site, "bientap").get("/admin/searches").status_code == 403


def test_the_feed_is_valid_atom_of_published_models_newest_first(site, content_dir, data_dir):
    write_entry(content_dir, "to-a-b", "Nội dung có <b>thẻ</b> & ký hiệu.", title="Tổ A & B <thử>",
                summary="Tóm tắt.", unit="Đồn C", fields=["Dân vận"])  # fmt: skip
    with open_db(data_dir).conn as conn:  # the others went public long ago
        conn.execute("UPDATE entries SET published_at = '2020-01-01T00:00:00+00:00'")
    reindex(content_dir, data_dir)  # published after the others: first in the feed
    response = site.test_client().get("/feed.xml")
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    assert root.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{tag}").text
    entries = root.findall(f"{ATOM}entry")
    titles = [e.find(f"{ATOM}title").text for e in entries]
    assert len(entries) == 5 and "Bản nháp thử nghiệm" not in titles
    assert titles[0] == "Tổ A & B <thử>"  # newest first, and escaped once: it parses back as typed
    assert "<b>thẻ</b>" in entries[0].find(f"{ATOM}content").text
    rfc3339 = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$"
    for entry in entries:
        assert entry.find(f"{ATOM}id").text.startswith("http")
        assert re.match(rfc3339, entry.find(f"{ATOM}updated").text)
        assert re.match(rfc3339, entry.find(f"{ATOM}published").text)
        assert entry.find(f"{ATOM}link").get("href").startswith("http")


def test_the_export_holds_every_published_entry_with_its_replications(site):
    record(signed_in(site, "thanhvien"), "thap-sang-vung-bien")
    data = json.loads(site.test_client().get("/api/export").data)
    slugs = [e["slug"] for e in data["entries"]]
    assert data["count"] == len(slugs) == 4 and "ban-nhap-thu-nghiem" not in slugs
    lit = next(e for e in data["entries"] if e["slug"] == "thap-sang-vung-bien")
    assert lit["units_adopted"] == 1 and lit["evidence_level"] == "Đã nhân rộng"
    assert lit["replications"][0]["unit"] == "Đồn Biên phòng Thử Một"
    assert lit["url"].endswith("/models/thap-sang-vung-bien") and lit["body_html"].startswith("<h2")
    kitchen = next(e for e in data["entries"] if e["slug"] == "bep-an-ban-tru")
    assert kitchen["region"] == "Tuyên Quang" and kitchen["replications"] == [] and kitchen["attachments"] == []


def test_a_label_that_looks_like_a_formula_is_written_as_text_in_csv(site, content_dir, data_dir):
    write_entry(content_dir, "cong-thuc", "Nội dung.", title="Công thức", summary="Tóm tắt.", unit="Đồn D",
                province="=HYPERLINK(\"http://x\")", fields=["Dân vận"])  # fmt: skip
    reindex(content_dir, data_dir)
    text = site.test_client().get("/thong-ke/tinh-thanh.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text


def test_removing_a_record_lowers_the_level_in_search(site, data_dir):
    member, editor = signed_in(site, "thanhvien"), signed_in(site, "bientap")
    record(member, "thap-sang-vung-bien")
    assert search_slugs(site.test_client(), level="Đã nhân rộng") == ["thap-sang-vung-bien"]
    record_id = next(open_db(data_dir)["replications"].rows)["key"]
    page = editor.get("/models/thap-sang-vung-bien").get_data(as_text=True)
    confirmed = {"csrf_token": token(page), "confirmed": "1"}  # Xóa, then Xác nhận xóa
    editor.post(f"/models/thap-sang-vung-bien/replications/{record_id}/delete", data=confirmed)
    assert search_slugs(site.test_client(), level="Đã nhân rộng") == []
    assert "thap-sang-vung-bien" in search_slugs(site.test_client(), level="Mới đề xuất")


def test_start_dates_are_stored_zero_padded_so_newest_first_holds(site, data_dir):
    member = signed_in(site, "thanhvien")
    record(member, "thap-sang-vung-bien", unit="Đồn Một", start_date="2024-3-5")
    record(member, "thap-sang-vung-bien", unit="Đồn Hai", start_date="2024-12-01")
    stored = [r["start_date"] for r in open_db(data_dir)["replications"].rows]
    assert stored == ["2024-03-05", "2024-12-01"]
    page = site.test_client().get("/models/thap-sang-vung-bien").get_data(as_text=True)
    assert page.index("Đồn Hai") < page.index("Đồn Một")


def test_a_member_sees_no_drafts(site):
    member = signed_in(site, "thanhvien")
    assert member.get("/models/ban-nhap-thu-nghiem").status_code == 404
    assert "Biên tập" not in member.get("/").get_data(as_text=True).split("</header>")[0]


def test_the_feed_stays_valid_xml_when_an_entry_holds_control_characters(site, content_dir):
    # Text pasted from Word brings vertical tabs; terminals bring ESC; a broken tool, NUL.
    fields = [*yaml.safe_load((content_dir / "fields.yml").read_text(encoding="utf-8")), "Biên\x1b giới"]
    (content_dir / "fields.yml").write_text(yaml.safe_dump(fields, allow_unicode=True), encoding="utf-8")
    write_entry(content_dir, "dan-tu-word", "Đoạn\x0b một\x1b[0m của bài\x00 viết.\n\nĐoạn\x0c hai.",
                title="Dán\x1b từ Word\x08", summary="Tóm\x0b tắt\x1b có\x00 ký tự lạ.", unit="Đồn\x1b Bắc",
                fields=["Biên\x1b giới"])  # fmt: skip
    reindex(content_dir, site.config["KB_DATA_DIR"])
    response = site.test_client().get("/feed.xml")
    assert response.status_code == 200
    root = ET.fromstring(response.data)  # an invalid character would raise ParseError here
    entry = next(e for e in root.findall(f"{ATOM}entry") if e.find(f"{ATOM}title").text.startswith("Dán"))
    assert entry.find(f"{ATOM}title").text == "Dán từ Word"
    assert "Tóm" in entry.find(f"{ATOM}summary").text and "ký tự lạ." in entry.find(f"{ATOM}summary").text
    assert entry.find(f"{ATOM}author/{ATOM}name").text == "Đồn Bắc"
    assert entry.find(f"{ATOM}category").get("term") == "Biên giới"
    content = entry.find(f"{ATOM}content").text
    assert "một[0m của bài viết." in content and "hai." in content


@pytest.mark.parametrize(
    ("text", "kept"),
    [("a\x00b\x08c\x0bd\x0ce\x1bf\x7f", "abcdef\x7f"), ("tab\tLF\nCR\r", "tab\tLF\nCR\r"),
     ("lone\ud800 \udfffsurrogates", "lone surrogates"), ("x\ufffe\uffffy", "xy"),
     ("Biên giới 😀\ue000", "Biên giới 😀\ue000")],
)  # fmt: skip
def test_xml_safe_removes_exactly_what_xml_1_0_forbids(text, kept):
    assert xml_safe(text) == kept


@pytest.mark.slow
def test_a_record_while_the_database_is_locked_writes_nothing_and_says_busy(site, data_dir, request):
    member = signed_in(site, "thanhvien")
    page = member.get("/models/thap-sang-vung-bien/replications/new").get_data(as_text=True)
    request.getfixturevalue("write_locked")
    busy = member.post("/models/thap-sang-vung-bien/replications/new", data={**RECORD, "csrf_token": token(page)})
    assert busy.status_code == 503 and "Hệ thống đang bận" in busy.get_data(as_text=True)
    db = open_db(data_dir)
    assert db["replications"].count == 0
    assert db["audit"].count_where("action LIKE 'replication%'") == 0


def test_a_record_whose_index_update_fails_is_kept_and_queued_for_the_index(site, data_dir, monkeypatch):
    from indexer import SearchIndex

    def broken(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(SearchIndex, "update", broken)
    assert record(signed_in(site, "thanhvien"), "thap-sang-vung-bien").status_code == 302  # the record is kept
    db = open_db(data_dir)
    assert db["replications"].count == 1 and db["audit"].count_where("action = 'replication_add'") == 1
    assert [r["path"] for r in db["pending"].rows] == ["models/thap-sang-vung-bien.md"]
    monkeypatch.undo()
    reindex(site.config["KB_CONTENT_DIR"], data_dir)  # the next reindex (or server start) takes it
    assert search_slugs(site.test_client(), level="Đã nhân rộng") == ["thap-sang-vung-bien"]


def test_a_corrected_search_is_logged_with_what_was_searched_even_without_a_suggestion(data_dir):
    """The correction is kept for the admin's list whether or not a "did you mean" was offered."""
    from indexer import SearchResults
    from kb.store import log_search
    from kb.web.params import SearchParams

    open_db(data_dir)
    params = SearchParams("tu thuo", {}, 1, 10)
    found = SearchResults("tu thuo", total=2, page=1, per_page=10, corrected=True, respelled="tu thuoc")
    log_search(data_dir, params, found)
    row = list(open_db(data_dir)["search_log"].rows)[-1]
    assert (row["query"], row["results"], row["corrected"]) == ("tu thuo", 2, "tu thuoc")


def test_deleting_a_record_asks_first_and_deletes_only_when_confirmed(site, data_dir):
    editor = signed_in(site, "bientap")
    record(editor, "thap-sang-vung-bien")
    record_id = next(open_db(data_dir)["replications"].rows)["key"]
    page = editor.get("/models/thap-sang-vung-bien").get_data(as_text=True)
    url = f"/models/thap-sang-vung-bien/replications/{record_id}/delete"
    asked = editor.post(url, data={"csrf_token": token(page)})
    text = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Xóa bản ghi nhân rộng của" in text and "Xác nhận xóa" in text
    assert 'href="/models/thap-sang-vung-bien#nhan-rong">Hủy</a>' in text
    assert open_db(data_dir)["replications"].count == 1
    assert editor.post(url, data={"csrf_token": token(text), "confirmed": "1"}).status_code == 302
    assert open_db(data_dir)["replications"].count == 0


def test_the_ledger_lives_in_a_file_per_model_and_the_database_is_a_copy_of_it(site, content_dir, data_dir):
    from kb.cli import kb_cli  # noqa: F401  (the app's `kb` commands)

    member = signed_in(site, "thanhvien")
    record(member, "thap-sang-vung-bien")
    path = content_dir / "replications" / "thap-sang-vung-bien.yml"
    [saved] = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert saved["unit"] == RECORD["unit"] and saved["start_date"] == "2024-03" and saved["created_by"]
    # The database is derived: lost, it comes back from the files at the next reindex.
    with open_db(data_dir).conn as conn:
        conn.execute("DELETE FROM replications")
        conn.execute("DELETE FROM ledger_files")
    reindex(content_dir, data_dir)
    assert [r["unit"] for r in open_db(data_dir)["replications"].rows] == [RECORD["unit"]]
    # A record added to the file by hand (or by another site) counts after the next reindex.
    more = [{**saved, "id": f"{n:012x}", "unit": f"Đồn Biên phòng Thêm {n}", "status": "đã hoàn thành"} for n in (1, 2)]
    path.write_text(yaml.safe_dump([saved, *more], allow_unicode=True), encoding="utf-8")
    reindex(content_dir, data_dir)
    assert search_slugs(site.test_client(), level="Điển hình") == ["thap-sang-vung-bien"]
    assert "Đã nhân rộng tại <strong>3</strong> đơn vị" in site.test_client().get("/models/thap-sang-vung-bien").text


def test_a_broken_ledger_file_is_reported_and_its_last_good_records_serve(site, content_dir, data_dir):
    member = signed_in(site, "thanhvien")
    record(member, "thap-sang-vung-bien")
    path = content_dir / "replications" / "thap-sang-vung-bien.yml"
    broken = path.read_text(encoding="utf-8").replace("status: đang triển khai", "status: xong rồi")
    path.write_text(broken, encoding="utf-8")
    result = site.test_cli_runner().invoke(args=["kb", "check"])
    assert (
        result.exit_code == 1 and "replications/thap-sang-vung-bien.yml:2: 'status' phải là một trong" in result.output
    )
    report = reindex(content_dir, data_dir)
    assert any(p.path == "replications/thap-sang-vung-bien.yml" for p in report.problems)
    assert search_slugs(site.test_client(), level="Đã nhân rộng") == ["thap-sang-vung-bien"]  # last good records
    # A new record is refused with the reason, and the file is left for a person to fix.
    response = record(member, "thap-sang-vung-bien", unit="Đồn Biên phòng Thử Hai")
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and 'value="Đồn Biên phòng Thử Hai"' in page  # what was typed stays
    assert "Sổ nhân rộng của mô hình này (tệp replications/thap-sang-vung-bien.yml) đang có lỗi ở dòng 2" in page
    assert path.read_text(encoding="utf-8") == broken and open_db(data_dir)["replications"].count == 1


def test_records_made_before_the_ledger_was_kept_in_files_are_written_to_them(site, content_dir, data_dir):
    with open_db(data_dir).conn as conn:  # as a database of an earlier version holds them: no id, no file
        conn.execute("INSERT INTO replications (slug, unit, status, start_date) VALUES "
                     "('thap-sang-vung-bien', 'Đồn Biên phòng Cũ', 'đã hoàn thành', '2023-05-01')")  # fmt: skip
    reindex(content_dir, data_dir)
    [kept] = yaml.safe_load((content_dir / "replications" / "thap-sang-vung-bien.yml").read_text(encoding="utf-8"))
    assert kept["unit"] == "Đồn Biên phòng Cũ" and kept["start_date"] == "2023-05-01" and len(kept["id"]) == 12
    assert [r["key"] for r in open_db(data_dir)["replications"].rows] == [kept["id"]]
    assert search_slugs(site.test_client(), level="Đã nhân rộng") == ["thap-sang-vung-bien"]


def _ledger(*records: tuple[str, str]) -> bytes:
    from kb.ledgerfiles import dump_ledger

    return dump_ledger("m", [{"id": key, "unit": unit, "status": "dự kiến"} for key, unit in records])


def test_two_versions_of_a_ledger_merge_record_by_record():
    from kb.ledgerfiles import merge_ledgers, read_ledger

    base = _ledger(("aaaaaaaaaaaa", "Đồn 1"), ("bbbbbbbbbbbb", "Đồn 2"), ("cccccccccccc", "Đồn 3"))
    # Here: Đồn 1 corrected, Đồn 2 removed, Đồn 4 added. There: Đồn 1 removed, Đồn 3 corrected, Đồn 5 added.
    ours = _ledger(("aaaaaaaaaaaa", "Đồn 1 (sửa)"), ("cccccccccccc", "Đồn 3"), ("dddddddddddd", "Đồn 4"))
    theirs = _ledger(("bbbbbbbbbbbb", "Đồn 2"), ("cccccccccccc", "Đồn 3 (sửa)"), ("eeeeeeeeeeee", "Đồn 5"))
    merged, clashed = merge_ledgers("replications/m.yml", base, ours, theirs)
    units = [r["unit"] for r in read_ledger(merged, "replications/m.yml")]
    assert units == ["Đồn 3 (sửa)", "Đồn 5", "Đồn 1 (sửa)", "Đồn 4"] and clashed == []
    # Both corrected one record: the remote's correction, and the clash is named.
    merged, clashed = merge_ledgers("replications/m.yml", base, _ledger(("aaaaaaaaaaaa", "Ở đây")),
                                    _ledger(("aaaaaaaaaaaa", "Ở kia")))  # fmt: skip
    assert [r["unit"] for r in read_ledger(merged, "replications/m.yml")] == ["Ở kia"] and clashed == ["aaaaaaaaaaaa"]
    # Both created the file (no common version): every record is kept.
    merged, _ = merge_ledgers(
        "replications/m.yml", None, _ledger(("aaaaaaaaaaaa", "A")), _ledger(("bbbbbbbbbbbb", "B"))
    )
    assert [r["unit"] for r in read_ledger(merged, "replications/m.yml")] == ["B", "A"]


@pytest.mark.parametrize(
    ("text", "message"),
    [("- id: 12\n  unit: Đồn\n  status: dự kiến\n", "'id' phải là"),
     ("- id: aaaaaaaaaaaa\n  status: dự kiến\n", "thiếu 'unit'"),
     ("- id: aaaaaaaaaaaa\n  unit: Đồn\n  status: dự kiến\n- id: aaaaaaaaaaaa\n  unit: Đồn 2\n  status: dự kiến\n",
      "trùng"),
     ("- id: aaaaaaaaaaaa\n  unit: Đồn\n  status: dự kiến\n  start_date: 31/02/2024\n", "'start_date'"),
     ("- id: aaaaaaaaaaaa\n  unit: Đồn\n  status: dự kiến\n  contact: 113\n", "'contact' phải là chữ"),
     ("unit: Đồn\n", "phải là một danh sách"), ("- [\n", "YAML không hợp lệ")],
)  # fmt: skip
def test_a_ledger_file_that_fails_its_checks_says_what_and_where(text, message):
    from kb.entries import InvalidEntry
    from kb.ledgerfiles import read_ledger

    with pytest.raises(InvalidEntry) as caught:
        read_ledger(text.encode(), "replications/m.yml")
    assert message in str(caught.value.problems[0])


def test_a_record_not_yet_in_its_file_is_listed_for_an_editor_without_its_buttons(site, data_dir):
    with open_db(data_dir).conn as conn:  # an earlier version's record, before the next reindex writes its file
        conn.execute("INSERT INTO replications (slug, unit, status) VALUES "
                     "('thap-sang-vung-bien', 'Đồn Biên phòng Cũ', 'dự kiến')")  # fmt: skip
    page = signed_in(site, "bientap").get("/models/thap-sang-vung-bien")
    assert page.status_code == 200 and "Đồn Biên phòng Cũ" in page.text and "/replications/None" not in page.text
