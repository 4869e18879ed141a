"""One version of the index, precomputed: orders, facet values, remembered matches and postings.

Built from the previous version, an IndexVersion reuses what that version read of the
segments both share (segments.py), and for a few minutes translates its memo of matches and
decoded postings into the new numbering: a save then costs the searches that follow it only
the new segment, not the whole index read afresh.
"""

from __future__ import annotations

import threading
import time

from whoosh.query import Query
from whoosh.scoring import BM25F

from . import _whoosh_internals as internals
from .caches import Cache
from .facets import FacetValues
from .plan import COMMON_SHARE
from .postings import Postings, read_postings
from .schema import FACETS
from .segments import Segment, leaves_of, segment_name

__all__ = ["IndexVersion"]

# Document numbers kept in the per-version memo of word and phrase matches (about 60 bytes
# each in a Python set): enough for the common words of a large knowledge base.
MEMO_SIZE = 1_500_000
# What one remembered word or phrase costs besides its documents, in documents (its key and set).
MATCH_COST = 4
# Decoded postings of the terms scored in this version, in 4-byte words (postings.TERM_WORDS):
# about 24 MB in all.
POSTINGS_SIZE = 6_000_000
FREQUENCIES = 100_000  # document frequencies remembered per version
# How long a new index version may translate the previous version's memo. By then the words
# in use have been carried over; the rest of the old memo is let go, not held for days.
INHERIT_SECONDS = 300.0


def _match_size(docs: frozenset[int]) -> int:
    """Return what a remembered match costs the memo: its documents and a fixed cost."""
    return len(docs) + MATCH_COST


class IndexVersion:
    """What one version of the index lets us precompute: facet values and orders per document.

    Built from the previous version, it reuses what that version read of the segments both
    share, and carries over its memo of word matches: a save then costs the searches that
    follow it only the new segment, not the whole index read afresh.
    """

    def __init__(self, searcher, previous: IndexVersion | None = None) -> None:
        """Read (or reuse) every segment's facet values and sort keys; join them in global numbering."""
        self.doc_count = searcher.doc_count()
        leaves = leaves_of(searcher)
        self.leaves = [leaf for leaf, _reader in leaves]
        known = previous.segments if previous is not None else {}
        self.segments: dict[str, Segment] = {}
        for leaf, reader in leaves:
            segment = known.get(leaf.segment)
            if segment is None or not segment.deleted <= leaf.deleted:
                segment = Segment(reader, leaf.deleted)
            self.segments[leaf.segment] = segment
        values: dict[str, list[tuple[str, ...]]] = {}
        for name in (*FACETS, "status"):
            joined: list[tuple[str, ...]] = []
            for leaf in self.leaves:
                part = self.segments[leaf.segment].values[name]
                if leaf.deleted:  # a deleted document has no value: no filter or count finds it
                    part = [() if d in leaf.deleted else v for d, v in enumerate(part)]
                joined.extend(part)
            values[name] = joined
        self.facets = FacetValues(values)
        # Listing orders: newest year first, then title; most units that adopted it, then newest.
        sort_keys, adopted = [], []
        for leaf in self.leaves:
            sort_keys.extend(self.segments[leaf.segment].sort_keys)
            adopted.extend(self.segments[leaf.segment].adopted)
        everyone = range(len(sort_keys))
        self.newest = sorted(everyone, key=sort_keys.__getitem__)
        self.replicated = sorted(everyone, key=lambda d: (-adopted[d], sort_keys[d]))
        self.orders = {"newest": self.newest, "replicated": self.replicated}
        self.positions = {name: {d: i for i, d in enumerate(order)} for name, order in self.orders.items()}
        self._lexicons: dict[str, dict[str, int]] = {}
        self._common: frozenset[str] | None = None
        self._frequencies: Cache[int] = Cache(FREQUENCIES)  # terms come from users' queries
        self._lock = threading.Lock()
        # Documents of words and phrases already looked up in this version (like Lucene's
        # query cache): common words recur in most queries. Bounded by their documents.
        self.memo: Cache[frozenset[int]] = Cache(MEMO_SIZE, _match_size)
        self.postings: Cache[Postings] = Cache(POSTINGS_SIZE, len)
        self._lengths: dict[str, list[int]] = {}
        self._heir = self._inheritance(previous) if previous is not None else None

    def _inheritance(self, previous: IndexVersion) -> tuple | None:
        """Work out how the previous version's matches translate into this one's numbering.

        Segments both versions have at the same place keep their document numbers; documents
        deleted since drop out; whatever follows (the new segments) is searched afresh.
        """
        shared = 0
        for old, new in zip(previous.leaves, self.leaves, strict=False):
            if (old.segment, old.offset, old.size) != (new.segment, new.offset, new.size):
                break
            if not old.deleted <= new.deleted:  # an older version than previous: nothing carries
                break
            shared += 1
        if not shared:
            return None
        keep_below = self.leaves[shared - 1].offset + self.leaves[shared - 1].size
        dropped = frozenset(
            new.offset + d
            for old, new in zip(previous.leaves[:shared], self.leaves[:shared], strict=True)
            for d in new.deleted - old.deleted
        )
        previous._heir = None  # one step back only: older versions can be freed
        return previous.memo, previous.postings, keep_below, dropped, shared, time.monotonic() + INHERIT_SECONDS

    def docs(self, searcher, query: Query) -> set[int]:
        """Return the documents matching a query, unscored, remembered for this version."""
        key = repr(query)
        found = self.memo.get(key)
        if found is None:
            found = self._inherited(searcher, key, query)
            if found is None:
                found = frozenset(searcher.docs_for_query(query))
            self.memo.put(key, found)
        return set(found)

    def _live_heir(self) -> tuple | None:
        """Return what the previous version left to translate, unless it has expired."""
        heir = self._heir
        if heir is not None and time.monotonic() > heir[-1]:
            self._heir = heir = None
        return heir

    def _inherited(self, searcher, key: str, query: Query) -> frozenset[int] | None:
        """Return a query's matches translated from the previous version's memo (None if not there)."""
        heir = self._live_heir()
        if heir is None:
            return None
        memo, _postings, keep_below, dropped, shared, _until = heir
        old = memo.get(key)
        if old is None:
            return None
        kept = {d for d in old if d < keep_below} if old and max(old) >= keep_below else set(old)
        kept -= dropped
        for leaf, offset in searcher.leaf_searchers()[shared:]:
            kept.update(offset + d for d in query.docs(leaf))
        return frozenset(kept)

    def term_postings(self, searcher, field: str, text: str) -> Postings:
        """Return a term's documents (global numbers, ascending) and weights, remembered for this version."""
        key = (field, text)
        found = self.postings.get(key)
        if found is None:
            heir = self._live_heir()
            old = heir[1].get(key) if heir is not None else None
            if old is not None:  # the previous version's, translated: only new segments are read
                _memo, _postings, keep_below, dropped, shared, _until = heir
                found = old.before(keep_below, dropped)
                found.extend(read_postings(searcher.schema, searcher.leaf_searchers()[shared:], field, text))
            else:
                found = read_postings(searcher.schema, searcher.leaf_searchers(), field, text)
            self.postings.put(key, found)
        return found

    def lengths(self, searcher, field: str) -> list[int]:
        """Return each document's length in a field (global numbering), as Whoosh's scorer reads it."""
        found = self._lengths.get(field)
        if found is None:
            found = []
            for leaf, reader in leaves_of(searcher):
                found.extend(self.segments[leaf.segment].lengths(reader, field))
            with self._lock:
                self._lengths[field] = found
        return found

    def aligned(self, searcher) -> bool:
        """Return True if the searcher is the version this describes: the same segments at the
        same places, with as many deletions (they only grow, so the same ones)."""
        mine = [(x.segment, x.offset, x.size, len(x.deleted)) for x in self.leaves]
        return mine == [
            (segment_name(leaf.reader()), offset, leaf.doc_count_all(), leaf.doc_count_all() - leaf.doc_count())
            for leaf, offset in searcher.leaf_searchers()
        ]

    def bm25(self, searcher, weighting, field: str, text: str) -> tuple | None:
        """Return what scores a term as Whoosh's BM25F does: (postings, lengths, idf, avgfl, B, K1).

        Only for a searcher this IndexVersion describes (callers check aligned() once a query).
        None when the weighting or the field is scored some other way: then Whoosh's own
        matchers score it.
        """
        if type(weighting) is not BM25F or field not in searcher.schema or not searcher.schema[field].scorable:
            return None
        b = internals.field_b(weighting, searcher, field, text)
        avgfl = searcher.avg_field_length(field) or 1
        postings = self.term_postings(searcher, field, text)
        return postings, self.lengths(searcher, field), searcher.idf(field, text), avgfl, b, weighting.K1

    def lexicon(self, searcher, field: str) -> dict[str, int]:
        """Return every term of a field with its document frequency, summed over the segments."""
        found = self._lexicons.get(field)
        if found is None:
            parts = [self.segments[leaf.segment].lexicon(reader, field) for leaf, reader in leaves_of(searcher)]
            parts.sort(key=len, reverse=True)
            found = dict(parts[0]) if parts else {}
            for part in parts[1:]:
                for term, count in part.items():
                    found[term] = found.get(term, 0) + count
            with self._lock:
                self._lexicons[field] = found
        return found

    def frequency(self, searcher, field: str, text: str) -> int:
        """Return in how many entries a term is (as Whoosh counts: deleted ones too), remembered."""
        key = (field, text)
        found = self._frequencies.get(key)
        if found is None:
            found = searcher.doc_frequency(field, text)
            self._frequencies.put(key, found)
        return found

    def common(self, searcher) -> frozenset[str]:
        """Return the terms of all_f found in more than COMMON_SHARE of the entries (cached)."""
        if self._common is None:
            limit = COMMON_SHARE * max(1, self.doc_count)
            self._common = frozenset(t for t, df in self.lexicon(searcher, "all_f").items() if df > limit)
        return self._common
