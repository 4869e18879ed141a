"""The benchmark's long-tail log and its plain-Whoosh yardstick (bench/longtail.py, bench/plain_whoosh.py)."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

from indexer import Document, SearchIndex

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import longtail  # noqa: E402
import plain_whoosh  # noqa: E402


def test_the_long_tail_has_several_hundred_distinct_queries_of_every_class():
    log = longtail.long_tail_queries()
    assert len(log) >= 300
    assert len({(q.lower(), tuple(sorted((k, tuple(v)) for k, v in f.items())), p) for q, f, p, _ in log}) == len(log)
    assert set(Counter(c for *_, c in log)) == set(longtail.CLASSES)
    assert log == longtail.long_tail_queries()  # the same log every time
    texts = {c: [q for q, _, _, k in log if k == c] for c in longtail.CLASSES}
    assert all(q == longtail.fold(q) for q in texts["no_diacritics"])
    assert all(q.endswith("?") for q in texts["question"] if "?" in q) and any("?" in q for q in texts["question"])
    assert all(q.isascii() for q in texts["telex"])
    assert longtail.telex("thắp sáng vùng biên") == "thawps sangs vungf bieen"
    assert longtail.telex("đường") == "dduwowngf"


def doc(slug: str, title: str, body: str, province: str = "Lai Châu") -> Document:
    """Return a published entry."""
    return Document(slug=slug, title=title, summary=title, body_text=body, unit="Đồn Biên phòng Pa Sang",
                    province=province, region=province, fields=("Y tế",), year=2024)  # fmt: skip


@pytest.fixture(scope="module")
def small_index(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("plain") / "index"
    SearchIndex(root).build(
        [
            doc("tu-thuoc", "Tủ thuốc biên cương", "Đồn cấp phát thuốc cho bà con vùng biên."),
            doc("tau-thuyen", "Tàu thuyền đoàn kết", "Ngư dân giúp nhau trên biển.", "Cà Mau"),
            doc("thap-sang", "Thắp sáng vùng biên", "Đèn năng lượng mặt trời cho đường liên thôn.", "Cà Mau"),
        ]
    )
    return root


def test_plain_whoosh_finds_what_obviously_matches_with_facets(small_index):
    engine = plain_whoosh.PlainWhoosh(small_index)
    try:
        for query in ("tủ thuốc", "tu thuoc bien cuong", '"tủ thuốc"', "thuốc -ngư"):
            found = engine.search(query)
            assert found["total"] == 1 and found["hits"][0]["slug"] == "tu-thuoc", query
        assert "<mark>thuốc</mark>" in engine.search("thuốc")["hits"][0]["snippet"]
        found = engine.search("biên", {"province": ["Cà Mau"]})  # folded: "biển" too
        assert {h["slug"] for h in found["hits"]} == {"thap-sang", "tau-thuyen"}
        assert dict(found["facets"]["province"]) == {"Cà Mau": 2}
        assert dict(engine.search("đoàn kết năm")["facets"]["field"]) == {"Y tế": 1}  # any word, if not every one
    finally:
        engine.close()


def test_the_long_tail_runner_measures_each_query_once_then_again(small_index):
    log = [("tủ thuốc", {}, 1, "keywords"), ("tau thuyen", {}, 1, "no_diacritics"), ("gà", {}, 1, "no_answer")]
    data = small_index.parent  # the runner finds the index where kb puts it: data/index
    result = longtail.run("plain", data / "content", data, data / "fts5.sqlite3", log)
    assert len(result["long"]) == len(result["warm"]) == 3
    assert result["total"][:2] == [1, 1] and result["top"][0] == ["Tủ thuốc biên cương"]
