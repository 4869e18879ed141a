"""The search path through the public API: facet counts, paging past the shortlist, tiers, caches."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import document as doc
from helpers import segmented_index

from indexer import SearchIndex
from indexer import facets as facets_module
from indexer import ranking as ranking_module
from indexer.caches import Cache


@pytest.fixture
def index(tmp_path: Path) -> SearchIndex:
    """Return an index spread over several segments (one build, then two updates)."""
    return segmented_index(tmp_path / "ix")


def test_facet_counts_are_the_same_with_and_without_bit_masks(index, monkeypatch):
    plain = index.search("", cache=False).facets
    monkeypatch.setattr(facets_module, "MASK_FROM", 0)
    assert index.search("", cache=False).facets == plain
    assert dict(plain["field"]) == {"Dân vận": 7, "Y tế": 1}


def test_pages_past_a_short_shortlist_never_repeat_or_skip_an_entry(index, monkeypatch):
    monkeypatch.setattr(ranking_module, "SHORTLIST", 2)
    monkeypatch.setattr(ranking_module, "PRECISE", 1)
    results = index.search("giúp dân", cache=False)
    assert results.total == 8  # in every entry
    pages = [index.search("giúp dân", page=n, per_page=3, cache=False).hits for n in (1, 2, 3)]
    slugs = [h.slug for page in pages for h in page]
    assert len(slugs) == len(set(slugs)) == 8


def test_entries_with_every_word_come_before_those_with_some(index, monkeypatch):
    monkeypatch.setattr(ranking_module, "SHORTLIST", 3)
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


def test_multi_valued_facets_count_the_same_either_way(tmp_path, monkeypatch):
    ix = SearchIndex(tmp_path / "multi")
    ix.build([doc(f"m{n}", f"Mô hình số {n}", "Giúp dân.", fields=("Dân vận", "Y tế", "Giáo dục")[: 1 + n % 3])
              for n in range(30)])  # fmt: skip
    expected = {"Dân vận": 30, "Y tế": 20, "Giáo dục": 10}
    for mask_from in (0, 10**9):  # bit masks, then entry by entry
        monkeypatch.setattr(facets_module, "MASK_FROM", mask_from)
        assert dict(ix.search("giúp dân", cache=False).facets["field"]) == expected


def test_a_cache_bounded_by_size_drops_the_least_recently_used():
    memo: Cache[frozenset[int]] = Cache(5, len)
    memo.put("a", frozenset({1, 2, 3}))
    memo.put("b", frozenset({4, 5}))
    assert memo.get("a") is not None  # "a" is now the most recently used
    memo.put("c", frozenset({6}))
    assert memo.keys() == ["a", "c"] and memo.held == 4


def test_words_nobody_has_still_count_against_the_memos_bound():
    memo: Cache[frozenset[int]] = Cache(10, lambda docs: len(docs) + 4)
    for n in range(100):
        memo.put(f"tu-khong-co-{n}", frozenset())
    assert len(memo) == 2 and memo.held == 8


def test_a_value_larger_than_the_whole_cache_is_not_kept():
    memo: Cache[frozenset[int]] = Cache(3, len)
    memo.put("small", frozenset({1}))
    memo.put("huge", frozenset(range(10)))
    assert "huge" not in memo and memo.get("small") == frozenset({1})
