"""Serving requests in threads: what the threads of one server process share.

The production server runs each worker's requests in threads (gunicorn.conf.py). These tests check
that index searchers and the database's first opening hold up when several threads use them.
"""

from __future__ import annotations

import gc
import sqlite3
import threading
from pathlib import Path

from whoosh.searching import Searcher

from indexer import Document, SearchIndex
from indexer.engine import SEARCHES_AT_ONCE
from kb import store
from kb.store import DB_NAME, open_db


def _open_searchers(folder: Path) -> list[Searcher]:
    """Return the open top-level Whoosh searchers reading an index under folder."""
    return [
        o
        for o in gc.get_objects()
        if isinstance(o, Searcher)
        and not o.is_closed
        and o.parent is None
        and o._ix is not None
        and Path(o._ix.storage.folder).is_relative_to(folder)
    ]


def _small_index(folder: Path) -> SearchIndex:
    """Build an index of twelve entries, two of them about a medicine cabinet."""
    index = SearchIndex(folder / "index")
    docs = [Document(slug=f"m{n}", title=f"Mô hình dân vận số {n}", summary="", body_text="Giúp dân.", unit="Đồn A")
            for n in range(10)]  # fmt: skip
    docs += [Document(slug=f"tu-thuoc-{n}", title=f"Tủ thuốc số {n}", summary="", body_text="Cấp thuốc.", unit="Đồn B")
             for n in range(2)]  # fmt: skip
    index.build(docs)
    return index


def test_a_server_process_keeps_a_searcher_per_search_at_once_not_per_thread(tmp_path):
    """Eight threads that searched one after another share one searcher.

    A searcher holds its own copy of the index's postings (some 45 MB at 10 000 entries): one per
    server thread multiplied each worker's memory by its threads.
    """
    index = _small_index(tmp_path)
    one_at_a_time, searched, finish = threading.Lock(), threading.Semaphore(0), threading.Event()

    def serve() -> None:  # a server thread: it searches, then lives on, waiting for the next request
        with one_at_a_time:
            assert index.search("tủ thuốc", cache=False).total == 2
        searched.release()
        finish.wait()

    threads = [threading.Thread(target=serve) for _ in range(8)]
    for thread in threads:
        thread.start()
    for _ in threads:
        searched.acquire()
    try:
        assert len(_open_searchers(tmp_path)) == 1
    finally:
        finish.set()
        for thread in threads:
            thread.join()


def test_searches_in_many_threads_at_once_find_their_own_results_with_few_searchers(tmp_path):
    """Eight threads searching at once each get their own results, through SEARCHES_AT_ONCE searchers."""
    index = _small_index(tmp_path)
    queries = {"tủ thuốc": 2, "dân vận": 10, "số 3": 1, "không có gì": 0}
    start, wrong = threading.Barrier(8), []

    def serve(query: str, expected: int) -> None:
        start.wait()
        for _ in range(20):
            if (found := index.search(query, cache=False).total) != expected:
                wrong.append((query, found))

    threads = [threading.Thread(target=serve, args=item) for item in list(queries.items()) * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
    assert len(_open_searchers(tmp_path)) <= SEARCHES_AT_ONCE


def test_threads_opening_a_database_made_by_an_older_version_at_once_all_get_it(tmp_path):
    """The first requests of a fresh server process upgrade the tables once, not once per thread."""
    open_db(tmp_path)
    with sqlite3.connect(tmp_path / DB_NAME) as db:  # as an older version left it
        db.execute("ALTER TABLE users DROP COLUMN session_version")
        db.execute("ALTER TABLE entries DROP COLUMN published_at")
    db.close()
    store._READY.clear()  # a fresh process
    start, failed = threading.Barrier(8), []

    def first_request() -> None:
        start.wait()
        try:
            open_db(tmp_path).conn.close()
        except sqlite3.Error as exc:
            failed.append(exc)

    threads = [threading.Thread(target=first_request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failed == []
    assert "session_version" in open_db(tmp_path)["users"].columns_dict
