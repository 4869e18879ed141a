"""The JSON API."""

from __future__ import annotations


def test_search_returns_the_documented_shape(client):
    data = client.get("/api/search?q=tu+thuoc+bien+cuong").get_json()
    assert set(data) >= {"query", "total", "page", "per_page", "results", "facets"}
    assert (data["query"], data["total"], data["page"], data["per_page"]) == ("tu thuoc bien cuong", 1, 1, 10)
    first = data["results"][0]
    assert set(first) == {
        "slug", "title", "url", "summary", "snippet", "unit", "province", "fields", "year", "score", "level",
        "units_adopted", "matched", "missing", "found_in",
    }  # fmt: skip
    # The words the query asks for ("tu" may be the function word "từ": it only ranks).
    assert (first["matched"], first["missing"]) == (["thuoc", "bien", "cuong"], [])
    assert data["corrected_from"] is None and data["searched_for"] is None
    assert (first["level"], first["units_adopted"]) == ("Mới đề xuất", 0)
    assert first["slug"] == "tu-thuoc-bien-cuong"
    assert first["url"].endswith("/models/tu-thuoc-bien-cuong")
    assert first["fields"] == ["Y tế", "Dân vận"]
    # BM25F summed over the query's clauses: no internal ordering bonus (it was 1000 or 2000 more).
    assert 0 < first["score"] < 1000
    assert "<mark>" in first["snippet"]
    assert set(data["facets"]) == {"field", "province", "unit", "year", "level"}
    assert {"value": "Nghệ An", "count": 1} in data["facets"]["province"]


def test_search_speaks_utf8_json_without_escapes(client):
    body = client.get("/api/search?q=thuoc").get_data(as_text=True)
    assert "Tủ thuốc biên cương" in body


def test_search_filters_and_per_page(client):
    data = client.get("/api/search?province=H%E1%BA%A3i+Ph%C3%B2ng&per_page=1").get_json()
    assert data["total"] == 1 and data["per_page"] == 1
    assert data["results"][0]["slug"] == "to-tau-thuyen-doan-ket"
    capped = client.get("/api/search?per_page=100000").get_json()
    assert capped["per_page"] == 100


def test_search_never_shows_drafts(client):
    data = client.get("/api/search?q=n%C3%A1p").get_json()
    assert "ban-nhap-thu-nghiem" not in [r["slug"] for r in data["results"]]


def test_model_returns_the_entry(client):
    data = client.get("/api/models/thap-sang-vung-bien").get_json()
    assert data["title"] == "Thắp sáng vùng biên"
    assert data["fields"] == ["Kinh tế - Xã hội"]
    assert data["year"] == 2021
    assert "<h2" in data["body_html"]


def test_unknown_model_and_drafts_are_json_404(client):
    for slug in ("khong-co", "ban-nhap-thu-nghiem"):
        response = client.get(f"/api/models/{slug}")
        assert response.status_code == 404
        assert response.get_json()["error"] == "Không tìm thấy trang này."


def test_search_with_too_many_filter_values_is_a_json_400(client):
    letters = "abcdefghijklmnopqrstuvwxyz"
    flood = "&".join([f"unit={a}{b}" for a in letters for b in letters][:505])
    response = client.get(f"/api/search?q=x&{flood}")
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "Quá nhiều bộ lọc: tối đa 20 giá trị cho mỗi mục lọc (mục “Đơn vị” đang có 505).",
        "status": 400,
    }
    at_bound = "&".join(f"unit=a{b}" for b in "abcdefghijklmnopqrst")
    assert client.get(f"/api/search?q=x&{at_bound}").status_code == 200


def test_search_without_index_is_503(content_dir, tmp_path):
    from kb import create_app

    app = create_app({"TESTING": True, "KB_CONTENT_DIR": content_dir, "KB_DATA_DIR": tmp_path / "none"})
    response = app.test_client().get("/api/search?q=x")
    assert response.status_code == 503
    assert "reindex" in response.get_json()["error"]


def test_suggest_returns_titles_by_accent_insensitive_prefix(client):
    data = client.get("/api/suggest?q=tu+th").get_json()
    assert data["suggestions"] == [
        {"slug": "tu-thuoc-bien-cuong", "title": "Tủ thuốc biên cương", "url": "/models/tu-thuoc-bien-cuong"}
    ]
    assert [s["slug"] for s in client.get("/api/suggest?q=doan").get_json()["suggestions"]] == [
        "to-tau-thuyen-doan-ket"
    ]
    assert client.get("/api/suggest?q=").get_json()["suggestions"] == []
    # Drafts never appear.
    assert client.get("/api/suggest?q=ban+nh").get_json()["suggestions"] == []


def test_search_reports_suggestions_and_corrections(client):
    data = client.get("/api/search?q=tu+thuoc+bien+cuong").get_json()
    assert data["suggestion"] == "tủ thuốc biên cương"
    typo = client.get("/api/search?q=t%E1%BB%A7+thu%E1%BB%91+bi%C3%AAn+c%C6%B0%C6%A1ng").get_json()  # "thuố"
    assert typo["corrected"] and typo["results"][0]["slug"] == "tu-thuoc-bien-cuong"
    assert typo["suggestion"] == "tủ thuốc biên cương"
    assert (typo["corrected_from"], typo["searched_for"]) == ("tủ thuố biên cương", "tủ thuốc biên cương")
    # exact=1 searches the words as typed: no entry has "thuố", so the entry is a partial match.
    exact = client.get("/api/search", query_string={"q": "tủ thuố biên cương", "exact": "1"}).get_json()
    assert (exact["corrected"], exact["corrected_from"], exact["relaxed"]) == (False, None, True)
    assert exact["results"][0]["missing"] == ["thuố"]


def test_a_partial_match_says_which_words_it_lacks(client):
    data = client.get("/api/search", query_string={"q": "thuốc biên cương lợn"}).get_json()
    assert data["relaxed"] and data["total"] == 1
    first = data["results"][0]
    assert first["slug"] == "tu-thuoc-bien-cuong"
    assert (first["matched"], first["missing"]) == (["thuốc", "biên", "cương"], ["lợn"])
    page = client.get("/search", query_string={"q": "thuốc biên cương lợn"}).get_data(as_text=True)
    assert "Thiếu: lợn" in page
    # A word no entry has weighs the most: with only one other word, nothing is shown.
    assert client.get("/api/search", query_string={"q": "thuốc lợn"}).get_json()["total"] == 0


def test_a_fresh_server_process_warms_up_with_the_most_searched_words(app, client, content_dir, data_dir, tmp_path):
    from kb import create_app
    from kb.web.resources import warm_up

    for query in ("tu thuoc", "tu thuoc", "tàu thuyền", "biển"):
        client.get("/api/search", query_string={"q": query})
    fresh = create_app({"TESTING": True, "KB_CONTENT_DIR": content_dir, "KB_DATA_DIR": data_dir})
    assert warm_up(fresh, queries=2) == 3  # the listing, then the two most searched queries
    index = fresh.extensions["kb_index"]
    memo = index._version_now().memo
    assert "Term('all_f', 'thuoc')" in memo  # "tu thuoc", searched twice, was looked up
    assert "Term('all_x', 'biển')" in memo  # then, of those searched once, the first by name
    assert not any("thuyen" in key for key in memo)  # "tàu thuyền" was not among the two
    empty = create_app({"TESTING": True, "KB_CONTENT_DIR": content_dir, "KB_DATA_DIR": tmp_path / "none"})
    assert warm_up(empty) == 0  # no index yet: nothing to warm, no error


def test_warming_up_stops_when_its_time_is_spent_and_keeps_the_heartbeat(app, client, content_dir, data_dir):
    from kb import create_app
    from kb.web.resources import warm_up

    for query in ("tu thuoc", "tàu thuyền", "biển"):
        client.get("/api/search", query_string={"q": query})
    beats = []
    fresh = create_app({"TESTING": True, "KB_CONTENT_DIR": content_dir, "KB_DATA_DIR": data_dir})
    assert warm_up(fresh, budget=0.0, notify=lambda: beats.append(1)) == 1  # only the listing
    assert beats  # the server heard from the worker before it gave up
    assert warm_up(fresh, budget=60.0, notify=lambda: beats.append(1)) == 4
