"""The public pages: home, search, entry, errors; all local, all in Vietnamese."""

from __future__ import annotations

import itertools
import re
import shutil
import string
from pathlib import Path
from urllib.parse import urlencode

import pytest
from helpers import login, write_samples

from kb import create_app
from kb.catalog import reindex
from kb.web.params import MAX_FILTER_VALUES, MAX_QUERY_LENGTH, MAX_VALUES_PER_FACET

ROOT = Path(__file__).resolve().parent.parent


def html_of(client, url: str, status: int = 200) -> str:
    """Fetch url and return its HTML, checking the status code."""
    response = client.get(url)
    assert response.status_code == status, url
    return response.get_data(as_text=True)


def test_home_shows_search_newest_and_fields(client):
    html = html_of(client, "/")
    assert '<html lang="vi">' in html
    assert 'name="q"' in html
    assert "Tủ thuốc biên cương" in html
    assert "Bản nháp thử nghiệm" not in html  # drafts stay private
    assert re.search(r"Dân vận</span><span class=\"count\">2<", html)
    assert "Xem tất cả 3 mô hình" in html


def test_search_page_shows_results_with_highlights_without_diacritics(client):
    html = html_of(client, "/search?q=tu+thuoc")
    assert "1 kết quả cho “tu thuoc”" in html
    assert "<mark>Tủ</mark> <mark>thuốc</mark> biên cương" in html
    assert "Bộ đội Biên phòng tỉnh Nghệ An" in html
    assert 'href="/models/tu-thuoc-bien-cuong"' in html


def test_search_page_facets_filter_and_can_be_removed(client):
    html = html_of(client, "/search?q=&field=D%C3%A2n+v%E1%BA%ADn")
    assert "2 mô hình" in html
    assert "Đang lọc:" in html
    assert 'aria-label="Bỏ lọc Lĩnh vực: Dân vận"' in html
    # The other field values remain available with their counts.
    assert re.search(r"Phòng, chống tội phạm</span>\s*<span class=\"count\">1<", html)
    assert "Thắp sáng vùng biên" not in html


def test_an_empty_query_lists_every_published_entry(client):
    html = html_of(client, "/search")
    assert "3 mô hình" in html
    assert html.count('class="result"') == 3


def test_pagination_links(app):
    app.config["KB_PER_PAGE"] = 2
    client = app.test_client()
    first = html_of(client, "/search")
    assert "Trang 1 / 2" in first
    assert 'href="/search?page=2"' in first
    second = html_of(client, "/search?page=2")
    assert second.count('class="result"') == 1
    assert "Trang trước" in second


def test_zero_results_with_filters_suggests_dropping_them(client):
    html = html_of(client, "/search?q=t%E1%BB%A7+thu%E1%BB%91c&province=H%E1%BA%A3i+Ph%C3%B2ng")
    assert "Không tìm thấy mô hình nào" in html
    assert "1 kết quả cho “tủ thuốc” nếu bỏ các bộ lọc" in html


def test_zero_results_without_filters_gives_tips(client):
    html = html_of(client, "/search?q=xyzzy")
    assert "Không tìm thấy mô hình nào" in html
    assert "gõ không dấu" in html


@pytest.mark.parametrize("query", ['"', "*", "AND(", ":", "~", 'tủ" AND( * : ~', "%", "<script>"])
def test_query_syntax_never_errors(client, query):
    html = html_of(client, "/search?" + __import__("urllib.parse").parse.urlencode({"q": query}))
    assert "<script>" not in html.split("</header>", 1)[1].split("<footer")[0]


@pytest.mark.parametrize("page", ["abc", "-3", "0", "99999999999"])
def test_bad_page_numbers_fall_back(client, page):
    """Nonsense shows the first page, a page past the end the last one (here the only one)."""
    titles = re.compile(r'class="result-title"><a href="([^"]+)"')
    first = titles.findall(html_of(client, "/search"))
    assert first and titles.findall(html_of(client, f"/search?page={page}")) == first
    data = client.get(f"/api/search?page={page}").get_json()
    assert data["page"] == 1 and [r["slug"] for r in data["results"]] == [u.rsplit("/", 1)[1] for u in first]


def test_entry_page_renders_markdown_metadata_and_source(client, content_dir):
    path = content_dir / "models" / "tu-thuoc-bien-cuong.md"
    text = path.read_text(encoding="utf-8").replace(
        "year: 2022", "year: 2022\nsource:\n  title: Báo Nghệ An\n  url: https://baonghean.vn/x\n  date: 2022-09-20"
    )
    path.write_text(text + "\n<script>alert(1)</script>\n", encoding="utf-8")
    client.application.test_cli_runner().invoke(args=["kb", "reindex"])
    html = html_of(client, "/models/tu-thuoc-bien-cuong")
    assert "<h1>Tủ thuốc biên cương</h1>" in html
    assert '<h2 id="cach-lam">Cách làm</h2>' in html
    assert "Bộ đội Biên phòng tỉnh Nghệ An" in html
    assert 'href="https://baonghean.vn/x"' in html and "(20/09/2022)" in html
    assert "<script>alert(1)</script>" not in html


def test_drafts_and_unknown_slugs_are_404_in_vietnamese(client):
    for url in ("/models/ban-nhap-thu-nghiem", "/models/khong-co", "/khong-co-trang-nay"):
        html = html_of(client, url, 404)
        assert "Không tìm thấy trang" in html


def test_a_server_error_shows_a_vietnamese_page_not_a_traceback(app, monkeypatch):
    def boom(*_args, **_kwargs):
        raise RuntimeError("secret detail")

    monkeypatch.setattr("kb.web.public.newest_entries", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    html = html_of(app.test_client(), "/", 500)
    assert "Có lỗi xảy ra" in html
    assert "secret detail" not in html and "Traceback" not in html


def test_pages_work_before_any_index_exists(content_dir, tmp_path):
    app = create_app({"TESTING": True, "KB_CONTENT_DIR": content_dir, "KB_DATA_DIR": tmp_path / "empty"})
    client = app.test_client()
    for url in ("/", "/search?q=x"):
        assert "flask --app app kb reindex" in html_of(client, url)


@pytest.mark.parametrize("url", ["/", "/search?q=tu+thuoc", "/models/tu-thuoc-bien-cuong", "/nope"])
def test_pages_request_nothing_from_other_hosts(client, url):
    response = client.get(url)
    html = response.get_data(as_text=True)
    assets = re.findall(r'<(?:link|script|img|iframe|source)\b[^>]*(?:src|href)="([^"]+)"', html)
    assert assets, "expected at least the stylesheet"
    assert all(a.startswith("/") and not a.startswith("//") for a in assets), assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    css = client.get("/static/css/site.css").get_data(as_text=True)
    assert "url(" not in css and "@import" not in css


def test_the_page_is_made_for_phones(client):
    html = html_of(client, "/")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert 'class="skip-link"' in html


def test_filters_that_hide_full_matches_are_pointed_out(client):
    html = html_of(client, "/search?q=t%C3%A0u+thuy%E1%BB%81n+%C4%91o%C3%A0n+k%E1%BA%BFt&field=Y+t%E1%BA%BF")
    assert "nếu bỏ các bộ lọc" in html
    assert 'href="/search?q=t%C3%A0u+thuy%E1%BB%81n+%C4%91o%C3%A0n+k%E1%BA%BFt">1 ' in html


def test_did_you_mean_leads_to_the_respelled_query(client):
    html = html_of(client, "/search?q=tu+thuoc+bien+cuong")
    assert 'Có phải bạn muốn tìm: <a href="/search?q=t%E1%BB%A7+thu%E1%BB%91c+bi%C3%AAn+c%C6%B0%C6%A1ng">' in html
    assert "tủ thuốc biên cương</a>" in html


def test_exclusions_remove_entries(client):
    assert "Tổ Tàu thuyền đoàn kết" in html_of(client, "/search?q=bi%C3%AAn+ph%C3%B2ng")
    assert "Tổ Tàu thuyền đoàn kết" not in html_of(client, "/search?q=bi%C3%AAn+ph%C3%B2ng+-t%C3%A0u")


def test_entry_page_lists_related_models(client):
    html = html_of(client, "/models/tu-thuoc-bien-cuong")
    related = html.split("Mô hình liên quan", 1)[1]
    assert 'href="/models/to-tau-thuyen-doan-ket"' in related  # shares the field Dân vận
    assert "ban-nhap-thu-nghiem" not in related and 'href="/models/tu-thuoc-bien-cuong"' not in related


def test_search_box_offers_suggestions_only_as_an_enhancement(client):
    html = html_of(client, "/search")
    assert "data-suggest" in html and 'src="/static/js/suggest.js"' in html
    assert '<form class="search-form" action="/search" method="get"' in html  # works without the script
    assert client.get("/static/js/suggest.js").status_code == 200


@pytest.mark.parametrize(
    "url", ["/", "/search?q=tủ+thuốc", "/api/search?q=x", "/models/khong-co", "/static/css/site.css"]
)
def test_every_response_carries_the_security_headers(client, url):
    headers = client.get(url).headers
    policy = headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"


def test_an_oversized_form_post_is_refused_in_vietnamese(client):
    response = client.post("/login", data={"name": "x", "password": "y" * (3 * 1024 * 1024)})
    assert response.status_code == 413
    assert "Dữ liệu gửi lên quá lớn: tối đa 2 MB mỗi lần gửi. Chưa có gì được lưu" in response.get_data(as_text=True)


def test_search_page_links_are_written_as_url_for_writes_them(app):
    from flask import url_for

    from kb.web.public import search_url

    cases = [
        {},
        {"q": "tủ thuốc & biên cương"},
        {"q": "a+b", "field": ["Phòng, chống tội phạm", "Y tế"], "page": 3},
        {"province": ["Hà Nội"], "sort": "newest", "level": ["Điển hình"]},
    ]
    with app.test_request_context("/search"):
        for args in cases:
            assert search_url(args) == url_for("public.search", **args)


@pytest.fixture
def empty_site(tmp_path):
    """A new unit's site: fields and places, no entry yet, indexed, with an editor."""
    from helpers import site_with_accounts

    content = tmp_path / "moi"
    (content / "models").mkdir(parents=True)
    shutil.copy(ROOT / "content" / "fields.yml", content / "fields.yml")
    return site_with_accounts(content, tmp_path / "data", {"bientap": "editor"})


def test_a_knowledge_base_with_no_entry_yet_says_so_and_invites_the_first(empty_site):
    client = empty_site.test_client()
    for url in ("/", "/search", "/search?q=tủ+thuốc", "/search?q=x&field=Y+tế&sort=newest"):
        html = html_of(client, url)
        assert "Chưa có mô hình nào trong kho" in html, url
        assert 'href="/edit/new"' not in html and "/login?next=/edit/new" in html, url  # readers may not write
    found = client.get("/api/search?q=tủ+thuốc").get_json()
    assert (found["total"], found["results"]) == (0, [])
    assert client.get("/api/search").get_json()["total"] == 0
    editor = empty_site.test_client()
    login(editor, "bientap")
    html = html_of(editor, "/")
    assert re.search(r'<a class="button" href="/edit/new">Viết mô hình đầu tiên</a>', html)


def test_a_search_with_no_match_in_a_full_knowledge_base_is_not_called_empty(client):
    html = html_of(client, "/search?q=xqzkhongco")
    assert "Không tìm thấy mô hình nào" in html
    assert "Chưa có mô hình nào trong kho" not in html


# 505 values of two letters: a 4 KB address that made a 6.4 MB page (each value's link carried all the others).
FLOOD = [("unit", "".join(pair)) for pair in itertools.product(string.ascii_lowercase, repeat=2)][:505]
UNITS = [("unit", f"Đồn {i}") for i in range(21)]
PROVINCES = [("province", f"Tỉnh {i}") for i in range(20)]
LONG_UNITS = [("unit", "Đồn Biên phòng " + "ư" * 180 + str(i)) for i in range(5)]
TOO_LONG = "Yêu cầu tìm kiếm quá dài: tối đa 4096 ký tự"


@pytest.mark.parametrize(
    ("pairs", "words"),
    [
        (FLOOD, "Quá nhiều bộ lọc: tối đa 20 giá trị cho mỗi mục lọc (mục “Đơn vị” đang có 505)."),
        (UNITS, "tối đa 20 giá trị cho mỗi mục lọc (mục “Đơn vị” đang có 21)"),
        (UNITS[:20] + PROVINCES + [("year", "2022")], "tối đa 40 giá trị lọc cho một lần tìm (đang có 41)."),
        (LONG_UNITS, TOO_LONG),
        ([("utm", "x" * 40)] * 100, TOO_LONG),
    ],
    ids=["505-units", "21-units", "41-values", "long-values", "unknown-arguments"],
)
def test_a_search_past_the_filter_bounds_is_refused_in_vietnamese(client, pairs, words):
    response = client.get("/search?" + urlencode([("q", "tủ thuốc"), *pairs]))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert words in html
    # The page still offers the search: the words typed, in the box, and without the filters.
    assert '<a href="/search?q=t%E1%BB%A7+thu%E1%BB%91c">Tìm lại không kèm bộ lọc</a>' in html
    assert 'name="q" value="tủ thuốc"' in html and 'type="hidden" name="unit"' not in html
    assert len(response.data) < 25_000


@pytest.mark.parametrize("words", ["x" * 10_000, "ệ" * 3000, "nghiêng " * 600])
def test_long_words_alone_are_shortened_never_refused(client, words):
    assert client.get("/search", query_string={"q": words}).status_code == 200
    assert client.get("/api/search", query_string={"q": words, "unit": "Đồn A"}).status_code == 200


def test_a_search_at_the_filter_bounds_is_served(client):
    units = [("unit", f"Đồn Biên phòng số {i}") for i in range(MAX_VALUES_PER_FACET - 1)]
    html = html_of(client, "/search?" + urlencode([*units, ("unit", "Bộ đội Biên phòng tỉnh Nghệ An")]))
    assert "1 mô hình" in html and "Tủ thuốc biên cương" in html
    assert html.count('aria-label="Bỏ lọc Đơn vị:') == MAX_VALUES_PER_FACET


def _at_the_bound(pairs: list[tuple[str, str]]) -> str:
    """Return a search URL with these filters and the longest query that keeps it within the bound."""
    words = itertools.cycle("đồn biên phòng ở vùng sâu vùng xa ")
    q = ""
    while len(q) < 500 and len(urlencode([("q", q + "ư"), *pairs])) <= MAX_QUERY_LENGTH:
        q += next(words)
    assert len(urlencode([("q", q), *pairs])) > MAX_QUERY_LENGTH - 200 or len(q) == 500
    return "/search?" + urlencode([("q", q), *pairs, ("per_page", "50")])


def test_a_page_at_the_filter_bounds_stays_under_a_megabyte(tmp_path):
    """Every link on the page carries the whole search: the bounds keep the page's size bounded too."""
    samples = [
        dict(
            slug=f"mo-hinh-{i}", title=f"Mô hình số {i}", summary="Tóm tắt.", body="Nội dung.",
            unit=f"Đồn Biên phòng Cửa khẩu số {i}, BĐBP tỉnh {i}", province=f"Tỉnh số {i}",
            fields=["Y tế", "Dân vận"], year=1980 + i,
        )
        for i in range(45)
    ]  # fmt: skip
    write_samples(tmp_path / "content", samples)
    reindex(tmp_path / "content", tmp_path / "instance")
    client = create_app(
        {"TESTING": True, "KB_CONTENT_DIR": tmp_path / "content", "KB_DATA_DIR": tmp_path / "instance"}
    ).test_client()
    searches = {
        # Units and years of different entries: every facet keeps its 30 most frequent values shown.
        "units-and-years": [("unit", s["unit"]) for s in samples[:20]]
        + [("year", str(s["year"])) for s in samples[25:45]],
        "units-and-provinces": [("unit", s["unit"]) for s in samples[:20]]
        + [("province", s["province"]) for s in samples[:20]],
        "nothing-matches": [("unit", f"Đồn Biên phòng không có số {i}") for i in range(20)]
        + [("province", f"Tỉnh không có số {i}") for i in range(20)],
    }
    for name, pairs in searches.items():
        assert len(pairs) == MAX_FILTER_VALUES
        response = client.get(_at_the_bound(pairs))
        assert response.status_code == 200, name
        assert len(response.data) < 1_000_000, name


def test_a_corrected_search_says_what_it_searched_and_offers_the_words_as_typed(client):
    page = client.get("/search", query_string={"q": "tủ thuố biên cương"}).get_data(as_text=True)
    assert "đã tìm theo «" in page and "tủ thuốc biên cương</a>»" in page
    assert "chính tả" not in page
    link = page.split('Tìm đúng <a href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert "exact=1" in link
    as_typed = client.get(link).get_data(as_text=True)
    assert "đã tìm theo" not in as_typed
    assert "Thiếu: thuố" in as_typed  # the entry is shown as a partial match, lacking the typo


def test_each_chip_removes_its_filter_and_keeps_the_rest_of_the_search(client):
    html = html_of(client, "/search?q=bi%C3%AAn&field=D%C3%A2n+v%E1%BA%ADn&year=2022&sort=newest")
    chips = dict(re.findall(r'class="chip-remove" href="([^"]+)" aria-label="Bỏ lọc ([^"]+)"', html))
    assert set(chips.values()) == {"Lĩnh vực: Dân vận", "Năm: 2022"}
    by_label = {label: href.replace("&amp;", "&") for href, label in chips.items()}
    assert by_label["Lĩnh vực: Dân vận"] == "/search?q=bi%C3%AAn&year=2022&sort=newest"
    assert by_label["Năm: 2022"] == "/search?q=bi%C3%AAn&field=D%C3%A2n+v%E1%BA%ADn&sort=newest"
    assert "1 đang chọn" not in html and "2 đang chọn" in html  # the "Lọc" control counts them


def test_the_filters_come_before_the_results_in_the_page(client):
    html = html_of(client, "/search?q=bi%C3%AAn")
    toggle = html.index('<summary class="filter-toggle">Lọc')
    assert toggle < html.index('class="facets"') < html.index('class="results"')
    assert '<a class="skip-filters" href="#cac-ket-qua">' in html and 'id="cac-ket-qua"' in html


def test_the_formats_page_explains_the_feed_the_export_and_the_csv_files(client):
    html = html_of(client, "/du-lieu")
    assert "<h1>Theo dõi tin mới và tải dữ liệu</h1>" in html
    assert "http://localhost/feed.xml" in html and "http://localhost/api/export" in html  # to copy into a reader
    assert "Cách đăng ký" in html and "UTF-8 có BOM" in html
    for name in ("linh-vuc", "tinh-thanh", "nam", "nhan-rong-theo-nam", "nhan-rong-nhieu-nhat"):
        assert f'href="/thong-ke/{name}.csv" download' in html
        assert client.get(f"/thong-ke/{name}.csv").status_code == 200
    assert 'href="/api/export" download="kho-mo-hinh-hay.json"' in html


@pytest.mark.parametrize("url", ["/", "/search", "/models/tu-thuoc-bien-cuong", "/thong-ke", "/du-lieu", "/login"])
def test_the_footer_links_to_the_formats_page_and_the_head_keeps_the_feed(client, url):
    html = html_of(client, url)
    footer = html.split('<footer class="site-footer">', 1)[1]
    assert 'href="/du-lieu"' in footer
    assert "/feed.xml" not in footer and "/api/export" not in footer  # no raw XML or JSON for people
    assert '<link rel="alternate" type="application/atom+xml" title="Mô hình mới xuất bản" href="/feed.xml">' in html


def test_the_login_page_welcomes_members_too(client):
    html = html_of(client, "/login")
    assert "thành viên đăng nhập để ghi nhận đơn vị đã áp dụng" in html
    assert "Dành cho biên tập viên và quản trị viên." not in html


def test_an_entry_carries_its_print_header(client):
    html = html_of(client, "/models/tu-thuoc-bien-cuong")
    header = html.split('<div class="print-only print-header">', 1)[1].split("</div>", 1)[0]
    assert "Kho mô hình hay" in header and "http://localhost/models/tu-thuoc-bien-cuong" in header
    assert re.search(r"In ngày <span[^>]*>\d\d/\d\d/20\d\d</span>", header)
    assert 'class="muted no-print">Đơn vị bạn đã áp dụng' in html  # the sign-in prompt is not printed
