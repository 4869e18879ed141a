"""One pool of worker processes for the steps that map a function over many entries.

A full reindex reads and renders every entry file (kb/catalog.py), then analyses each one for
the index (prepare.py). Both go through parallel_map, and inside shared_pool() (held for a whole
reindex) they share one pool of processes, started on first need and stopped at the end.

The processes that write index segments in parallel (_whoosh_internals.write_documents) are not
tasks of this pool: each keeps one Whoosh segment writer open for a whole build.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

__all__ = ["PARALLEL_FROM", "parallel_map", "shared_pool"]

# Below this many items, starting worker processes costs more than it saves.
PARALLEL_FROM = 64


class _Pool:
    """A fork pool started on first need (workers inherit the loaded modules)."""

    def __init__(self, procs: int) -> None:
        """Remember how many processes to start; start none yet."""
        self.procs = procs
        self.pool = None
        self._lock = threading.Lock()

    def get(self):
        """Return the pool, starting it if needed (once, whichever thread asks first)."""
        with self._lock:
            if self.pool is None:
                self.pool = multiprocessing.get_context("fork").Pool(self.procs)
            return self.pool

    def close(self) -> None:
        """Let the workers finish and exit (terminate() may leave one stuck on a signal handler)."""
        with self._lock:
            pool, self.pool = self.pool, None
        if pool is not None:
            pool.close()
            pool.join()


_shared: _Pool | None = None  # the pool of the shared_pool() being held, if any
_shared_lock = threading.Lock()


@contextmanager
def shared_pool(procs: int | None = None) -> Iterator[_Pool]:
    """Let every parallel_map inside share one pool of procs processes (default: one per core).

    Inside another shared_pool(), in this thread or another, the outer one is used; only the
    shared_pool() that started it stops it.
    """
    global _shared
    with _shared_lock:
        outer = _shared
        if outer is None:
            mine = _shared = _Pool(procs or os.cpu_count() or 1)
    if outer is not None:
        yield outer
        return
    try:
        yield mine
    finally:
        with _shared_lock:
            if _shared is mine:
                _shared = None
        mine.close()


def parallel_map(func: Callable[[Any], Any], items: Sequence[Any], chunksize: int = 8) -> list[Any]:
    """Return [func(item) for item in items], in worker processes when there are many.

    func must be a module-level function (it is sent to the workers by name). Once the shared
    pool has started, any list of more than one item goes to it.
    """
    with shared_pool() as pool:
        started = pool.pool is not None
        if pool.procs < 2 or len(items) < 2 or (not started and len(items) < PARALLEL_FROM):
            return [func(item) for item in items]
        return pool.get().map(func, items, chunksize=chunksize)
