"""The entries shipped in content/: valid, and found the way an officer searches."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kb import create_app
from kb.catalog import check_content, reindex

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def shipped_client(tmp_path_factory):
    """Return a client over a copy of the shipped content, indexed once for this module (its
    tests only read)."""
    base = tmp_path_factory.mktemp("shipped")
    content = Path(shutil.copytree(ROOT / "content", base / "content"))
    reindex(content, base / "data")
    app = create_app({"TESTING": True, "KB_CONTENT_DIR": content, "KB_DATA_DIR": base / "data"})
    return app.test_client()


def test_every_shipped_entry_is_valid(shipped_content):
    report = check_content(shipped_content)
    assert report.problems == []
    assert report.files >= 9


@pytest.mark.parametrize("query", ["tủ thuốc biên cương", "tu thuoc bien cuong"])
def test_tu_thuoc_bien_cuong_comes_first_in_page_and_api(shipped_client, query):
    data = shipped_client.get("/api/search", query_string={"q": query}).get_json()
    assert data["results"][0]["slug"] == "tu-thuoc-bien-cuong"
    html = shipped_client.get("/search", query_string={"q": query}).get_data(as_text=True)
    first_link = html.split('class="result-title"><a href="', 1)[1].split('"', 1)[0]
    assert first_link == "/models/tu-thuoc-bien-cuong"


@pytest.mark.parametrize(
    ("query", "slug"),
    [
        ("thap sang vung bien", "thap-sang-vung-bien"),
        ("tàu thuyền đoàn kết", "to-tau-thuyen-doan-ket"),
        ("do doan ket", "to-do-doan-ket"),
        ("google form", "kiem-tra-va-bo-tro-kien-thuc-tren-google-form"),
        (
            "Bôlykhămxay",
            "dien-tap-lien-hop-ngan-chan-di-cu-tu-do-va-xuat-nhap-canh-trai-phep-qua-bien-gioi-viet-nam-lao",
        ),
        ("cụm an ninh liên kết", "cum-an-ninh-lien-ket"),
        ("nha thien nguyen", "to-hop-nha-thien-nguyen"),
    ],
)
def test_each_model_is_found_by_its_name(shipped_client, query, slug):
    data = shipped_client.get("/api/search", query_string={"q": query}).get_json()
    assert data["results"][0]["slug"] == slug


def test_shipped_figures_come_from_the_report(shipped_client):
    data = shipped_client.get("/api/models/to-tau-thuyen-doan-ket").get_json()
    text = data["summary"] + data["body_html"]
    assert "46" in text and "592" in text
    assert data["source"]["date"] == "2022-09-20"


def test_a_query_without_diacritics_offers_them_back(shipped_client):
    data = shipped_client.get("/api/search", query_string={"q": "tu thuoc bien cuong"}).get_json()
    assert data["suggestion"] == "tủ thuốc biên cương"
    html = shipped_client.get("/search", query_string={"q": "tu thuoc bien cuong"}).get_data(as_text=True)
    assert "Có phải bạn muốn tìm:" in html


def test_entries_with_every_word_come_before_those_with_some(shipped_client):
    data = shipped_client.get("/api/search", query_string={"q": "tàu thuyền đoàn kết"}).get_json()
    slugs = [r["slug"] for r in data["results"]]
    assert slugs[0] == "to-tau-thuyen-doan-ket"
    assert "to-do-doan-ket" in slugs  # shares "đoàn kết": listed after
    assert data["total"] > 1 and not data["relaxed"]


@pytest.mark.parametrize("query", ["ma túy", "nuôi gà thả vườn", "phòng chống sốt xuất huyết"])
def test_a_topic_no_entry_covers_finds_nothing_and_says_so(shipped_client, query):
    """The shipped entries say nothing about drugs, chickens or dengue: no entry is offered as
    an answer (neither respelled into common words nor matched on a shared word like "phòng")."""
    data = shipped_client.get("/api/search", query_string={"q": query}).get_json()
    assert data["total"] == 0 and data["results"] == []
    html = shipped_client.get("/search", query_string={"q": query}).get_data(as_text=True)
    assert f"Không tìm thấy mô hình nào về «{query}»" in html
    assert "Kho chưa có mô hình nào về chủ đề này." in html
    assert 'class="result-title"' not in html
    assert "chính tả" not in html  # nothing was respelled: spelling is not blamed
    # Ways on: the fields to browse, each with a working link.
    browse = html.split('class="browse-fields"', 1)[1].split("</ul>", 1)[0]
    assert "?field=" in browse and "Y tế" in browse


def test_an_editor_is_offered_to_write_the_missing_model(shipped_content, tmp_path):
    from helpers import login, site_with_accounts

    client = site_with_accounts(shipped_content, tmp_path / "data", {"bientap": "editor"}).test_client()
    page = client.get("/search", query_string={"q": "ma túy"}).get_data(as_text=True)
    assert "Viết mô hình này" not in page  # a visitor cannot write
    login(client, "bientap")
    page = client.get("/search", query_string={"q": "ma túy"}).get_data(as_text=True)
    link = page.split("Viết mô hình này", 1)[0].rsplit('href="', 1)[1].split('"', 1)[0]
    form = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert 'value="ma túy"' in form  # the new entry's title starts as what was searched


def test_typed_diacritics_keep_a_word_apart_from_its_folded_twins(shipped_client):
    """ "nuôi bò" (cows) must not meet "bộ đội" or "bờ biển" in the shipped entries."""
    data = shipped_client.get("/api/search", query_string={"q": "nuôi bò"}).get_json()
    assert data["total"] == 0
    # Without diacritics every form still matches, as the user asked.
    assert shipped_client.get("/api/search", query_string={"q": "bo doi"}).get_json()["total"] > 0


@pytest.mark.parametrize(
    ("typed", "meant", "slug"),
    [
        ("thawps sangs vungf bieen", "thắp sáng vùng biên", "thap-sang-vung-bien"),
        ("to63 ta2u thuye62n ddoa2n ke61t", "tổ tàu thuyền đoàn kết", "to-tau-thuyen-doan-ket"),
    ],
)
def test_keys_typed_with_the_vietnamese_keyboard_off_still_find_the_model(shipped_client, typed, meant, slug):
    data = shipped_client.get("/api/search", query_string={"q": typed}).get_json()
    assert data["results"][0]["slug"] == slug
    assert (data["corrected_from"], data["searched_for"]) == (typed, meant)
    page = shipped_client.get("/search", query_string={"q": typed}).get_data(as_text=True)
    assert f"Đã tìm theo «{meant}»" in page


def test_words_that_are_not_telex_are_searched_as_typed(shipped_client):
    for typed in ("google form", "zalo", "nuoi ca"):
        data = shipped_client.get("/api/search", query_string={"q": typed}).get_json()
        assert data["searched_for"] is None, typed


def test_when_nothing_is_found_the_closest_titles_are_offered_as_suggestions(shipped_client):
    """Medicine for cows: no entry; the medicine-cabinet model is the closest, offered by title only."""
    data = shipped_client.get("/api/search", query_string={"q": "thuốc cho bò"}).get_json()
    assert data["total"] == 0 and data["results"] == []
    assert [c["slug"] for c in data["closest"]] == ["tu-thuoc-bien-cuong"]
    page = shipped_client.get("/search", query_string={"q": "thuốc cho bò"}).get_data(as_text=True)
    near = page.split("Gần nhất trong kho", 1)[1].split("</ul>", 1)[0]
    assert 'href="/models/tu-thuoc-bien-cuong"' in near and "Tủ thuốc biên cương" in near
    # Entries that were found are results, not suggestions.
    assert shipped_client.get("/api/search", query_string={"q": "tủ thuốc"}).get_json()["closest"] == []


def test_keyboard_off_and_on_searches_never_share_a_cached_answer(shipped_client):
    """The same words reached by Telex keys and typed properly: each page says what it did."""
    for first, second in (("thawps sangs", "thắp sáng"), ("thắp sáng", "thawps sangs")):
        shipped_client.get("/api/search", query_string={"q": first})
        data = shipped_client.get("/api/search", query_string={"q": second}).get_json()
        assert data["searched_for"] == ("thắp sáng" if second == "thawps sangs" else None)


def test_exact_turns_keyboard_decoding_off(shipped_client):
    page = shipped_client.get("/search", query_string={"q": "thawps sangs"}).get_data(as_text=True)
    link = page.split('Tìm đúng <a href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    data = shipped_client.get(link.replace("/search", "/api/search")).get_json()
    assert data["searched_for"] is None and data["total"] == 0


def test_a_question_with_an_everyday_word_no_entry_uses_still_finds_its_model(shipped_client):
    """No shipped entry says "điện"; the lighting model still answers, marked as lacking it."""
    data = shipped_client.get("/api/search", query_string={"q": "làm sao để người dân có điện thắp sáng"}).get_json()
    first = data["results"][0]
    assert (first["slug"], first["missing"]) == ("thap-sang-vung-bien", ["điện"])


@pytest.mark.parametrize(
    ("query", "slug"),
    [
        ("người ốm ở biên giới", "tu-thuoc-bien-cuong"),  # the entry says "tủ thuốc", "y tế"
        ("bà con chưa có điện", "thap-sang-vung-bien"),  # the entry says "thắp sáng"
    ],
)
def test_everyday_words_find_the_model_that_uses_the_official_term(shipped_client, query, slug):
    data = shipped_client.get("/api/search", query_string={"q": query}).get_json()
    assert data["results"][0]["slug"] == slug
    page = shipped_client.get("/search", query_string={"q": query}).get_data(as_text=True)
    first_link = page.split('class="result-title"><a href="', 1)[1].split('"', 1)[0]
    assert first_link == f"/models/{slug}"
    assert "Không tìm thấy" not in page
