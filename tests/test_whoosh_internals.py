"""The fenced Whoosh internals (indexer/_whoosh_internals.py) against Whoosh's own results.

Each speed-up must give exactly what Whoosh's public API gives; with any other Whoosh version
the module must stay off and the search must still give the same answers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import whoosh
from whoosh import index as whoosh_index
from whoosh.fields import ID, TEXT, Schema
from whoosh.scoring import BM25F

from indexer import Document, SearchIndex, engine
from indexer import _whoosh_internals as internals


def doc(slug: str, title: str, body: str = "", **extra) -> Document:
    """Return a published Document."""
    return Document(slug=slug, title=title, summary=extra.pop("summary", ""), body_text=body,
                    unit=extra.pop("unit", "Đồn Biên phòng A"), **extra)  # fmt: skip


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
    monkeypatch.setattr(engine, "PARALLEL_WRITE_FROM", 1)
    monkeypatch.setattr(engine.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(internals, "LIMIT_MB", 0.01)
    monkeypatch.setattr(internals, "CHUNK", 7)


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
