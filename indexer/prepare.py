"""Analyse documents for the index: in parallel across cores, and only once per content."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any

from .workers import parallel_map, shared_pool

__all__ = ["ANALYZER_VERSION", "AnalysisCache", "prepare"]

# Bump when the analysis or the schema changes: every cached analysis is then redone.
ANALYZER_VERSION = "8"
BATCH = 256
# Document values set after analysis (see prepare's finish): not part of the cache key.
VOLATILE = frozenset({"level", "adopted"})

Fields = dict[str, Any]


class AnalysisCache:
    """A SQLite file mapping a document's content to its analysed field values."""

    def __init__(self, path: Path) -> None:
        """Open (creating if needed) the cache file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, timeout=30.0)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS analysis (key TEXT PRIMARY KEY, fields TEXT NOT NULL)")

    @staticmethod
    def key(doc: object) -> str:
        """Return the content key of a document: its values (but the volatile ones) and the analyser version."""
        names = [f.name for f in dataclasses.fields(doc) if f.name not in VOLATILE]
        values = json.dumps([getattr(doc, name) for name in names], ensure_ascii=False)
        return hashlib.sha256(f"{ANALYZER_VERSION}\n{values}".encode()).hexdigest()

    def get_many(self, keys: list[str]) -> dict[str, Fields]:
        """Return the cached fields of the keys that are known."""
        found: dict[str, Fields] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(f"SELECT key, fields FROM analysis WHERE key IN ({marks})", chunk)
            found.update((k, json.loads(v)) for k, v in rows)
        return found

    def put_many(self, items: dict[str, Fields]) -> None:
        """Remember analysed fields."""
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO analysis VALUES (?, ?)",
                ((k, json.dumps(v, ensure_ascii=False)) for k, v in items.items()),
            )

    def retain(self, keys: set[str]) -> None:
        """Forget every analysis whose key is not in keys (after a full build)."""
        with self.db:
            self.db.execute("CREATE TEMP TABLE IF NOT EXISTS keep (key TEXT PRIMARY KEY)")
            self.db.execute("DELETE FROM keep")
            self.db.executemany("INSERT OR IGNORE INTO keep VALUES (?)", ((k,) for k in keys))
            self.db.execute("DELETE FROM analysis WHERE key NOT IN (SELECT key FROM keep)")

    def close(self) -> None:
        """Close the file."""
        self.db.close()


class _Failed(str):
    """Why one document's analysis failed (a str, so it crosses from worker processes)."""


def _analyse_one(analyse: Callable[[object], Fields], doc: object) -> Fields | _Failed:
    """Analyse one document; a failure is returned, not raised, so it costs only that document."""
    try:
        return analyse(doc)
    except Exception as exc:  # one entry's odd text must never stop the others being indexed
        return _Failed(f"{type(exc).__name__}: {exc}"[:300])


def prepare(
    docs: Iterable[object],
    analyse: Callable[[object], Fields],
    cache: AnalysisCache | None,
    procs: int | None = None,
    seen: set[str] | None = None,
    finish: Callable[[object, Fields], Fields] | None = None,
    failed: Callable[[object, str], None] | None = None,
) -> Iterator[Fields]:
    """Yield the fields of each document, in order: from the cache, else analysed in parallel.

    The cache keys of the documents go into seen, if given, so the caller can prune the rest.
    finish(doc, fields), if given, sets what is not analysed (and not cached) on each. A
    document whose analysis raises is left out and passed to failed(doc, reason), if given.
    """
    one = partial(_analyse_one, analyse)
    with shared_pool(procs):
        iterator = iter(docs)
        while batch := list(islice(iterator, BATCH)):
            keys = [AnalysisCache.key(d) for d in batch] if cache else []
            if seen is not None:
                seen.update(keys)
            known = cache.get_many(keys) if cache else {}
            missing = [i for i in range(len(batch)) if not cache or keys[i] not in known]
            # Across cores, in the pool a reindex shares (each worker loads underthesea once).
            done = parallel_map(one, [batch[i] for i in missing], chunksize=8)
            good = ((keys[i], f) for i, f in zip(missing, done, strict=True) if not isinstance(f, _Failed))
            fresh = dict(good) if cache else {}
            if cache and fresh:
                cache.put_many(fresh)
            analysed = dict(zip(missing, done, strict=True))
            for i in range(len(batch)):
                fields = analysed[i] if i in analysed else known[keys[i]]
                if isinstance(fields, _Failed):
                    if failed is not None:
                        failed(batch[i], str(fields))
                    continue
                yield finish(batch[i], fields) if finish else fields
