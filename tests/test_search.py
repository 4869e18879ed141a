"""Search behaviour an officer notices: spelling variants, abbreviations, codes, highlights."""

from __future__ import annotations

import re
import unicodedata
from html import unescape
from pathlib import Path

import pytest

from indexer import Document, SearchIndex, Thesaurus


def doc(slug: str, title: str, body: str = "", **extra) -> Document:
    """Return a Document with defaults."""
    return Document(slug=slug, title=title, summary=extra.pop("summary", ""), body_text=body,
                    unit=extra.pop("unit", "Đồn Biên phòng A"), **extra)  # fmt: skip


@pytest.fixture
def index(tmp_path: Path) -> SearchIndex:
    """Return an index with spelling variants, abbreviations and document numbers."""
    thesaurus = Thesaurus()
    thesaurus.add_group(["BĐBP", "Bộ đội Biên phòng"])
    ix = SearchIndex(tmp_path / "ix", thesaurus)
    ix.build(
        [
            doc("hoa-cu", "Giữ gìn hoà bình vùng biên", "Thuỷ điện nhỏ cho bản làng, khoẻ mạnh."),
            doc("hoa-moi", "Phát triển thủy sản", "Nuôi cá nước ngọt, hòa nhập cộng đồng."),
            doc("don", "ĐỒN BIÊN PHÒNG KIỂU MẪU", "Xây dựng đồn chính quy."),
            doc("nfd", unicodedata.normalize("NFD", "Tuyên truyền pháp luật cho ngư dân"), "Tại các bến cá."),
            doc("vt", "Phối hợp với BĐBP tỉnh", "Theo Kế hoạch 123/QĐ-BĐBP của đơn vị."),
            doc("dd", "Bộ đội Biên phòng giúp dân", "Giúp dân gặt lúa. Giúp dân dựng nhà."),
        ]
    )
    return ix


def first(index: SearchIndex, query: str) -> str | None:
    """Return the slug of the top hit."""
    hits = index.search(query).hits
    return hits[0].slug if hits else None


@pytest.mark.parametrize(
    ("query", "slug"),
    [
        ("hòa bình", "hoa-cu"),  # new style finds old style
        ("thủy điện", "hoa-cu"),
        ("khỏe mạnh", "hoa-cu"),
        ("hoà nhập", "hoa-moi"),  # old style finds new style
        ("thuỷ sản", "hoa-moi"),
        ("don", "don"),  # no diacritics, đ folded
        ("đồn biên phòng kiểu mẫu", "don"),  # an ALL-CAPS title
        ("tuyên truyền pháp luật", "nfd"),  # an NFD document
        (unicodedata.normalize("NFD", "ngư dân"), "nfd"),  # an NFD query
    ],
)
def test_spelling_variants_find_the_entry(index, query, slug):
    assert first(index, query) == slug


def test_an_abbreviation_and_its_expansion_find_each_other(index):
    assert {h.slug for h in index.search("BĐBP").hits} == {"vt", "dd"}
    assert {h.slug for h in index.search("bộ đội biên phòng").hits} == {"vt", "dd"}


def test_a_document_number_is_kept_whole(index):
    from indexer import document_codes

    assert document_codes("Theo Kế hoạch 123/QĐ-BĐBP của đơn vị") == ["123/qd-bdbp"]
    assert first(index, "123/QĐ-BĐBP") == "vt"
    assert first(index, "123/qd-bdbp") == "vt"


@pytest.mark.parametrize("query", ["giúp dân", "giup dan", "hoà bình", "thuỷ điện", "ngư dân", "BĐBP"])
def test_every_highlight_marks_the_original_surface_form(index, query):
    from indexer import fold_accents, normalize_text

    typed = {fold_accents(normalize_text(w)).lower() for w in re.findall(r"\w+", query)}
    expansion = {"bo", "doi", "bien", "phong"}  # BĐBP also marks "Bộ đội Biên phòng"
    for hit in index.search(query).hits:
        # Removing the marks gives back the title exactly as stored, in its own Unicode form.
        assert unescape(re.sub(r"</?mark>", "", hit.title_html)) == hit.title
        for html in (hit.title_html, hit.snippet_html):
            for marked in re.findall(r"<mark>(.*?)</mark>", html):
                assert fold_accents(normalize_text(unescape(marked))).lower() in typed | expansion


def test_repeated_words_are_each_marked_in_place(index):
    hit = next(h for h in index.search("giúp dân").hits if h.slug == "dd")
    assert hit.snippet_html.count("<mark>Giúp</mark> <mark>dân</mark>") == 2


def test_suggest_titles_by_prefix_of_any_word_without_diacritics(index):
    assert [slug for slug, _ in index.suggest_titles("bien phong kie")] == ["don"]
    assert [slug for slug, _ in index.suggest_titles("thu")] == ["hoa-moi"]
    assert index.suggest_titles("") == []


def test_related_entries_exclude_itself_and_drafts(tmp_path):
    ix = SearchIndex(tmp_path / "rel")
    ix.build(
        [
            doc("a", "Tủ thuốc biên cương", "Tủ thuốc cho bà con. Cấp thuốc miễn phí tại đồn."),
            doc("b", "Tủ thuốc nhân đạo", "Tủ thuốc nhân đạo cấp thuốc miễn phí cho bà con."),
            doc("c", "Tủ thuốc nháp", "Tủ thuốc cấp thuốc miễn phí.", status="draft"),
            doc("d", "Lớp học tình thương", "Dạy chữ cho trẻ em."),
        ]
    )
    related = [h.slug for h in ix.related("a")]
    assert related[0] == "b"
    assert "a" not in related and "c" not in related
