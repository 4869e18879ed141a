"""Facets: every entry's facet values in one index version, the filter sets, the counts shown.

Counting is what a plain Whoosh setup (groupedby) spends most of a search on when a common
word matches most entries: here values are read once per version into arrays, a filter is a
cached set of document numbers, and a facet with few values over many documents is counted
with one bitwise AND per value.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections import Counter
from collections.abc import Iterable

from .caches import Cache
from .schema import FACETS

__all__ = ["FACET_VALUES", "FacetValues", "bits", "facet_counts"]

# From this many documents on, facet values are counted with bit masks, when the facet has
# few values (one AND per value: a unit facet with thousands of values is cheaper to count
# document by document).
MASK_FROM = 200
MASK_VALUES = 64
FACET_VALUES = 30  # values listed per facet (the most frequent, and every chosen one)
ALLOWED_SETS = 256  # filter combinations remembered per version (they come from users)


class FacetValues:
    """Each entry's facet and status values in one index version, and what is drawn from them."""

    def __init__(self, values: dict[str, list[tuple[str, ...]]]) -> None:
        """Take each document's values per facet (and status), in global document numbering."""
        self.values = values
        self._sets: dict[tuple[str, str], frozenset[int]] = {}  # only values some entry has
        self._bitmasks: dict[str, dict[str, int]] = {}
        self._values_known: dict[str, frozenset[str]] = {}
        self._singles: dict[str, list[str | None] | None] = {}
        self._allowed: Cache[frozenset[int]] = Cache(ALLOWED_SETS)
        self._lock = threading.Lock()

    def docs_with(self, name: str, value: str) -> frozenset[int]:
        """Return the documents with a facet or status value (cached)."""
        key = (name, value)
        found = self._sets.get(key)
        if found is None:
            if value not in self._known(name):  # typed by a user: nothing has it, remember nothing
                return frozenset()
            found = frozenset(d for d, values in enumerate(self.values[name]) if value in values)
            with self._lock:
                self._sets[key] = found
        return found

    def _known(self, name: str) -> frozenset[str]:
        """Return every value a facet (or status) has in this version."""
        known = self._values_known.get(name)
        if known is None:
            known = self._values_known[name] = frozenset(itertools.chain.from_iterable(self.values[name]))
        return known

    def allowed(self, filters: dict[str, list[str]], statuses: tuple[str, ...], skip: str = "") -> frozenset[int]:
        """Return the documents passing the status and every facet filter but skip's (cached)."""
        key = (statuses, skip, tuple(sorted((k, tuple(sorted(v))) for k, v in filters.items() if k != skip)))
        found = self._allowed.get(key)
        if found is None:
            found = frozenset().union(*(self.docs_with("status", s) for s in statuses))
            for name, values in filters.items():
                if name != skip and values:
                    found &= frozenset().union(*(self.docs_with(name, v) for v in values))
            self._allowed.put(key, found)
        return found

    def count(self, name: str, docs: set[int] | frozenset[int], masks: dict | None = None) -> Counter[str]:
        """Count the values of a facet over documents (masks memoises their bit masks by id)."""
        if len(docs) < MASK_FROM or len(self._known(name)) > MASK_VALUES:
            single = self._single(name)
            if single is not None:  # one value at most per entry (a unit): counted at C speed
                counted = Counter(map(single.__getitem__, docs))
                counted.pop(None, None)
                return counted
            return Counter(itertools.chain.from_iterable(map(self.values[name].__getitem__, docs)))
        # Many documents: one bitwise AND per value instead of a loop over documents.
        masks = {} if masks is None else masks
        stored = masks.get(id(docs))
        if stored is None or stored[0] is not docs:  # an id may be reused once a set is freed
            stored = masks[id(docs)] = (docs, bits(docs, len(self.values[name])))
        wanted = stored[1]
        return Counter({v: n for v, mask in self._masks(name).items() if (n := (mask & wanted).bit_count())})

    def _single(self, name: str) -> list[str | None] | None:
        """Return each document's only value of a facet (None if it has none), or None if some have several."""
        if name not in self._singles:
            values = self.values[name]
            single = None
            if all(len(v) <= 1 for v in values):
                single = [v[0] if v else None for v in values]
            with self._lock:
                self._singles[name] = single
        return self._singles[name]

    def _masks(self, name: str) -> dict[str, int]:
        """Return, per value of a facet, the set of its documents as a bit mask (cached)."""
        masks = self._bitmasks.get(name)
        if masks is None:
            by_value: dict[str, list[int]] = {}
            for docnum, values in enumerate(self.values[name]):
                for value in values:
                    by_value.setdefault(value, []).append(docnum)
            size = len(self.values[name])
            masks = {v: bits(ds, size) for v, ds in by_value.items()}
            with self._lock:
                self._bitmasks[name] = masks
        return masks


def bits(docs: Iterable[int], size: int) -> int:
    """Return a set of document numbers as an integer bit mask."""
    buffer = bytearray((size + 8) // 8)
    for docnum in docs:
        buffer[docnum >> 3] |= 1 << (docnum & 7)
    return int.from_bytes(buffer, "little")


def facet_counts(
    facets: FacetValues, base: set[int] | frozenset[int], filters, statuses, matched
) -> dict[str, list[tuple[str, int]]]:
    """Count each facet over the matches, a filtered facet as if its own filter were off."""
    counts, masks = {}, {}
    for name in FACETS:
        docs = base & facets.allowed(filters, statuses, skip=name) if filters.get(name) else matched
        counter = facets.count(name, docs, masks)
        chosen = set(filters.get(name, ()))
        key = _newest_first if name == "year" else _most_first
        top = _top(counter, key)
        shown = {v for v, _n in top}
        top += sorted(((v, n) for v, n in counter.items() if v in chosen and v not in shown), key=key)
        counts[name] = [(v, n) for v, n in top if v]
    return counts


def _top(counter: Counter[str], key) -> list[tuple[str, int]]:
    """Return the first FACET_VALUES values in key's order, without sorting thousands of units."""
    items = counter.items()
    if key is _most_first and len(counter) > 4 * FACET_VALUES:
        # Only values counted at least as often as the last one shown can be shown.
        least = heapq.nlargest(FACET_VALUES, counter.values())[-1]
        items = [(v, n) for v, n in items if n >= least]
    return heapq.nsmallest(FACET_VALUES, items, key=key)


def _newest_first(item: tuple[str, int]) -> int:
    """Order years newest first (anything else last)."""
    return -int(item[0]) if item[0].isdigit() else 0


def _most_first(item: tuple[str, int]) -> tuple[int, str]:
    """Order facet values by count, then by name."""
    return -item[1], item[0]
