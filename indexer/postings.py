"""A term's postings decoded once per index version: document numbers, weights, positions.

Whoosh decompresses and unpickles a whole block (positions too) for every document it jumps
to, again for each query. Here a term's postings are read once (through the fenced Whoosh
internals, or Whoosh's public matchers on another Whoosh version) into flat arrays that the
scorer and the phrase check read directly.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterable

from . import _whoosh_internals as internals

__all__ = ["Postings", "read_postings"]

# What a decoded term costs, in 4-byte words: 2 per posting, 2 per title position, and this
# many for the term itself (its key and objects).
TERM_WORDS = 64


class Postings:
    """A term's postings in one version: global document numbers (ascending) and their weights.

    In a field with positions (titles), where the term stands in each document too, packed
    flat: the positions of posting i are places[ends[i - 1]:ends[i]].
    """

    __slots__ = ("ends", "ids", "places", "weights")

    def __init__(self, positions: bool = False) -> None:
        """Start empty; with positions, each document's positions of the term are kept too."""
        self.ids = array("i")
        self.weights = array("f")
        self.places: array | None = array("i") if positions else None
        self.ends: array | None = array("i") if positions else None

    def __len__(self) -> int:
        """Return the memo's measure of size in 4-byte words, the term's own objects included."""
        positions = len(self.places) + len(self.ends) if self.places is not None else 0
        return TERM_WORDS + 2 * len(self.ids) + positions

    def add(self, docnum: int, weight: float, places: Iterable[int] = ()) -> None:
        """Append one document's posting (after every one already there)."""
        self.ids.append(docnum)
        self.weights.append(weight)
        if self.places is not None:
            self.places.extend(places)
            self.ends.append(len(self.places))

    def extend(self, other: Postings) -> None:
        """Append postings that come after these."""
        if self.places is None:
            self.ids.extend(other.ids)
            self.weights.extend(other.weights)
            return
        for i in range(len(other.ids)):
            self.add(other.ids[i], other.weights[i], other.positions(i))

    def before(self, end: int, dropped: frozenset[int]) -> Postings:
        """Return a copy of the postings below a document number, without the dropped documents."""
        cut = bisect_left(self.ids, end)
        kept = Postings(self.places is not None)
        if not dropped and self.places is None:
            kept.ids, kept.weights = self.ids[:cut], self.weights[:cut]
            return kept
        for i in range(cut):
            if self.ids[i] not in dropped:
                kept.add(self.ids[i], self.weights[i], self.positions(i) if self.places is not None else ())
        return kept

    def positions(self, i: int) -> array:
        """Return the positions of the i-th posting."""
        return self.places[self.ends[i - 1] if i else 0 : self.ends[i]]

    def positions_of(self, docnum: int) -> array | tuple[()]:
        """Return where the term stands in a document (empty if it is not there, or not recorded)."""
        i = bisect_left(self.ids, docnum)
        if self.places is None or i == len(self.ids) or self.ids[i] != docnum:
            return ()
        return self.positions(i)


def read_postings(schema, leaves, field: str, text: str) -> Postings:
    """Read a term's postings from segments (leaf searcher, offset), deleted documents left out."""
    form = schema[field].format if field in schema else None
    positional = form is not None and form.supports("positions")
    found = Postings(positional)
    for leaf, offset in leaves:
        reader = leaf.reader()
        if (field, text) not in reader:
            continue
        for ids, weights, places in internals.term_postings(reader, field, text, positional):
            if places is None:
                found.ids.extend(map(offset.__add__, ids))
                found.weights.extend(weights)
            else:
                for docnum, weight, where in zip(ids, weights, places, strict=True):
                    found.add(offset + docnum, weight, where)
    return found
