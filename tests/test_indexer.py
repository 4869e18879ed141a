"""The search index: Vietnamese matching, ranking, facets, paging, updates, atomic rebuilds."""

from __future__ import annotations

import fcntl
import unicodedata
from pathlib import Path

import pytest

from indexer import AnalysisFailed, Document, IndexBusy, IndexMissing, SearchIndex


def doc(slug: str, title: str, body: str = "", **extra) -> Document:
    """Return a Document with sensible defaults."""
    values = dict(summary=extra.pop("summary", title), body_text=body, unit=extra.pop("unit", "Đồn Biên phòng A"))
    return Document(slug=slug, title=title, **values, **extra)


DOCS = [
    doc(
        "tu-thuoc",
        "Tủ thuốc biên cương",
        "Tủ thuốc đặt tại đồn biên phòng.",
        fields=("Y tế",),
        province="Nghệ An",
        year=2022,
    ),
    doc(
        "duong",
        "Làm đường tuần tra",
        "Mở đường tuần tra biên giới.",
        fields=("Kinh tế - Xã hội",),
        province="Hà Tĩnh",
        year=2021,
    ),
    doc(
        "duong-cam",
        "Trồng cây dương",
        "Trồng dương chắn cát ven biển.",
        fields=("Kinh tế - Xã hội",),
        province="Nghệ An",
        year=2020,
    ),
    doc(
        "an-ninh",
        "An ninh ở biên giới",
        "Giữ an ninh ở biên giới.",
        fields=("Phòng, chống tội phạm", "Y tế"),
        year=2022,
    ),
    doc("nhap", "Tủ thuốc nháp", "Bản nháp.", fields=("Y tế",), status="draft"),
]


@pytest.fixture
def index(tmp_path: Path) -> SearchIndex:
    """Return an index over DOCS."""
    ix = SearchIndex(tmp_path / "index")
    ix.build(DOCS)
    return ix


def slugs(results) -> list[str]:
    """Return the slugs of the hits, in rank order."""
    return [h.slug for h in results.hits]


@pytest.mark.parametrize(
    "query",
    [
        "tủ thuốc biên cương",
        "tu thuoc bien cuong",
        "TỦ THUỐC",
        unicodedata.normalize("NFD", "tủ thuốc"),
        "tủ\u200b thuốc",
        "biên_cương",
    ],
)
def test_a_query_finds_the_entry_with_or_without_diacritics(index, query):
    assert slugs(index.search(query))[0] == "tu-thuoc"


def test_d_without_bar_finds_d_with_bar(index):
    assert set(slugs(index.search("duong"))) == {"duong", "duong-cam"}


def test_typed_diacritics_find_that_word_not_its_folded_twins(index):
    """Typed with its marks, a word that some entry has matches only as typed."""
    assert slugs(index.search("đường")) == ["duong"]
    assert slugs(index.search("dương")) == ["duong-cam"]


def test_short_vietnamese_words_are_searchable(index):
    assert slugs(index.search("an ninh ở biên giới"))[0] == "an-ninh"
    assert slugs(index.search('"ở biên giới"')) == ["an-ninh"]


def test_a_quoted_phrase_must_match_in_order(index):
    assert slugs(index.search('"biên cương"')) == ["tu-thuoc"]
    assert slugs(index.search('"cương biên"')) == []


@pytest.mark.parametrize(
    "query", ['"', "*", "AND(", ":", "~", 'tủ AND( thuốc" * : ~ OR NOT', "title:x", "[a TO b]", ")("]
)
def test_query_syntax_characters_never_raise(index, query):
    index.search(query)


def test_highlights_mark_the_original_words_also_without_diacritics(index):
    hit = index.search("tu thuoc").hits[0]
    assert hit.title_html == "<mark>Tủ</mark> <mark>thuốc</mark> biên cương"
    assert "<mark>Tủ</mark> <mark>thuốc</mark> đặt" in hit.snippet_html


def test_highlights_respect_typed_diacritics(index):
    hit = index.search("đường").hits[0]
    assert "<mark>đường</mark>" in hit.snippet_html
    assert "dương" not in hit.snippet_html


def test_snippet_html_is_escaped(tmp_path):
    ix = SearchIndex(tmp_path / "ix")
    ix.build([doc("x", "Thẻ <b>", "Đoạn <script>alert(1)</script> có thẻ")])
    hit = ix.search("thẻ").hits[0]
    assert "<script>" not in hit.snippet_html
    assert "&lt;script&gt;" in hit.snippet_html
    assert hit.title_html == "<mark>Thẻ</mark> &lt;b&gt;"


def test_drafts_are_hidden_unless_asked_for(index):
    assert "nhap" not in slugs(index.search("tủ thuốc"))
    assert "nhap" in slugs(index.search("tủ thuốc", statuses=("published", "draft")))


def test_an_empty_query_lists_everything_newest_first(index):
    results = index.search("")
    assert results.total == 4
    assert slugs(results) == ["an-ninh", "tu-thuoc", "duong", "duong-cam"]


def test_facet_counts_and_filters(index):
    results = index.search("", filters={"province": ["Nghệ An"]})
    assert set(slugs(results)) == {"tu-thuoc", "duong-cam"}
    assert dict(results.facets["field"]) == {"Y tế": 1, "Kinh tế - Xã hội": 1}
    # The filtered facet still counts its other values, so they can be added.
    assert dict(results.facets["province"]) == {"Nghệ An": 2, "Hà Tĩnh": 1}
    assert dict(results.facets["year"]) == {"2022": 1, "2020": 1}


def test_values_within_a_facet_combine_with_or_and_facets_with_and(index):
    either = index.search("", filters={"province": ["Nghệ An", "Hà Tĩnh"]})
    assert either.total == 3
    both = index.search("", filters={"province": ["Nghệ An"], "field": ["Y tế"]})
    assert slugs(both) == ["tu-thuoc"]


def test_a_multi_valued_field_counts_each_value(index):
    counts = dict(index.search("").facets["field"])
    assert counts == {"Y tế": 2, "Kinh tế - Xã hội": 2, "Phòng, chống tội phạm": 1}


def test_paging(index):
    first, second = index.search("", page=1, per_page=3), index.search("", page=2, per_page=3)
    assert (first.total, first.pages, len(first.hits), len(second.hits)) == (4, 2, 3, 1)
    assert not set(slugs(first)) & set(slugs(second))
    assert index.search("", page=99, per_page=3).page == 2  # past the end shows the last page


def test_when_no_entry_has_every_word_entries_with_some_are_shown(index):
    results = index.search("tủ thuốc biên cương tuần tra")
    assert results.relaxed
    assert slugs(results)[0] == "tu-thuoc"
    assert results.hits[0].missing == ("tuần", "tra")
    assert not index.search("tủ thuốc").relaxed


def test_a_few_words_with_one_no_entry_has_find_nothing_but_suggest_the_closest(index):
    """No entry says "xyzzy": the knowledge base has nothing on it, whatever shares "tủ thuốc"."""
    results = index.search("tủ thuốc xyzzy")
    assert results.total == 0 and results.hits == []
    assert results.near[0] == ("tu-thuoc", "Tủ thuốc biên cương")


def test_update_replaces_and_deletes(index):
    index.update([doc("duong", "Làm đường tuần tra mới", "Bê tông hóa đường tuần tra.")], deletes=["tu-thuoc"])
    assert "tu-thuoc" not in slugs(index.search("tủ thuốc biên cương"))
    assert slugs(index.search("bê tông")) == ["duong"]
    assert index.slugs() == {"duong", "duong-cam", "an-ninh", "nhap"}


def test_a_missing_index_says_so(tmp_path):
    ix = SearchIndex(tmp_path / "none")
    assert not ix.exists()
    with pytest.raises(IndexMissing):
        ix.search("x")


def test_a_failed_full_build_leaves_the_old_index_serving(index):
    def broken():
        yield doc("moi", "Mô hình mới")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        index.build(broken())
    assert slugs(index.search("tủ thuốc"))[0] == "tu-thuoc"
    assert len(list(index.root.glob("gen-*"))) == 1


def test_a_full_build_switches_build_folders_and_keeps_one_previous(index):
    searcher_before = index.search("tủ thuốc")
    index.build([doc("moi", "Mô hình mới")])
    index.build([doc("moi-2", "Mô hình mới hai")])
    assert slugs(index.search("mô hình mới")) == ["moi-2"]
    assert searcher_before.total == 1
    assert len(list(index.root.glob("gen-*"))) == 2


def test_a_writer_waits_for_the_lock_and_gives_up_clearly(index):
    with open(index.root / "write.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        with pytest.raises(IndexBusy, match="đang được cập nhật"), index.builds.write_lock(timeout=0.2):
            pass


def test_stray_marks_and_empty_results_are_harmless(index):
    assert slugs(index.search("tủ thuốc \u0301")) == slugs(index.search("tủ thuốc"))
    empty = index.search("zzzz", page=50)
    assert (empty.total, empty.page) == (0, 1)


def test_filter_values_are_normalised(index):
    assert index.search("", filters={"province": [unicodedata.normalize("NFD", "Nghệ An")]}).total == 2


def test_a_pointer_to_an_unfinished_build_means_no_index(tmp_path):
    ix = SearchIndex(tmp_path / "ix")
    (tmp_path / "ix" / "gen-broken").mkdir(parents=True)
    (tmp_path / "ix" / "CURRENT").write_text("gen-broken")
    assert not ix.exists()
    with pytest.raises(IndexMissing):
        ix.search("x")


def _many(n: int) -> list[Document]:
    """Return n distinct documents sharing common words, with a word of their own each."""
    return [
        doc(
            f"m-{i}",
            f"Mô hình số {i} đồn biên phòng",
            f"Nội dung riêng ma{i}x và tủ thuốc biên cương.",
            year=2000 + i % 20,
        )
        for i in range(n)
    ]


def test_sorting_by_most_replicated_and_newest_pages_through_every_entry_once(tmp_path):
    ix = SearchIndex(tmp_path / "ix")
    docs = [
        doc(f"m-{i}", f"Mô hình đồn biên phòng {i}", "Nội dung.", year=2010 + i, adopted=(i * 7) % 5,
            level="Đã nhân rộng" if (i * 7) % 5 else "Mới đề xuất")
        for i in range(9)
    ]  # fmt: skip
    ix.build(docs)
    by_units = {d.slug: d.adopted for d in docs}
    for query in ("", "đồn biên phòng"):
        pages = [slugs(ix.search(query, page=p, per_page=4, sort="replicated")) for p in (1, 2, 3)]
        seen = [s for page in pages for s in page]
        assert sorted(seen) == sorted(by_units) and len(seen) == len(set(seen))
        assert [by_units[s] for s in seen] == sorted(by_units.values(), reverse=True)
        newest = [s for p in (1, 2, 3) for s in slugs(ix.search(query, page=p, per_page=4, sort="newest"))]
        assert newest == [f"m-{i}" for i in range(8, -1, -1)]
    assert ix.search("", filters={"level": ["Mới đề xuất"]}).total == sum(1 for d in docs if not d.adopted)


def test_an_index_from_an_older_schema_counts_as_missing_until_rebuilt(index):
    from indexer.storage import SCHEMA_FILE

    (index.builds.current_dir() / SCHEMA_FILE).unlink()
    assert not index.exists()
    with pytest.raises(IndexMissing):
        index.search("tủ thuốc")
    index.build(DOCS)
    assert slugs(index.search("tủ thuốc"))[0] == "tu-thuoc"


# Titles no validator would let through: the index must still list, sort and search around them.
ODD_TITLES = ["???", "—", "😀", "", "\u200b", "\u0301\u0301", "ـ"]


@pytest.mark.parametrize("title", ODD_TITLES, ids=[f"title-{i}" for i in range(len(ODD_TITLES))])
def test_one_entry_with_a_title_that_sorts_as_nothing_breaks_no_listing_for_others(tmp_path, title):
    ix = SearchIndex(tmp_path / "index")
    ix.build(DOCS)
    # Saved later, in a segment of its own, with the same year as others: it must sort among them.
    ix.update([doc("la", title, "Tủ thuốc của đồn.", summary="Tủ thuốc.", fields=("Y tế",), year=2022)])
    for sort in ("relevance", "newest", "replicated"):
        listing = ix.search("", sort=sort)
        assert listing.total == 5 and "la" in {h.slug for h in listing.hits}, sort
        assert {h.slug for h in ix.search("tủ thuốc", sort=sort).hits} >= {"tu-thuoc", "la"}, sort
    assert ix.search("", filters={"year": ["2022"]}, sort="newest").total == 3
    assert all(h.slug != "tu-thuoc" for h in ix.related("tu-thuoc"))


def test_an_empty_index_answers_every_kind_of_search(tmp_path):
    ix = SearchIndex(tmp_path / "index")
    ix.build([])  # a new unit's first start: no entry yet
    for sort in ("relevance", "newest", "replicated"):
        for query in ("", "tủ thuốc", '"vùng biên"', "-bão"):
            found = ix.search(query, filters={"field": ["Y tế"]} if query else None, sort=sort)
            assert (found.total, found.hits) == (0, []), (query, sort)
    assert ix.suggest_titles("tu") == []
    assert ix.related("khong-co") == []
    ix.update([doc("dau-tien", "Mô hình đầu tiên", "Tủ thuốc.", year=2024)])
    assert [h.slug for h in ix.search("tủ thuốc").hits] == ["dau-tien"]


def test_an_entry_whose_analysis_fails_is_reported_and_the_others_are_indexed(tmp_path):
    ix = SearchIndex(tmp_path / "index")
    broken = doc("hong", "Hỏng", "Nội dung.", fields=None)  # not a list: analysing it raises
    failed: list[tuple[str, str]] = []
    assert ix.build([*DOCS, broken], failed=failed) == len(DOCS)
    assert [slug for slug, _why in failed] == ["hong"]
    assert ix.search("tủ thuốc", statuses=("published", "draft")).total == 2
    failed.clear()
    ix.update([broken, doc("moi", "Mô hình mới", "Tủ thuốc mới.")], failed=failed)
    assert [slug for slug, _why in failed] == ["hong"]
    assert "moi" in {h.slug for h in ix.search("tủ thuốc").hits}


def test_a_build_where_most_documents_fail_keeps_the_old_index_serving(index):
    broken = [doc(f"hong-{i}", "Hỏng", "Tủ thuốc.", fields=None) for i in range(5)]
    with pytest.raises(AnalysisFailed):
        index.build([*broken, DOCS[0]])
    assert index.search("tủ thuốc").total == 1  # the previous build, whole
    with pytest.raises(AnalysisFailed):
        index.update(broken[:2])
    assert {h.slug for h in index.search("").hits} == {"tu-thuoc", "duong", "duong-cam", "an-ninh"}
