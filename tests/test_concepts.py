"""Everyday wording (concepts.yml), and what decides among entries that share a title."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer import Document, SearchIndex
from kb.catalog import check_content
from kb.vocabulary import load_vocabulary

CONCEPTS = """\
- terms: [tảo hôn]
  everyday: [cưới sớm, lấy chồng sớm]
- terms: [tủ thuốc]
  everyday: [người ốm, đau ốm]
"""


def doc(slug: str, title: str, body: str, **extra) -> Document:
    """Return a published Document."""
    return Document(slug=slug, title=title, summary=extra.pop("summary", ""), body_text=body,
                    unit=extra.pop("unit", "Đồn Biên phòng A"), **extra)  # fmt: skip


@pytest.fixture
def index(tmp_path: Path) -> SearchIndex:
    """Return an index searched with the everyday wording of CONCEPTS."""
    content = tmp_path / "content"
    content.mkdir()
    (content / "concepts.yml").write_text(CONCEPTS, encoding="utf-8")
    vocab = load_vocabulary(content)
    assert vocab.problems == []
    ix = SearchIndex(tmp_path / "ix", vocab.thesaurus, {"Điện Biên": "Điện Biên", "Lai Châu": "Lai Châu"})
    ix.build(
        [
            doc("tao-hon", "Giảm tảo hôn vùng biên", "Tuyên truyền về tác hại của tảo hôn ở các bản."),
            doc("cuoi", "Đám cưới nếp sống mới", "Vận động tổ chức cưới sớm hơn giờ hẹn, tiết kiệm."),
            doc("tu-thuoc", "Tủ thuốc biên cương", "Đặt tủ thuốc tại nhà văn hóa bản.", province="Điện Biên",
                year=2021),
            doc("tu-thuoc-lc", "Tủ thuốc biên cương", "Đặt tủ thuốc tại nhà văn hóa bản.", province="Lai Châu",
                year=2023),
            doc("vuon", "Vườn rau cho đồn", "Cán bộ chiến sĩ nuôi cá, trồng rau trong vườn."),
            doc("ca", "Nuôi cá lồng", "Hợp tác xã nuôi cá lồng ven đảo."),
            doc("vit", "Nuôi vịt đàn", "Hộ nghèo nuôi vịt chạy đồng."),
            doc("ngan", "Nuôi ngan", "Hộ nghèo nuôi ngan trong vườn nhà."),
        ]
    )  # fmt: skip
    return ix


def slugs(index: SearchIndex, query: str) -> list[str]:
    """Return the slugs shown for a query, in order."""
    return [h.slug for h in index.search(query).hits]


def test_everyday_words_find_the_entry_that_uses_the_term(index):
    """An officer types "cưới sớm"; the entry says "tảo hôn"."""
    assert slugs(index, "lấy chồng sớm ở bản")[:1] == ["tao-hon"]
    assert "tao-hon" in slugs(index, "cưới sớm")
    # The entry with the words as typed still comes first.
    assert slugs(index, "cưới sớm")[0] == "cuoi"


def test_everyday_wording_works_one_way(index):
    """The term does not turn into the everyday words: "tảo hôn" does not find a wedding entry."""
    assert slugs(index, "tảo hôn") == ["tao-hon"]


def test_a_question_in_everyday_words_finds_the_model(index):
    results = index.search("người ốm ở bản")
    first = results.hits[:2]
    assert {h.slug for h in first} == {"tu-thuoc", "tu-thuoc-lc"} and not results.relaxed
    assert all(h.missing == () for h in first)
    assert all(h.missing == ("người ốm",) for h in results.hits[2:])  # others only share "bản"


def test_a_short_query_naming_what_no_entry_has_finds_nothing(index):
    """No entry is about chickens: entries that only share "nuôi" or "vườn" are not offered."""
    results = index.search("nuôi gà thả vườn")
    assert results.total == 0 and results.hits == []
    assert results.near  # the closest titles are still offered, as suggestions


@pytest.mark.parametrize(
    ("query", "slug"),
    [
        ("tủ thuốc biên cương Lai Châu", "tu-thuoc-lc"),
        ("tủ thuốc biên cương Điện Biên", "tu-thuoc"),
        ("tủ thuốc biên cương năm 2023", "tu-thuoc-lc"),
        ("tủ thuốc biên cương 2021", "tu-thuoc"),
    ],
)
def test_a_province_or_year_decides_among_entries_with_one_title(index, query, slug):
    results = index.search(query)
    assert results.hits[0].slug == slug
    assert results.total == 2 and not results.relaxed  # a year is not a word the text must have


def test_kb_check_reports_a_broken_or_useless_concept_group(content_dir):
    (content_dir / "concepts.yml").write_text(
        "# Một dòng ghi chú\n- terms: [tủ thuốc]\n  everyday:\n    - người ốm\n"
        "- terms: [tảo hôn]\n  everyday: [cưới sớm]\n"
        "- terms: [tủ thuốc]\n  everyday: [Tủ Thuốc]\n"
        "- everyday: [không có thuật ngữ]\n",
        encoding="utf-8",
    )
    problems = [str(p) for p in check_content(content_dir).problems]
    concepts = [p for p in problems if "concepts.yml" in p]
    assert any(":5: cảnh báo: thuật ngữ 'tảo hôn' không có trong mục nào" in p for p in concepts), concepts
    assert any(":7: cảnh báo: 'Tủ Thuốc' vừa là thuật ngữ vừa là cách nói" in p for p in concepts), concepts
    assert any(":9: nhóm" in p and "terms" in p for p in concepts), concepts
    assert not any("'tủ thuốc' không có trong mục nào" in p for p in concepts)  # the test entries use it
    # A broken group is skipped; the good ones still work.
    vocab = load_vocabulary(content_dir)
    assert [c.terms for c in vocab.concepts] == [("tủ thuốc",), ("tảo hôn",), ("tủ thuốc",)]


def test_a_real_word_typed_with_its_marks_is_never_respelled(index):
    """ "gà" is a word the entries lack, not a typo of "cá": nothing about fish is offered."""
    results = index.search("nuôi gà")
    assert results.total == 0 and results.respelled is None


@pytest.mark.parametrize("query", ["vịt ngan", "ngan vịt"])
def test_word_order_does_not_change_what_a_short_query_finds(index, query):
    """Ducks and muscovy ducks, one entry each: both are partial matches, in either order."""
    assert set(slugs(index, query)) == {"vit", "ngan"}
    assert slugs(index, query.replace("ngan", "gà")) == []  # no entry about chickens


@pytest.mark.parametrize("query", ["2023", "năm 2023"])
def test_a_query_that_is_only_a_year_lists_that_years_entries(index, query):
    results = index.search(query)
    assert [h.slug for h in results.hits] == ["tu-thuoc-lc"] and results.total == 1


def test_a_year_with_an_excluded_word_lists_that_years_entries_without_it(index):
    """ "năm 2023 -xyz": a year-only query with an exclusion answered (it used to fail with an error)."""
    results = index.search("năm 2023 -xyz")
    assert [h.slug for h in results.hits] == ["tu-thuoc-lc"] and results.total == 1
    assert index.search("năm 2023 -thuốc").total == 0


def test_vocabulary_values_that_are_not_words_are_reported(tmp_path):
    content = tmp_path / "content"
    content.mkdir()
    (content / "concepts.yml").write_text(
        "- terms: [tủ thuốc]\n  everyday: [yes]\n"
        "- terms: ['  ']\n  everyday: [người ốm]\n"
        "- terms: [tảo hôn]\n  everday: [cưới sớm]\n  everyday: [lấy chồng sớm]\n",
        encoding="utf-8",
    )
    problems = [(p.line, p.warning, p.message) for p in load_vocabulary(content).problems]
    assert [(line, warning) for line, warning, _ in problems] == [(1, False), (3, False), (5, True)]
    assert "khóa lạ everday" in problems[2][2]
    assert [c.terms for c in load_vocabulary(content).concepts] == [("tảo hôn",)]
