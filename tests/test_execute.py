"""The fast search path: document sets, facet arrays, the shortlist and the caches."""

from __future__ import annotations

from pathlib import Path

import pytest
from whoosh.query import And, Term

from indexer import Document, SearchIndex
from indexer import execute as ex
from indexer.execute import DocSet, _BoundedDict
from indexer.query import parse_query


def doc(slug: str, title: str, body: str = "", **extra) -> Document:
    """Return a Document with defaults."""
    return Document(slug=slug, title=title, summary=extra.pop("summary", ""), body_text=body,
                    unit=extra.pop("unit", "Đồn Biên phòng A"), **extra)  # fmt: skip


@pytest.fixture
def index(tmp_path: Path) -> SearchIndex:
    """Return an index spread over several segments (one build, then two updates)."""
    ix = SearchIndex(tmp_path / "ix")
    ix.build([doc(f"a{n}", f"Mô hình biên giới số {n}", "Đồn biên phòng giúp dân.", year=2020 + n % 3,
                  fields=("Dân vận",)) for n in range(6)])  # fmt: skip
    ix.update([doc("tu-thuoc", "Tủ thuốc biên cương", "Tủ thuốc giúp dân vùng biên.", fields=("Y tế",), year=2022)])
    ix.update([doc("tau", "Tàu thuyền đoàn kết", "Ngư dân giúp nhau trên biển.", fields=("Dân vận",), year=2021)])
    return ix


def test_docset_matches_its_documents_in_every_segment(index):
    with index._searcher() as searcher:
        assert len(searcher.leaf_searchers()) > 1
        every = set(searcher.docs_for_query(DocSet(range(searcher.doc_count_all()))))
        assert every == set(range(searcher.doc_count_all()))
        some = {0, searcher.doc_count_all() - 1}
        assert set(searcher.docs_for_query(DocSet(some))) == some


def test_facet_counts_are_the_same_with_and_without_bit_masks(index, monkeypatch):
    plain = index.search("", cache=False).facets
    monkeypatch.setattr(ex, "MASK_FROM", 0)
    index._gen = None  # rebuild the per-version arrays
    assert index.search("", cache=False).facets == plain
    assert dict(plain["field"]) == {"Dân vận": 7, "Y tế": 1}


def test_pages_past_a_short_shortlist_never_repeat_or_skip_an_entry(index, monkeypatch):
    monkeypatch.setattr(ex, "SHORTLIST", 2)
    monkeypatch.setattr(ex, "PRECISE", 1)
    results = index.search("giúp dân", cache=False)
    assert results.total == 8  # in every entry
    pages = [index.search("giúp dân", page=n, per_page=3, cache=False).hits for n in (1, 2, 3)]
    slugs = [h.slug for page in pages for h in page]
    assert len(slugs) == len(set(slugs)) == 8


def test_entries_with_every_word_come_before_those_with_some(index, monkeypatch):
    monkeypatch.setattr(ex, "SHORTLIST", 3)
    results = index.search("tủ thuốc ngư dân", cache=False)
    assert [h.slug for h in results.hits[:1]] in (["tu-thuoc"], ["tau"])  # each has half the words
    every = index.search("thuốc giúp dân", cache=False)
    assert every.hits[0].slug == "tu-thuoc"


def test_an_excluded_word_is_matched_as_typed(tmp_path):
    ix = SearchIndex(tmp_path / "ex")
    ix.build(
        [doc("bao", "Phòng chống bão lũ", "Sơ tán khi có bão."), doc("bao-ve", "Bảo vệ mốc", "Bảo vệ đường biên.")]
    )
    assert [h.slug for h in ix.search("-bão", cache=False).hits] == ["bao-ve"]
    assert [h.slug for h in ix.search("-bao", cache=False).hits] == []  # unmarked: every spelling


def test_cached_results_follow_the_index_version(index):
    assert index.search('"san hô"').total == 0
    index.update([doc("san-ho", "Bảo vệ rạn san hô", "San hô ven đảo.")])
    assert [h.slug for h in index.search('"san hô"').hits] == ["san-ho"]


def test_the_memo_forgets_the_oldest_beyond_its_size():
    memo = _BoundedDict(5)
    memo["a"] = frozenset({1, 2, 3})
    memo["b"] = frozenset({4, 5})
    memo["c"] = frozenset({6, 7})
    assert list(memo) == ["b", "c"] and memo.held == 4


def _seen(ix: SearchIndex, query: str, **options) -> tuple:
    """Return what a user sees of a search: total, hits in order, facets, notices."""
    found = ix.search(query, cache=False, **options)
    hits = [(h.slug, h.score) for h in found.hits]
    return found.total, hits, found.facets, found.relaxed, found.corrected


CARRY_QUERIES = [
    ("giúp dân", {}),
    ("tủ thuốc", {}),
    ('"biên cương"', {}),
    ("ngư dân -biển", {}),
    ("san hô", {}),
    ("", {"field": ["Dân vận"]}),
    ("biên giới", {"year": ["2021"]}),
    ("tu thuoc bien cuong", {}),
]


def test_after_each_save_searches_find_what_a_fresh_reader_finds(tmp_path):
    """Each save builds on what the last index version looked up; that must never change a result."""
    index = SearchIndex(tmp_path / "ix")
    index.build([doc(f"a{n}", f"Mô hình biên giới số {n}", "Đồn biên phòng giúp dân.", year=2020 + n % 3,
                     fields=("Dân vận",)) for n in range(60)])  # fmt: skip
    index.update([doc("tu-thuoc", "Tủ thuốc biên cương", "Tủ thuốc giúp dân vùng biên.", fields=("Y tế",), year=2022)])
    index.update([doc("tau", "Tàu thuyền đoàn kết", "Ngư dân giúp nhau trên biển.", fields=("Dân vận",), year=2021)])
    steps = [
        ([doc("tu-thuoc", "Tủ sách biên cương", "Sách cho trẻ em vùng biên.", fields=("Giáo dục",))], []),
        ([doc("san-ho", "Bảo vệ rạn san hô", "Ngư dân giữ san hô ven đảo.", fields=("Dân vận",), year=2021)], []),
        ([], ["a2"]),
        ([doc("a0", "Mô hình biên giới số 0", "Đồn biên phòng giúp dân.", level="Điển hình", adopted=4)], []),
        *[([doc(f"b{n}", f"Tủ thuốc biên cương {n}", "Tủ thuốc giúp dân.", year=2021)], []) for n in range(8)],
        ([], ["tau", "b3"]),
    ]
    words = [Term("all_f", w) for w in ("tu", "thuoc", "dan", "bien", "san")] + [Term("title_f", "bien")]
    carried = 0
    for upserts, deletes in steps:
        for query, filters in CARRY_QUERIES:  # the memo of this version holds these
            index.search(query, filters, cache=False)
        with index._searcher() as searcher:
            for word in words:
                index._index_version(searcher).docs(searcher, word)
        index.update(upserts, deletes)
        with index._searcher() as searcher:
            version = index._index_version(searcher)
            carried += version._heir is not None
            for word in words:  # deleted entries leave, new ones come in
                assert version.docs(searcher, word) == set(searcher.docs_for_query(word)), word
                postings = version.term_postings(searcher, word.fieldname, word.text)
                fresh = ex._read_postings(searcher.schema, searcher.leaf_searchers(), word.fieldname, word.text)
                assert (postings.ids, postings.weights, postings.places, postings.ends) == (
                    fresh.ids,
                    fresh.weights,
                    fresh.places,
                    fresh.ends,
                ), word
        fresh = SearchIndex(index.root)  # nothing carried from an earlier version
        for query, filters in CARRY_QUERIES:
            for sort in ("relevance", "newest", "replicated"):
                assert _seen(index, query, filters=filters, sort=sort) == _seen(
                    fresh, query, filters=filters, sort=sort
                )
    assert _seen(index, '"tủ thuốc"')[0] == 7  # b0..b7 without b3; "tu-thuoc" became "Tủ sách"
    assert carried >= len(steps) // 2  # most steps really built on the previous version


def test_scores_from_decoded_postings_are_whooshs_own(index):
    """The shortlist is scored from postings decoded once per version: exactly Whoosh's BM25F scores."""
    index.update([doc("a1", "Mô hình biên giới số 1", "Đồn biên phòng giúp dân trồng rừng.")])  # a deletion
    with index._searcher() as searcher:
        assert any(leaf.reader().has_deletions() for leaf, _ in searcher.leaf_searchers())
        version = index._index_version(searcher)
        everyone = set(range(searcher.doc_count_all()))  # deleted ones too: neither way may score them
        checked = phrases = 0
        queries = ("giúp dân", "tủ thuốc biên cương", "đồn biên phòng", "ngư dân trên biển", '"biên cương"')
        for typed in (*queries, "tàu thuyền đoàn kết", "biên giới số", "thuốc tủ"):  # the last: not in a row
            pq = parse_query(typed, index.thesaurus)
            for clause in ex.scoring_clauses(pq, ex.loose_units(pq, version.common(searcher))):
                whooshs: dict[int, float] = {}
                query = And([DocSet(everyone), clause])  # Whoosh's own matchers, phrases included
                for leaf, offset in searcher.leaf_searchers():
                    matcher = query.matcher(leaf, searcher.context())
                    while matcher.is_active():
                        whooshs[offset + matcher.id()] = matcher.score()
                        matcher.next()
                decoded = ex._TermScores(searcher, everyone, version).evaluate(clause)
                assert decoded == pytest.approx(whooshs, rel=1e-12, abs=0), clause
                checked += bool(whooshs)
                phrases += bool(whooshs) and ex._has_phrase(clause)
        assert checked >= 8 and phrases >= 3


def test_related_models_rank_as_whooshs_more_like_would(tmp_path):
    topics = ["tủ thuốc quân y", "tàu thuyền ngư dân", "lớp học xóa mù chữ", "đèn năng lượng mặt trời"]
    ix = SearchIndex(tmp_path / "rel")
    ix.build([doc(f"m{n}", f"Mô hình {topics[n % 4]} số {n}",
                  f"Đồn biên phòng làm {topics[n % 4]}, rồi {topics[(n * 7) % 4]} cùng bà con {n % 5} bản.",
                  status="draft" if n % 9 == 0 else "published") for n in range(40)])  # fmt: skip
    with ix._searcher() as searcher:
        for slug in ("m1", "m2", "m7", "m30"):
            docnum = searcher.document_number(slug=slug)
            text = searcher.stored_fields(docnum)["stored"]["key_terms"]
            expected = searcher.more_like(docnum, "words_f", text=text, top=5, numterms=12,
                                          filter=Term("status", "published"))  # fmt: skip
            assert [h.slug for h in ix.related(slug)] == [h["slug"] for h in expected]
            assert [round(h.score, 3) for h in ix.related(slug)] == [round(h.score, 3) for h in expected]


def test_a_new_version_lets_the_previous_memo_go_after_a_while(index, monkeypatch):
    index.search("tủ thuốc", cache=False)
    index.update([doc("moi", "Mô hình mới", "Giúp dân.")])
    with index._searcher() as searcher:
        version = index._index_version(searcher)
        assert version._heir is not None
        monkeypatch.setattr(ex.time, "monotonic", lambda: version._heir[-1] + 1)
        word = Term("all_f", "thuoc")
        assert version.docs(searcher, word) == set(searcher.docs_for_query(word))  # looked up afresh
        assert version._heir is None  # the old memo is no longer held


def test_an_older_version_never_takes_a_newer_ones_deletions(index):
    """A thread may still read the version before a save while another reads the one after."""
    from whoosh import index as whoosh_index

    before = whoosh_index.open_dir(index._current_dir()).searcher()
    index.update([doc("tu-thuoc", "Tủ sách biên cương", "Sách cho trẻ em vùng biên.", fields=("Giáo dục",))])
    after = whoosh_index.open_dir(index._current_dir()).searcher()
    word = Term("all_f", "thuoc")
    newer = ex.IndexVersion(after)
    assert len(newer.docs(after, word)) == 0  # "tủ thuốc" is gone after the save
    older = ex.IndexVersion(before, previous=newer)
    assert older.docs(before, word) == set(before.docs_for_query(word)) != set()
    assert older.values == ex.IndexVersion(before).values  # the entry still has its facets there
    before.close()
    after.close()


def test_postings_decoded_across_blocks_are_whooshs_own_with_deletions(tmp_path):
    """More entries than a Whoosh block holds (128), the first block's all deleted."""
    ix = SearchIndex(tmp_path / "big")
    ix.build([doc(f"m{n}", f"Biên giới biên cương số {n}", "Đồn biên phòng giúp dân.") for n in range(300)])
    ix.update([], [f"m{n}" for n in range(140)] + ["m200", "m201"])
    with ix._searcher() as searcher:
        version = ix._index_version(searcher)
        for field, text in (("title_f", "bien"), ("title_f", "cuong"), ("all_f", "dan"), ("title_f", "khong-co")):
            postings = version.term_postings(searcher, field, text)
            ids, weights, places = [], [], []
            for leaf, offset in searcher.leaf_searchers():
                matcher = Term(field, text).matcher(leaf, searcher.context())
                while matcher.is_active():
                    ids.append(offset + matcher.id())
                    weights.append(matcher.weight())
                    if field == "title_f":
                        places.append(list(matcher.value_as("positions")))
                    matcher.next()
            assert list(postings.ids) == ids and list(postings.weights) == weights, (field, text)
            if field == "title_f":
                assert [list(postings.positions(i)) for i in range(len(ids))] == places
        assert len(ids) == 0 and len(version.term_postings(searcher, "all_f", "dan").ids) == 158


def test_a_version_never_scores_with_another_versions_postings(index):
    """A save that only deletes keeps every segment in place: the deletions still tell them apart."""
    with index._searcher() as before:
        old = index._index_version(before)
        assert old.aligned(before)
    index.update([], ["a1"])
    with index._searcher() as after:
        assert not old.aligned(after)
        assert index._index_version(after).aligned(after)
        assert ex._TermScores(after, {0, 1}, old).version is None  # scored by Whoosh's matchers instead


def test_multi_valued_facets_count_the_same_either_way(tmp_path, monkeypatch):
    ix = SearchIndex(tmp_path / "multi")
    ix.build([doc(f"m{n}", f"Mô hình số {n}", "Giúp dân.", fields=("Dân vận", "Y tế", "Giáo dục")[: 1 + n % 3])
              for n in range(30)])  # fmt: skip
    expected = {"Dân vận": 30, "Y tế": 20, "Giáo dục": 10}
    for mask_from in (0, 10**9):  # bit masks, then entry by entry
        monkeypatch.setattr(ex, "MASK_FROM", mask_from)
        ix._gen = None
        assert dict(ix.search("giúp dân", cache=False).facets["field"]) == expected


def test_words_nobody_has_still_count_against_the_memos_bound():
    memo = _BoundedDict(10, cost=4)
    for n in range(100):
        memo[f"tu-khong-co-{n}"] = frozenset()
    assert len(memo) == 2 and memo.held == 8
