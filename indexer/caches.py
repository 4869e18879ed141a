"""The package's one kind of cache of index data: least recently used, bounded, thread-safe.

Every cache of what the index holds (results, related entries, remembered matches and decoded
postings, filter sets, term frequencies) is one of these, bounded by a number of items or by
a size that each value reports. cachetools does the bookkeeping; the lock makes it safe for
the server's threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

from cachetools import LRUCache

__all__ = ["Cache"]

V = TypeVar("V")


class Cache(Generic[V]):
    """At most size items, or values whose sizes add up to at most size, least recently used dropped first."""

    def __init__(self, size: int, sizeof: Callable[[V], int] | None = None) -> None:
        """Hold up to size items, or up to size in all as measured by sizeof(value)."""
        self._items: LRUCache = LRUCache(size, getsizeof=sizeof)
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        """Return the value stored under key (None if absent), marking it recently used."""
        with self._lock:
            return self._items.get(key)

    def put(self, key: Hashable, value: V) -> None:
        """Store a value, dropping the least recently used ones while over the size.

        A value larger than the whole cache is not kept (it would push out everything else).
        """
        with self._lock:
            try:
                self._items[key] = value
            except ValueError:  # larger than the whole cache
                self._items.pop(key, None)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._items.clear()

    def __contains__(self, key: Hashable) -> bool:
        """Return True if a value is stored under key (without marking it used)."""
        with self._lock:
            return key in self._items

    def keys(self) -> list[Hashable]:
        """Return the keys held, least recently used first."""
        with self._lock:
            return list(self._items.keys())

    def __iter__(self) -> Iterator[Hashable]:
        """Iterate over a snapshot of the keys held."""
        return iter(self.keys())

    def __len__(self) -> int:
        """Return the number of values held."""
        return len(self._items)

    @property
    def held(self) -> int:
        """Return the total size of the values held (their number, without sizeof)."""
        return int(self._items.currsize)
