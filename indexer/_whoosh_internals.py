"""Every use of Whoosh's private internals, in one place, checked against the version they fit.

Whoosh is unmaintained, and so is its Whoosh-Reloaded fork (its README says so since 2025):
the version in requirements.txt is pinned, and nothing outside this module names a private
part of it. Three speed-ups reach inside, each found by profiling the benchmark:

1. **Reading postings.** Whoosh's block reader decodes document numbers one generator step at
   a time and steps through a block one posting at a time to reach a document; scoring a
   shortlist jumps into many blocks. ``install()`` swaps the two loops for C-speed equivalents
   (``itertools.accumulate``, ``bisect``), and ``term_postings`` takes decoded blocks whole.
2. **Writing segments.** More than half of a full rebuild went to Whoosh's external sort of
   postings, one ``marshal`` call per posting: ``segment_writer`` writes the sort runs in
   chunks and reads each field's lengths once, and ``write_documents`` gives each worker
   process its own segment, committed in one table of contents (Whoosh's ``MpWriter``
   hard-codes the slow pool).
3. **BM25F's per-field B**, which Whoosh keeps in a private dict: ``field_b``.

``install()`` turns them on, explicitly (``SearchIndex`` calls it when it opens an index), and
only when the installed Whoosh is ``WRITTEN_FOR``. With any other version nothing is patched and
every function here goes through Whoosh's public API instead: slower, the same results
(``tests/test_whoosh_internals.py`` checks both ways against Whoosh's own). Replacing Whoosh
one day means replacing this module and the query objects ``indexer/`` builds, nothing else.
"""

from __future__ import annotations

import marshal
import multiprocessing
import queue
import struct
import threading
import traceback
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from itertools import accumulate, islice
from typing import Any

import whoosh
from whoosh.codec import whoosh3
from whoosh.matching import FilterMatcher, ReadTooFar
from whoosh.reading import TermNotFound
from whoosh.writing import PostingPool, SegmentWriter

__all__ = [
    "WRITTEN_FOR",
    "active",
    "field_b",
    "install",
    "segment_writer",
    "term_postings",
    "uninstall",
    "write_documents",
]

WRITTEN_FOR = "2.7.5"  # whoosh.versionstring() of the pinned Whoosh-Reloaded
CHUNK = 20_000  # postings per marshal call in a sort run
BATCH = 64  # documents handed to a worker at a time
LIMIT_MB = 256  # postings kept in memory per writer before a run goes to disk
_SIZE = struct.Struct("<Q")  # byte length of a chunk in a run

_ORIGINAL = {"delta_decode": whoosh3.delta_decode, "skip_to": whoosh3.W3LeafMatcher.skip_to}
_lock = threading.Lock()
_installed = False


def install(version: str | None = None) -> bool:
    """Turn the speed-ups on if Whoosh is the version they were written for; return whether they are.

    Idempotent and thread-safe; version stands for the installed one (for tests).
    """
    global _installed
    with _lock:
        if (version or whoosh.versionstring()) != WRITTEN_FOR:
            _restore()
            return False
        whoosh3.delta_decode = accumulate
        whoosh3.W3LeafMatcher.skip_to = _skip_to
        _installed = True
        return True


def uninstall() -> None:
    """Go back to Whoosh's own code everywhere (for tests and comparisons)."""
    with _lock:
        _restore()


def active() -> bool:
    """Return True while the speed-ups are on."""
    return _installed


def _restore() -> None:
    """Put Whoosh's own functions back (the lock held)."""
    global _installed
    whoosh3.delta_decode = _ORIGINAL["delta_decode"]
    whoosh3.W3LeafMatcher.skip_to = _ORIGINAL["skip_to"]
    _installed = False


# --- reading --------------------------------------------------------------------------------


def _skip_to(self, targetid: int) -> None:
    """Move to the first posting at or after targetid (Whoosh's semantics, bisecting in a block)."""
    if not self.is_active():
        raise ReadTooFar
    if targetid <= self.id():
        return
    while self.is_active() and targetid > self._maxid:  # blocks that end before the target
        self._next_block()
    if not self.is_active():
        return
    if self._ids is None:
        self._read_ids()
    self._i = bisect_left(self._ids, targetid, self._i)
    if self._i == self._blocklength:  # cannot happen while targetid <= the block's last id
        self._next_block()


def term_postings(
    reader, field: str, text: str, positional: bool
) -> Iterator[tuple[Sequence[int], Sequence[float], list[Sequence[int]] | None]]:
    """Yield a term's postings in one segment, a block at a time: (document numbers, weights,
    each document's positions or None), deleted documents left out, numbers ascending."""
    matcher = reader.postings(field, text)
    raw = matcher.child if isinstance(matcher, FilterMatcher) else matcher
    # The public way: a plain walk of the matcher, to decode postings (scoring walks are ranking.walk).
    if not _installed or type(raw) is not whoosh3.W3LeafMatcher:
        ids, weights, places = [], [], [] if positional else None
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            if places is not None:
                places.append(matcher.value_as("positions"))
            matcher.next()
        yield ids, weights, places
        return
    form = reader.schema[field].format
    deleted = reader.deleted_docs_set if reader.has_deletions() else frozenset()
    while raw.is_active():
        if raw._ids is None:
            raw._read_ids()
        if raw._weights is None:
            raw._read_weights()
        if positional and raw._values is None:
            raw._read_values()
        ids, weights = raw._ids, raw._weights
        kept = [i for i, docnum in enumerate(ids) if docnum not in deleted] if deleted else None
        if kept is not None:
            ids, weights = [ids[i] for i in kept], [weights[i] for i in kept]
        places = None
        if positional:
            places = [form.decode_positions(raw._values[i]) for i in (kept if kept is not None else range(len(ids)))]
        yield ids, weights, places
        raw._next_block()


def field_b(weighting, searcher, field: str, text: str) -> float:
    """Return BM25F's B for a field (its own, else the weighting's)."""
    if _installed:
        return weighting._field_B.get(field, weighting.B)
    try:  # the public way: a scorer made to ask it
        return weighting.scorer(searcher, field, text).B
    except TermNotFound:  # no posting of it to score here: any B scores them alike
        return weighting.B


# --- writing --------------------------------------------------------------------------------


class _ChunkedPool(PostingPool):
    """Whoosh's posting pool, writing and reading its sorted runs a chunk at a time."""

    def _write_run(self, f, items: Iterable[tuple]) -> None:
        iterator = iter(items)
        try:
            while chunk := list(islice(iterator, CHUNK)):
                data = marshal.dumps(chunk, 2)
                f.write(_SIZE.pack(len(data)))
                f.write(data)
        finally:
            f.close()

    def _read_run(self, path: str) -> Iterator[tuple]:
        f = self._open_run(path)
        try:
            # One read and one loads per chunk: marshal.load on a file reads piece by piece.
            while header := f.read(_SIZE.size):
                yield from marshal.loads(f.read(_SIZE.unpack(header)[0]))
        finally:
            f.close()
            self._remove_run(path)


class _SegmentWriterPlus(SegmentWriter):
    """A Whoosh segment writer whose postings are sorted with the chunked pool."""

    def __init__(self, ix, **kwargs: Any) -> None:
        limitmb = kwargs.setdefault("limitmb", LIMIT_MB)
        super().__init__(ix, **kwargs)
        self.pool = _ChunkedPool(self._tempstorage, self.newsegment, limitmb=limitmb)

    def _flush_segment(self) -> None:
        """Write the postings as Whoosh does, with each field's lengths read once, not per posting."""
        self.perdocwriter.close()
        reader = self.per_document_reader() if self.codec.length_stats else None
        lengths = _Lengths(reader, self.docnum) if reader is not None else None
        self.fieldwriter.add_postings(self.schema, lengths, self.pool.iter_postings())
        self.fieldwriter.close()
        if reader is not None:
            reader.close()


class _Lengths:
    """A new segment's field lengths, one list per field, for the postings writer.

    Whoosh looks the length up in the column for every posting (a third of the time of writing
    postings at 10 000 entries); a body's few hundred terms share one length.
    """

    def __init__(self, reader, count: int) -> None:
        self.reader, self.count = reader, count
        self.lists: dict[str, list[int]] = {}

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int:
        found = self.lists.get(fieldname)
        if found is None:
            found = self.lists[fieldname] = [self.reader.doc_field_length(d, fieldname, 0) for d in range(self.count)]
        return found[docnum]


def segment_writer(ix, **kwargs: Any):
    """Return a writer for ix: the faster segment writer when installed, else Whoosh's own."""
    return _SegmentWriterPlus(ix, **kwargs) if _installed else ix.writer(**kwargs)


def write_documents(ix, docs: Iterable[dict[str, Any]], procs: int = 1) -> int:
    """Add docs to an empty index and commit; with procs > 1 (and installed), one segment per
    worker process. Return the number of documents written. A failure in any worker cancels the
    whole build with an exception; the caller discards the half-written directory.
    """
    if procs <= 1 or not _installed:
        count = 0
        with segment_writer(ix) as writer:
            for fields in docs:
                writer.add_document(**fields)
                count += 1
        return count
    return _write_parallel(ix, docs, procs)


def _worker(ix, jobs, results) -> None:
    """Write every batch from jobs into one segment; report the segment or the error."""
    try:
        writer = _SegmentWriterPlus(ix, _lk=False)
        while (batch := jobs.get()) is not None:
            for fields in batch:
                writer.add_document(**fields)
        if writer._added:
            segment = writer._finalize_segment()
        else:
            writer._close_segment()
            segment = None
        results.put(("ok", segment))
    except BaseException:  # reported to the parent, which raises
        results.put(("error", traceback.format_exc()))


def _write_parallel(ix, docs: Iterable[dict[str, Any]], procs: int) -> int:
    """Fan documents out to worker processes, then commit their segments in one table of contents."""
    context = multiprocessing.get_context("fork")
    jobs, results = context.Queue(procs * 2), context.Queue()
    workers = [context.Process(target=_worker, args=(ix, jobs, results), daemon=True) for _ in range(procs)]
    for worker in workers:
        worker.start()
    count = 0
    try:
        iterator = iter(docs)
        while batch := list(islice(iterator, BATCH)):
            _put(jobs, batch, workers)
            count += len(batch)
        for _ in workers:
            _put(jobs, None, workers)
        segments = []
        for _ in workers:
            status, value = _get(results, workers)
            if status != "ok":
                raise RuntimeError(f"Ghi chỉ mục thất bại trong tiến trình con:\n{value}")
            if value is not None:
                segments.append(value)
        for worker in workers:
            worker.join()
    except BaseException:
        for worker in workers:
            if worker.is_alive():
                worker.kill()
        raise
    # The parent's own writer holds the index lock and writes the table of contents.
    writer = _SegmentWriterPlus(ix)
    try:
        writer._close_segment()
        writer._commit_toc(segments)
    finally:
        writer._finish()
    return count


def _put(jobs, item: object, workers: list) -> None:
    """Queue item for the workers, failing rather than waiting forever if one died."""
    while True:
        try:
            jobs.put(item, timeout=1.0)
            return
        except queue.Full:
            _check_alive(workers)


def _get(results, workers: list) -> tuple[str, Any]:
    """Take one worker's result, failing rather than waiting forever if one died silently."""
    while True:
        try:
            return results.get(timeout=1.0)
        except queue.Empty:
            _check_alive(workers)


def _check_alive(workers: list) -> None:
    """Raise if a worker ended without reporting (killed, or out of memory)."""
    for worker in workers:
        if worker.exitcode not in (None, 0):
            raise RuntimeError(f"Tiến trình ghi chỉ mục dừng đột ngột (mã {worker.exitcode}).")
