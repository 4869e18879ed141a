"""The fenced Whoosh internals (indexer/_whoosh_internals.py) against Whoosh's own results.

Each speed-up must give exactly what Whoosh's public API gives; with any other Whoosh version
the module must stay off and the search must still give the same answers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import whoosh
from helpers import document as doc
from helpers import segmented_index
from whoosh import index as whoosh_index
from whoosh.fields import ID, TEXT, Schema
from whoosh.query import And, Term
from whoosh.scoring import BM25F

from indexer import Document, SearchIndex, storage
from indexer import _whoosh_internals as internals
from indexer import version as version_module
from indexer.plan import DocSet, Plan, has_phrase
from indexer.postings import read_postings
from indexer.query import parse_query
from indexer.ranking import TermScores
from indexer.version import IndexVersion


def _many(n: int) -> list[Document]:
    """Return n distinct documents sharing common words, with a word of their own each."""
    return [
        doc(f"m-{i}", f"Mô hình số {i} đồn biên phòng", f"Nội dung riêng ma{i}x và tủ thuốc biên cương.",
            year=2000 + i % 20)
        for i in range(n)
    ]  # fmt: skip


def slugs(results) -> list[str]:
    """Return the slugs of the hits, in rank order."""
    return [h.slug for h in results.hits]


QUERIES = ("biên cương", "ma17x", "ma149x", "đồn biên phòng", "tủ thuốc", "mo hinh so 42", '"biên cương"')


def answer(index: SearchIndex, query: str) -> list[tuple[float, str]]:
    """Return every hit as (score, slug), best first; equal scores by slug, since their order
    follows where each document landed in the segments."""
    return sorted((-round(h.score, 6), h.slug) for h in index.search(query, per_page=200).hits)


@pytest.fixture
def off(monkeypatch):
    """Pretend another Whoosh version is installed: nothing private may be used."""
    monkeypatch.setattr(internals, "WRITTEN_FOR", "0.0.0")
    internals.uninstall()
    yield
    monkeypatch.undo()
    internals.install()


def test_the_speed_ups_are_on_only_for_the_version_they_were_written_for():
    assert internals.install() is (whoosh.versionstring() == internals.WRITTEN_FOR)
    assert internals.install(version="9.9.9") is False and not internals.active()
    assert internals.install() is True and internals.active()


def test_an_index_opened_without_the_speed_ups_runs_on_whooshs_public_api(tmp_path):
    index = SearchIndex(tmp_path / "ix")
    index.build([doc("tu-thuoc", "Tủ thuốc biên cương", "Tủ thuốc đặt tại đồn.")])
    fast = answer(index, "tủ thuốc")
    slow = SearchIndex(tmp_path / "ix", whoosh_speedups=False)
    try:
        assert not internals.active()  # the benchmark's "without indexer's Whoosh speed-ups"
        assert answer(slow, "tủ thuốc") == fast
    finally:
        internals.install()


def test_importing_the_engine_changes_nothing_in_whoosh(tmp_path):
    """Installing is explicit (opening an index), never a side effect of importing."""
    import subprocess
    import sys

    check = (
        "import sys; from whoosh.codec import whoosh3; import indexer, kb; "
        "before = whoosh3.W3LeafMatcher.skip_to.__module__; "
        f"indexer.SearchIndex({str(tmp_path / 'ix')!r}); "
        "print(before, whoosh3.W3LeafMatcher.skip_to.__module__)"
    )
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", check], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["whoosh.codec.whoosh3", "indexer._whoosh_internals"]


@pytest.mark.slow  # seconds: many builds or searches, compared one by one
def test_search_gives_the_same_answers_with_and_without_the_speed_ups(tmp_path, monkeypatch):
    docs = _many(150)
    fast = SearchIndex(tmp_path / "fast")
    fast.build(docs, expected=1)  # one process, as without the speed-ups: the same document order
    fast.update([doc("m-3", "Mô hình số 3 đã sửa", "Nội dung mới ma3x.")], deletes=["m-7"])  # deletions too
    expected = {q: answer(fast, q) for q in QUERIES}
    monkeypatch.setattr(internals, "WRITTEN_FOR", "0.0.0")
    internals.uninstall()
    try:
        slow = SearchIndex(tmp_path / "slow")  # built and searched through Whoosh's public API only
        assert not internals.active()
        slow.build(docs, expected=1)
        slow.update([doc("m-3", "Mô hình số 3 đã sửa", "Nội dung mới ma3x.")], deletes=["m-7"])
        for query in QUERIES:
            assert answer(slow, query) == expected[query], query
    finally:
        monkeypatch.undo()
        internals.install()


@pytest.mark.parametrize("positional", [False, True])
def test_postings_read_a_block_at_a_time_are_whooshs_own(tmp_path, positional):
    from whoosh.fields import TEXT as Text

    schema = Schema(id=ID(stored=True), text=Text(phrase=positional))
    ix = whoosh_index.create_in(tmp_path, schema)
    with ix.writer() as writer:
        for n in range(700):
            writer.add_document(id=str(n), text=("biên cương " * (1 + n % 3)) if n % 5 else "biên giới")
    with ix.writer() as writer:
        writer.delete_by_term("id", "11")
        writer.delete_by_term("id", "333")
    internals.install()
    with ix.searcher() as searcher:
        reader = searcher.reader()
        fast = [
            p
            for block in internals.term_postings(reader, "text", "cương", positional)
            for p in zip(*block[:2], strict=True)
        ]
        matcher = reader.postings("text", "cương")
        own = []
        while matcher.is_active():
            own.append((matcher.id(), matcher.weight()))
            matcher.next()
        assert fast == own and len(own) == 700 - 140 - 2


def test_jumping_through_long_posting_lists_lands_on_the_next_document_that_has_the_word(tmp_path):
    internals.install()
    ix = whoosh_index.create_in(tmp_path, Schema(id=ID(stored=True), text=TEXT))
    has = {n for n in range(2000) if n % 7 in (0, 3) or n in (1999, 128, 129, 255)}
    with ix.writer() as writer:
        for n in range(2000):
            writer.add_document(id=str(n), text="biên " + ("cương" if n in has else "giới"))
    with ix.searcher() as searcher:
        for target in (*range(0, 2000, 37), 127, 128, 130, 254, 256, 1998, 1999):
            matcher = searcher.postings("text", "cương")
            matcher.skip_to(target)
            expected = min(n for n in has if n >= target)
            assert matcher.is_active() and matcher.id() == expected
            matcher.skip_to(expected + 1)
            assert (matcher.id() if matcher.is_active() else None) == min(
                (n for n in has if n > expected), default=None
            )


def test_bm25f_b_per_field_is_the_same_both_ways(tmp_path, off):
    ix = whoosh_index.create_in(tmp_path, Schema(title=TEXT, body=TEXT))
    with ix.writer() as writer:
        writer.add_document(title="biên cương", body="tủ thuốc")
    weighting = BM25F(B=0.6, title_B=0.9)
    with ix.searcher() as searcher:
        public = (
            internals.field_b(weighting, searcher, "title", "biên"),
            internals.field_b(weighting, searcher, "body", "tủ"),
        )
        internals.install(version=internals.WRITTEN_FOR)
        try:
            private = (
                internals.field_b(weighting, searcher, "title", "biên"),
                internals.field_b(weighting, searcher, "body", "tủ"),
            )
        finally:
            internals.uninstall()
    assert public == private == (0.9, 0.6)


@pytest.fixture
def parallel(monkeypatch):
    """Make even small builds write one segment per core, with tiny sort runs spilled to disk."""
    internals.install()
    monkeypatch.setattr(storage, "PARALLEL_WRITE_FROM", 1)
    monkeypatch.setattr(storage.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(internals, "LIMIT_MB", 0.01)
    monkeypatch.setattr(internals, "CHUNK", 7)


@pytest.mark.slow  # seconds: many builds or searches, compared one by one
def test_a_parallel_build_with_spilled_sort_runs_finds_every_document(tmp_path, parallel):
    serial = SearchIndex(tmp_path / "serial")
    docs = _many(150)
    serial.build(docs, expected=1)  # below the threshold: one process
    split = SearchIndex(tmp_path / "split")
    assert split.build(docs) == 150
    for query in ("biên cương", "ma17x", "ma149x", "đồn biên phòng"):
        assert sorted(slugs(split.search(query, per_page=200))) == sorted(slugs(serial.search(query, per_page=200)))
    assert split.search("tủ thuốc", per_page=200).total == 150
    assert slugs(split.search("ma42x")) == ["m-42"]


def test_a_failing_writer_process_fails_the_build_and_the_old_index_keeps_serving(tmp_path, parallel, monkeypatch):
    index = SearchIndex(tmp_path / "ix")
    index.build([doc("tu-thuoc", "Tủ thuốc biên cương", "Tủ thuốc đặt tại đồn.")])
    real = internals._SegmentWriterPlus.add_document

    def explode(self, **fields):
        if fields["slug"] == "m-90":
            raise OSError("disk full")
        return real(self, **fields)

    monkeypatch.setattr(internals._SegmentWriterPlus, "add_document", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        index.build(_many(150))
    assert slugs(index.search("tủ thuốc"))[0] == "tu-thuoc"
    assert len(list(index.root.glob("gen-*"))) == 1


def test_no_other_module_names_a_private_part_of_whoosh():
    """The fence holds: Whoosh's private names appear in _whoosh_internals.py only (indexer/, kb/, bench/)."""
    import re

    private = re.compile(
        r"\._(offset_for_subsearcher|ids|weights|values|read_ids|read_weights|read_values|next_block|maxid|"
        r"field_B|tempstorage|finalize_segment|close_segment|commit_toc|finish|added|flush_segment|write_run|"
        r"read_run|open_run|remove_run|blocklength)\b|whoosh3\.|W3LeafMatcher|kb_generation_dir"
    )
    root = Path(__file__).resolve().parent.parent
    offenders = [
        f"{path.relative_to(root)}:{n}"
        for folder in ("indexer", "kb", "bench")
        for path in (root / folder).rglob("*.py")
        if path.name != "_whoosh_internals.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if private.search(line)
    ]
    assert offenders == []


# ---- the search engine's own decoding and caches, against Whoosh's own answers ----------------


@pytest.fixture
def index(tmp_path: Path) -> SearchIndex:
    """Return an index spread over several segments (one build, then two updates)."""
    return segmented_index(tmp_path / "ix")


def test_docset_matches_its_documents_in_every_segment(index):
    with index.builds.searcher() as searcher:
        assert len(searcher.leaf_searchers()) > 1
        every = set(searcher.docs_for_query(DocSet(range(searcher.doc_count_all()))))
        assert every == set(range(searcher.doc_count_all()))
        some = {0, searcher.doc_count_all() - 1}
        assert set(searcher.docs_for_query(DocSet(some))) == some


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


@pytest.mark.slow  # seconds: many builds or searches, compared one by one
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
        with index.builds.searcher() as searcher:
            for word in words:
                index._index_version(searcher).docs(searcher, word)
        index.update(upserts, deletes)
        with index.builds.searcher() as searcher:
            version = index._index_version(searcher)
            carried += version._heir is not None
            for word in words:  # deleted entries leave, new ones come in
                assert version.docs(searcher, word) == set(searcher.docs_for_query(word)), word
                postings = version.term_postings(searcher, word.fieldname, word.text)
                fresh = read_postings(searcher.schema, searcher.leaf_searchers(), word.fieldname, word.text)
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
    with index.builds.searcher() as searcher:
        assert any(leaf.reader().has_deletions() for leaf, _ in searcher.leaf_searchers())
        version = index._index_version(searcher)
        everyone = set(range(searcher.doc_count_all()))  # deleted ones too: neither way may score them
        checked = phrases = 0
        queries = ("giúp dân", "tủ thuốc biên cương", "đồn biên phòng", "ngư dân trên biển", '"biên cương"')
        for typed in (*queries, "tàu thuyền đoàn kết", "biên giới số", "thuốc tủ"):  # the last: not in a row
            pq = parse_query(typed, index.thesaurus)
            for clause in Plan(pq, version.common(searcher), lambda i: False).clauses:
                whooshs: dict[int, float] = {}
                query = And([DocSet(everyone), clause])  # Whoosh's own matchers, phrases included
                for leaf, offset in searcher.leaf_searchers():
                    matcher = query.matcher(leaf, searcher.context())
                    while matcher.is_active():
                        whooshs[offset + matcher.id()] = matcher.score()
                        matcher.next()
                decoded = TermScores(searcher, everyone, version).evaluate(clause)
                assert decoded == pytest.approx(whooshs, rel=1e-12, abs=0), clause
                checked += bool(whooshs)
                phrases += bool(whooshs) and has_phrase(clause)
        assert checked >= 8 and phrases >= 3


def test_related_models_rank_as_whooshs_more_like_would(tmp_path):
    topics = ["tủ thuốc quân y", "tàu thuyền ngư dân", "lớp học xóa mù chữ", "đèn năng lượng mặt trời"]
    ix = SearchIndex(tmp_path / "rel")
    ix.build([doc(f"m{n}", f"Mô hình {topics[n % 4]} số {n}",
                  f"Đồn biên phòng làm {topics[n % 4]}, rồi {topics[(n * 7) % 4]} cùng bà con {n % 5} bản.",
                  status="draft" if n % 9 == 0 else "published") for n in range(40)])  # fmt: skip
    with ix.builds.searcher() as searcher:
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
    with index.builds.searcher() as searcher:
        version = index._index_version(searcher)
        assert version._heir is not None
        monkeypatch.setattr(version_module.time, "monotonic", lambda: version._heir[-1] + 1)
        word = Term("all_f", "thuoc")
        assert version.docs(searcher, word) == set(searcher.docs_for_query(word))  # looked up afresh
        assert version._heir is None  # the old memo is no longer held


def test_an_older_version_never_takes_a_newer_ones_deletions(index):
    """A thread may still read the version before a save while another reads the one after."""
    from whoosh import index as whoosh_index

    before = whoosh_index.open_dir(index.builds.current_dir()).searcher()
    index.update([doc("tu-thuoc", "Tủ sách biên cương", "Sách cho trẻ em vùng biên.", fields=("Giáo dục",))])
    after = whoosh_index.open_dir(index.builds.current_dir()).searcher()
    word = Term("all_f", "thuoc")
    newer = IndexVersion(after)
    assert len(newer.docs(after, word)) == 0  # "tủ thuốc" is gone after the save
    older = IndexVersion(before, previous=newer)
    assert older.docs(before, word) == set(before.docs_for_query(word)) != set()
    assert older.facets.values == IndexVersion(before).facets.values  # the entry still has its facets there
    before.close()
    after.close()


def test_postings_decoded_across_blocks_are_whooshs_own_with_deletions(tmp_path):
    """More entries than a Whoosh block holds (128), the first block's all deleted."""
    ix = SearchIndex(tmp_path / "big")
    ix.build([doc(f"m{n}", f"Biên giới biên cương số {n}", "Đồn biên phòng giúp dân.") for n in range(300)])
    ix.update([], [f"m{n}" for n in range(140)] + ["m200", "m201"])
    with ix.builds.searcher() as searcher:
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
    with index.builds.searcher() as before:
        old = index._index_version(before)
        assert old.aligned(before)
    index.update([], ["a1"])
    with index.builds.searcher() as after:
        assert not old.aligned(after)
        assert index._index_version(after).aligned(after)
        assert TermScores(after, {0, 1}, old).version is None  # scored by Whoosh's matchers instead
