"""The entries shipped in content/: valid, and found the way an officer searches."""

from __future__ import annotations

import pytest

from kb import create_app
from kb.catalog import check_content, reindex


@pytest.fixture
def shipped_client(shipped_content, tmp_path):
    """Return a client over a copy of the shipped content, indexed."""
    reindex(shipped_content, tmp_path / "data")
    app = create_app({"TESTING": True, "KB_CONTENT_DIR": shipped_content, "KB_DATA_DIR": tmp_path / "data"})
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
