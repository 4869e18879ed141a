"""Where the index lives: build folders, the live one, the write lock, searchers lent to threads.

An index directory holds builds of the Whoosh index (gen-* folders). CURRENT names the live
one; a full build is written into a fresh folder and made live by replacing CURRENT
atomically, so searches never see a half-built index; the previous build is kept for
searchers in other processes still reading it. Every process that writes takes the one
write lock. A build made with another SCHEMA_VERSION is never served.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Sized
from contextlib import contextmanager, suppress
from pathlib import Path

from whoosh import index as whoosh_index

from . import _whoosh_internals as internals
from .locks import file_lock
from .prepare import AnalysisCache, prepare
from .schema import SCHEMA_VERSION, Document, fields_of, schema, volatile_fields

__all__ = ["AnalysisFailed", "Builds", "IndexBusy", "IndexMissing"]

SCHEMA_FILE = "SCHEMA"  # in each build folder (gen-*): the schema version it was built with
CURRENT = "CURRENT"  # names the live build folder
WRITE_LOCK = "write.lock"
# Searches a process runs at once; the server's other threads wait their turn. Each holds a
# searcher, and Python runs one thread at a time anyway: measured at 10 000 entries with four
# threads, two at once cost 90 MB more per worker than one, for lower throughput.
SEARCHES_AT_ONCE = 1
# From this many documents on, a full build writes segments in several processes.
PARALLEL_WRITE_FROM = 500


class IndexMissing(RuntimeError):
    """No index has been built yet."""


class AnalysisFailed(RuntimeError):
    """Most documents of a build or update could not be analysed: nothing was changed."""


class IndexBusy(RuntimeError):
    """Another process holds the index for writing longer than we may wait."""


class Builds:
    """An index directory holding builds of a Whoosh index (gen-* folders), one of them live."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        """Remember where the index lives; nothing is opened yet."""
        self.root = Path(root)
        # Searchers no request is using, with the build folder each reads (most recently used last).
        self._idle: list[tuple[Path, object]] = []
        self._idle_lock = threading.Lock()
        self._turns = threading.BoundedSemaphore(SEARCHES_AT_ONCE)
        self._lent = threading.local()  # the searcher this thread is using, if any
        # The build folder each open searcher reads, whatever CURRENT says later.
        self._folders: weakref.WeakKeyDictionary[object, str] = weakref.WeakKeyDictionary()

    def exists(self) -> bool:
        """Return True if a live build exists."""
        try:
            self.current_dir()
        except IndexMissing:
            return False
        return True

    def build(
        self, docs: Iterable[Document], expected: int | None = None, failed: list[tuple[str, str]] | None = None
    ) -> int:
        """Index docs into a fresh build folder and make it live atomically; return the count.

        With many documents expected (or an unknown number: docs is an iterator and expected is
        not given), Whoosh writes segments in parallel; a few are written here, without forking.
        A document that cannot be analysed is left out and reported in failed as (slug, reason).
        If more documents fail than succeed, the analyser itself is broken: AnalysisFailed is
        raised and the live build keeps serving.
        """
        if expected is None and isinstance(docs, Sized):
            expected = len(docs)
        self.root.mkdir(parents=True, exist_ok=True)
        failures: list[tuple[str, str]] = []
        with self.write_lock():
            fresh = Path(tempfile.mkdtemp(prefix="gen-", dir=self.root))
            try:
                ix = whoosh_index.create_in(fresh, schema())
                seen: set[str] = set()
                with self._cache() as cache:
                    procs = 1 if expected is not None and expected < PARALLEL_WRITE_FROM else os.cpu_count() or 1
                    analysed = prepare(
                        docs, fields_of, cache, seen=seen, finish=volatile_fields, failed=_reporter(failures)
                    )
                    try:
                        count = internals.write_documents(ix, analysed, procs=procs)
                    finally:
                        analysed.close()  # its worker pool stops now, even when writing failed
                    _check_failures(failures, count)
                    cache.retain(seen)  # what no entry uses any more
                ix.close()
                (fresh / SCHEMA_FILE).write_text(SCHEMA_VERSION, encoding="utf-8")
            except BaseException:
                shutil.rmtree(fresh, ignore_errors=True)
                raise
            self._switch_to(fresh)
        if failed is not None:
            failed += failures
        return count

    def update(
        self,
        upserts: Iterable[Document],
        deletes: Iterable[str] = (),
        wait: float = 120.0,
        failed: list[tuple[str, str]] | None = None,
    ) -> None:
        """Add or replace docs and delete slugs in the live build, in one commit.

        Raise IndexBusy if another writer holds the index for longer than wait seconds. A
        document that cannot be analysed keeps its indexed version and is reported in failed;
        if more fail than succeed, nothing is committed and AnalysisFailed is raised.
        """
        failures: list[tuple[str, str]] = []
        with self.write_lock(timeout=wait):
            ix = whoosh_index.open_dir(self.current_dir())
            try:
                with self._cache() as cache, internals.segment_writer(ix, timeout=30.0) as writer:
                    for slug in deletes:
                        writer.delete_by_term("slug", slug)
                    written = 0
                    for fields in prepare(upserts, fields_of, cache, finish=volatile_fields,
                                          failed=_reporter(failures)):  # fmt: skip
                        writer.update_document(**fields)
                        written += 1
                    _check_failures(failures, written)  # raising here cancels the writer: no commit
            finally:
                ix.close()
        if failed is not None:
            failed += failures

    @contextmanager
    def _cache(self) -> Iterator[AnalysisCache]:
        """Open the analysis cache that lives beside the build folders."""
        cache = AnalysisCache(self.root / "analysis-cache.sqlite3")
        try:
            yield cache
        finally:
            cache.close()

    @contextmanager
    def write_lock(self, timeout: float = 120.0) -> Iterator[None]:
        """Hold the one write lock shared by every process that writes this index."""
        with file_lock(self.root / WRITE_LOCK, wait=timeout) as locked:
            if not locked:
                raise IndexBusy("Chỉ mục đang được cập nhật bởi tiến trình khác.")
            yield

    def _switch_to(self, fresh: Path) -> None:
        """Point CURRENT at fresh atomically, then remove all but the previous build."""
        previous = None
        with suppress(IndexMissing):
            previous = self.current_dir()
        pointer = self.root / f".{CURRENT}.tmp"
        pointer.write_text(fresh.name, encoding="utf-8")
        os.replace(pointer, self.root / CURRENT)
        # Keep the previous build: a searcher in another process may still read it.
        keep = {fresh.name, previous.name if previous else ""}
        for old in self.root.glob("gen-*"):
            if old.name not in keep:
                shutil.rmtree(old, ignore_errors=True)

    def current_dir(self) -> Path:
        """Return the live build's folder."""
        try:
            name = (self.root / CURRENT).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise IndexMissing("Chưa có chỉ mục tìm kiếm.") from None
        path = self.root / name
        if not name or not path.is_dir() or not any(path.glob("_MAIN_*.toc")):
            raise IndexMissing("Chưa có chỉ mục tìm kiếm.")
        try:
            schema = (path / SCHEMA_FILE).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            schema = ""
        if schema != SCHEMA_VERSION:  # built by an older version: unusable until rebuilt in full
            raise IndexMissing("Chỉ mục do phiên bản cũ dựng; cần lập chỉ mục lại toàn bộ.")
        return path

    @contextmanager
    def searcher(self) -> Iterator[object]:
        """Lend a searcher of the live build for one use, then take it back.

        Searchers are lent, not kept one per thread: Whoosh copies each segment's postings and
        term index into every searcher it opens (some 45 MB at 10 000 entries), so a process
        holds SEARCHES_AT_ONCE of them however many threads serve it. A thread that asks again
        while it holds one gets the same one.
        """
        lent = getattr(self._lent, "searcher", None)
        if lent is not None:
            yield lent
            return
        path = self.current_dir()
        with self._turns:
            searcher = self._lent.searcher = self._borrow(path)
            try:
                yield searcher
            finally:
                self._lent.searcher = None
                with self._idle_lock:
                    self._idle.append((path, searcher))

    def _borrow(self, path: Path) -> object:
        """Return an idle searcher still reading path's current version, or open a new one."""
        while True:
            with self._idle_lock:
                if not self._idle:
                    break
                cached_path, cached = self._idle.pop()
            if cached_path == path and cached.up_to_date():
                return cached
            cached.close()  # the index changed since: its version is gone for good
        # A new searcher, not Searcher.refresh(): refresh() reuses segment
        # readers by segment id and so keeps serving documents deleted since.
        searcher = whoosh_index.open_dir(path).searcher()
        self._folders[searcher] = path.name
        return searcher

    def version_key(self, searcher) -> tuple[str, int]:
        """Return what identifies the index version a searcher reads: its build folder and the
        number of Whoosh's last commit in it."""
        commit = searcher.reader().generation()  # Whoosh calls it generation; None for an empty index
        return (self._folders[searcher], -1 if commit is None else commit)


def _check_failures(failures: list[tuple[str, str]], succeeded: int) -> None:
    """Raise AnalysisFailed when more documents failed than succeeded: the analyser is broken, not an entry."""
    if failures and len(failures) > succeeded:
        slug, reason = failures[0]
        raise AnalysisFailed(f"Không phân tích được {len(failures)} mục để lập chỉ mục (ví dụ {slug}: {reason}).")


def _reporter(failed: list[tuple[str, str]] | None) -> Callable[[Document, str], None] | None:
    """Return what notes a document left out of the index in failed, as (slug, reason)."""
    return None if failed is None else lambda doc, reason: failed.append((doc.slug, reason))
