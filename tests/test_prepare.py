"""Analysis for the index: cached by content, parallel for many documents, order kept."""

from __future__ import annotations

import os
import time
from pathlib import Path

from indexer import Document, workers
from indexer.prepare import AnalysisCache, prepare
from indexer.schema import fields_of as _fields_of


def docs(n: int) -> list[Document]:
    """Return n small documents."""
    return [Document(f"m{i}", f"Mô hình {i} biên phòng", "", f"Đồn số {i} giúp dân.", "Đồn A") for i in range(n)]


def test_cached_and_parallel_analysis_equal_the_plain_one(tmp_path: Path, monkeypatch):
    plain = [_fields_of(d) for d in docs(12)]
    monkeypatch.setattr(workers, "PARALLEL_FROM", 4)
    cache = AnalysisCache(tmp_path / "cache.sqlite3")
    assert list(prepare(docs(12), _fields_of, cache, procs=2)) == plain  # analysed in two processes
    calls = []
    cached = list(prepare(docs(12), lambda d: calls.append(d) or _fields_of(d), cache, procs=2))
    assert cached == plain and calls == []  # all from the cache: nothing analysed again


def test_a_changed_document_is_analysed_again_and_stale_analyses_pruned(tmp_path: Path):
    cache = AnalysisCache(tmp_path / "cache.sqlite3")
    first = docs(3)
    list(prepare(first, _fields_of, cache, procs=1))
    changed = [*first[:2], Document("m2", "Tiêu đề mới", "", "Nội dung mới.", "Đồn A")]
    seen: set[str] = set()
    fields = list(prepare(changed, _fields_of, cache, procs=1, seen=seen))
    assert fields[2]["title_f"] == "tieu de moi"
    cache.retain(seen)
    assert cache.db.execute("SELECT count(*) FROM analysis").fetchone()[0] == 3


def _pid(_item: object) -> int:
    """Return the process that handled an item, after a moment's work (so every worker takes some)."""
    time.sleep(0.002)
    return os.getpid()


def test_reading_and_analysing_share_one_pool_of_worker_processes():
    with workers.shared_pool(2):
        reading = set(workers.parallel_map(_pid, range(200)))
        analysing = set(workers.parallel_map(_pid, range(200)))
    assert os.getpid() not in reading  # many items: done in worker processes
    assert len(reading | analysing) == 2  # by the same two processes: not a second pool
    assert set(workers.parallel_map(_pid, range(3))) == {os.getpid()}  # a few: done here


def test_another_thread_joins_the_pool_that_is_held_and_never_stops_it():
    import threading

    joined = []
    with workers.shared_pool(2) as held:
        thread = threading.Thread(target=lambda: joined.append(workers.shared_pool().__enter__()))
        thread.start()
        thread.join()
        assert joined == [held]
        assert len(set(workers.parallel_map(_pid, range(200)))) == 2  # still running, still shared
    with workers.shared_pool() as after:
        assert after is not held  # the holder stopped its pool when it left; this is a new one
