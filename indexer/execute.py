"""Run a parsed query fast: match with sets, count facets from arrays, score only a shortlist.

Scoring every matching entry is what makes a naive Whoosh setup slow when common syllables
("biên", "phòng", "đồn") occur in nearly every entry. Here matching is unscored (document
sets), facet counts come from per-version arrays, and the full ranking query runs only
on a shortlist picked by a cheap scored query over the short fields.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import math
import threading
import time
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from whoosh.matching import ListMatcher, NullMatcher
from whoosh.query import And, Phrase, Query, Term
from whoosh.query import Or as WhooshOr
from whoosh.query.qcore import Query as _QueryBase
from whoosh.scoring import BM25F, bm25

from . import _whoosh_internals as internals
from .query import (
    COMMON_SHARE,
    ParsedQuery,
    as_typed_queries,
    as_typed_query,
    corrections,
    loose_units,
    marks_respected,
    phrase_query,
    required_units,
    scoring_clauses,
    shortlist_terms,
    typed_query,
    unit_query,
)

__all__ = ["DocSet", "Execution", "IndexVersion", "execute", "similar"]

FACETS = ("field", "province", "unit", "year", "level")  # the facets, once for the package
# Document numbers kept in the per-version memo of word and phrase matches (about 60 bytes
# each in a Python set): enough for the common words of a large knowledge base.
MEMO_SIZE = 1_500_000
# Postings of the terms scored in this version, decoded once: Whoosh decompresses and
# unpickles a whole block (positions too) for every document it jumps to, again for each
# query. Measured in 4-byte words: 2 per posting, 2 per title position, 64 per term (its key
# and objects), so about 24 MB in all.
POSTINGS_SIZE = 6_000_000
_TERM_WORDS = 64
# What one remembered word or phrase costs besides its documents, in documents (its key and set).
_MATCH_COST = 4
# From this many documents on, facet values are counted with bit masks, when the facet has
# few values (one AND per value: a unit facet with thousands of values is cheaper to count
# document by document).
MASK_FROM = 200
MASK_VALUES = 64
SHORTLIST = 50  # entries ranked in full: the first five pages
# A partial match must hold this share of the query's weight (its words weighed by rarity); in a
# question of more than SHORT_QUERY words, everyday words the entries do not use ("trông coi")
# are likelier, so less is asked.
PARTIAL_SHARE = 0.5
SHORT_QUERY = 3
LONG_PARTIAL_SHARE = 0.35
# In a query of up to this many words, one that no entry has in any form (as typed, synonym,
# everyday wording, correction) is the topic the knowledge base lacks: no partial match is shown.
# A longer question may hold an everyday word of the asker's own; its other words still count.
LACKING_QUERY = 5
# When nothing is shown, this many closest entries are offered by title.
NEAR = 3
PRECISE = (
    30  # of which the leaders are checked for phrases too  # entries scored in full; enough for the first ten pages
)
FACET_VALUES = 30  # values listed per facet (the most frequent, and every chosen one)
SIMILAR_SHORTLIST = 100  # entries scored in full when looking for models like one
# How long a new index version may translate the previous version's memo. By then the words
# in use have been carried over; the rest of the old memo is let go, not held for days.
INHERIT_SECONDS = 300.0


class DocSet(_QueryBase):
    """Match a fixed set of entries (global document numbers) without scoring them."""

    def __init__(self, docnums: Iterable[int]) -> None:
        """Remember the documents."""
        self.docnums = frozenset(docnums)
        self.boost = 1.0

    def __repr__(self) -> str:
        """Describe the set briefly."""
        return f"DocSet({len(self.docnums)})"

    def __eq__(self, other: object) -> bool:
        """Compare by content."""
        return isinstance(other, DocSet) and other.docnums == self.docnums

    def __hash__(self) -> int:
        """Hash by content."""
        return hash(self.docnums)

    def is_leaf(self) -> bool:
        """Return True: no subqueries."""
        return True

    def estimate_size(self, ixreader) -> int:
        """Return the number of documents."""
        return len(self.docnums)

    estimate_min_size = estimate_size

    def matcher(self, searcher, context=None):
        """Match the documents of this segment, translated to its own numbering."""
        offset = next(o for s, o in searcher.get_parent().subsearchers if s is searcher) if searcher.has_parent() else 0
        end = offset + searcher.doc_count_all()
        ids = sorted(d - offset for d in self.docnums if offset <= d < end)
        return _Unscored(ids) if ids else NullMatcher()


class _Unscored(ListMatcher):
    """A list of documents that adds nothing to a score (ListMatcher would add 1.0 each)."""

    def weight(self) -> float:
        """Return no weight."""
        return 0.0

    def score(self) -> float:
        """Return no score."""
        return 0.0


class _Segment:
    """What one Whoosh segment holds that never changes: facet values, sort keys, term counts.

    A segment is written once; later commits only add segments and mark documents deleted. So
    what is read from a segment serves every later version of the index that still has it,
    and an incremental update (one saved entry: one small new segment) costs only that segment.
    """

    def __init__(self, reader, deleted: frozenset[int]) -> None:
        """Read every facet value and sort key of the segment's documents."""
        size = reader.doc_count_all()
        self.size = size
        # Facet values are read without the documents deleted by then: this segment's data
        # serves only versions that deleted at least as much (later ones, never earlier).
        self.deleted = deleted
        self.values: dict[str, list[tuple[str, ...]]] = {}
        for name in (*FACETS, "status"):
            per_doc: list[list[str]] = [[] for _ in range(size)]
            if name in reader.schema:  # else a field this index was built without
                for term in reader.lexicon(name):
                    value = term.decode("utf-8")
                    for docnum in reader.postings(name, term).all_ids():
                        per_doc[docnum].append(value)
            self.values[name] = [tuple(v) for v in per_doc]
        years, titles, counts = (_column(reader, name) for name in ("year_sort", "title_sort", "adopted_sort"))
        self.sort_keys = [(-_sort_number(years, d), _sort_text(titles, d)) for d in range(size)]
        self.adopted = [_sort_number(counts, d) for d in range(size)]
        self.lexicons: dict[str, dict[str, int]] = {}
        self._lengths: dict[str, list[int]] = {}

    def lengths(self, reader, field: str) -> list[int]:
        """Return each document's length in a field, as the scorer reads it (read once)."""
        found = self._lengths.get(field)
        if found is None:
            found = self._lengths[field] = [reader.doc_field_length(d, field, 1) for d in range(self.size)]
        return found

    def lexicon(self, reader, field: str) -> dict[str, int]:
        """Return the segment's terms of a field with their document frequencies (read once)."""
        found = self.lexicons.get(field)
        if found is None:
            found = {}
            if field in reader.schema:
                # One pass over the term table, instead of a lookup per term.
                found = {t.decode("utf-8"): info.doc_frequency() for t, info in reader.iter_field(field)}
            self.lexicons[field] = found
        return found


def _column(reader, name: str):
    """Return a segment's column reader for a sortable field, or None if it has none.

    An empty index (a new unit's first start) has no columns at all, and an index built
    before a field existed lacks that field's column: both sort as if every value were empty.
    """
    if name not in reader.schema or not reader.has_column(name):
        return None
    return reader.column_reader(name)


def _sort_number(column, docnum: int) -> int:
    """Return a document's number in a sortable column (0 when absent or unreadable)."""
    value = column[docnum] if column is not None else 0
    return value if isinstance(value, int) else 0


def _sort_text(column, docnum: int) -> str:
    """Return a document's text in a sortable column, always as str.

    Whoosh gives a stored value back as str but a missing or empty one as bytes (b""): mixed
    in one sort, they made every listing fail for everyone because of one entry.
    """
    value = column[docnum] if column is not None else ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class _Leaf:
    """Where a segment sits in one version: its id, first global document number, deletions."""

    segment: str
    offset: int
    size: int
    deleted: frozenset[int]  # the segment's own document numbers


def _leaves(searcher) -> list[tuple[_Leaf, object]]:
    """Return each segment of a searcher's version with its reader."""
    found = []
    for leaf, offset in searcher.leaf_searchers():
        reader = leaf.reader()
        deleted = frozenset(reader.deleted_docs_set) if reader.has_deletions() else frozenset()
        found.append((_Leaf(_segment_name(reader), offset, reader.doc_count_all(), deleted), reader))
    return found


def _segment_name(reader) -> str:
    """Return the id of a segment reader's segment (unique to the reader if it has none)."""
    segment = reader.segment() if hasattr(reader, "segment") else None
    if segment is not None:
        return segment.segment_id()
    # An index with no documents yet has one reader with nothing in it, a new object each time.
    return "empty" if reader.doc_count_all() == 0 else f"unnamed-{id(reader)}"


class _Postings:
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
        return _TERM_WORDS + 2 * len(self.ids) + positions

    def add(self, docnum: int, weight: float, places: Iterable[int] = ()) -> None:
        """Append one document's posting (after every one already there)."""
        self.ids.append(docnum)
        self.weights.append(weight)
        if self.places is not None:
            self.places.extend(places)
            self.ends.append(len(self.places))

    def extend(self, other: _Postings) -> None:
        """Append postings that come after these."""
        if self.places is None:
            self.ids.extend(other.ids)
            self.weights.extend(other.weights)
            return
        for i in range(len(other.ids)):
            self.add(other.ids[i], other.weights[i], other.positions(i))

    def before(self, end: int, dropped: frozenset[int]) -> _Postings:
        """Return a copy of the postings below a document number, without the dropped documents."""
        cut = bisect_left(self.ids, end)
        kept = _Postings(self.places is not None)
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


def _read_postings(schema, leaves, field: str, text: str) -> _Postings:
    """Read a term's postings from segments (leaf searcher, offset), deleted documents left out."""
    form = schema[field].format if field in schema else None
    positional = form is not None and form.supports("positions")
    found = _Postings(positional)
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


class IndexVersion:
    """What one version of the index lets us precompute: facet values and orders per document.

    Built from the previous version, it reuses what that version read of the segments both
    share, and carries over its memo of word matches: a save then costs the searches that
    follow it only the new segment, not the whole index read afresh.
    """

    def __init__(self, searcher, previous: IndexVersion | None = None) -> None:
        """Read (or reuse) every segment's facet values and sort keys; join them in global numbering."""
        self.doc_count = searcher.doc_count()
        leaves = _leaves(searcher)
        self.leaves = [leaf for leaf, _reader in leaves]
        known = previous.segments if previous is not None else {}
        self.segments: dict[str, _Segment] = {}
        for leaf, reader in leaves:
            segment = known.get(leaf.segment)
            if segment is None or not segment.deleted <= leaf.deleted:
                segment = _Segment(reader, leaf.deleted)
            self.segments[leaf.segment] = segment
        self.values: dict[str, list[tuple[str, ...]]] = {}
        for name in (*FACETS, "status"):
            joined: list[tuple[str, ...]] = []
            for leaf in self.leaves:
                part = self.segments[leaf.segment].values[name]
                if leaf.deleted:  # a deleted document has no value: no filter or count finds it
                    part = [() if d in leaf.deleted else v for d, v in enumerate(part)]
                joined.extend(part)
            self.values[name] = joined
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
        self._sets: dict[tuple[str, str], frozenset[int]] = {}
        self._bitmasks: dict[str, dict[str, int]] = {}
        self._values_known: dict[str, frozenset[str]] = {}
        self._singles: dict[str, list[str | None] | None] = {}
        self._allowed: dict[tuple, frozenset[int]] = {}
        self._lexicons: dict[str, dict[str, int]] = {}
        self._common: frozenset[str] | None = None
        self._frequencies: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        # Documents of words and phrases already looked up in this version (like Lucene's
        # query cache): common words recur in most queries. Bounded, oldest dropped first.
        self.memo: dict[str, frozenset[int]] = _BoundedDict(MEMO_SIZE, _MATCH_COST)
        self.postings: dict[tuple[str, str], _Postings] = _BoundedDict(POSTINGS_SIZE)
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
            self.memo[key] = found
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

    def term_postings(self, searcher, field: str, text: str) -> _Postings:
        """Return a term's documents (global numbers, ascending) and weights, remembered for this version."""
        key = (field, text)
        found = self.postings.get(key)
        if found is None:
            heir = self._live_heir()
            old = heir[1].get(key) if heir is not None else None
            if old is not None:  # the previous version's, translated: only new segments are read
                _memo, _postings, keep_below, dropped, shared, _until = heir
                found = old.before(keep_below, dropped)
                found.extend(_read_postings(searcher.schema, searcher.leaf_searchers()[shared:], field, text))
            else:
                found = _read_postings(searcher.schema, searcher.leaf_searchers(), field, text)
            self.postings[key] = found
        return found

    def lengths(self, searcher, field: str) -> list[int]:
        """Return each document's length in a field (global numbering), as Whoosh's scorer reads it."""
        found = self._lengths.get(field)
        if found is None:
            found = []
            for leaf, reader in _leaves(searcher):
                found.extend(self.segments[leaf.segment].lengths(reader, field))
            with self._lock:
                self._lengths[field] = found
        return found

    def aligned(self, searcher) -> bool:
        """Return True if the searcher is the version this describes: the same segments at the
        same places, with as many deletions (they only grow, so the same ones)."""
        mine = [(x.segment, x.offset, x.size, len(x.deleted)) for x in self.leaves]
        return mine == [
            (_segment_name(leaf.reader()), offset, leaf.doc_count_all(), leaf.doc_count_all() - leaf.doc_count())
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
            parts = [self.segments[leaf.segment].lexicon(reader, field) for leaf, reader in _leaves(searcher)]
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
            if len(self._frequencies) > 100_000:  # terms come from users' queries: stay bounded
                self._frequencies.clear()
            found = self._frequencies[key] = searcher.doc_frequency(field, text)
        return found

    def common(self, searcher) -> frozenset[str]:
        """Return the terms of all_f found in more than COMMON_SHARE of the entries (cached)."""
        if self._common is None:
            limit = COMMON_SHARE * max(1, self.doc_count)
            self._common = frozenset(t for t, df in self.lexicon(searcher, "all_f").items() if df > limit)
        return self._common

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
            with self._lock:
                if len(self._allowed) >= 256:  # filter combinations come from users: stay small
                    self._allowed.clear()
                self._allowed[key] = found
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
            stored = masks[id(docs)] = (docs, _bits(docs, len(self.values[name])))
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
            masks = {v: _bits(ds, size) for v, ds in by_value.items()}
            with self._lock:
                self._bitmasks[name] = masks
        return masks


def _bits(docs: Iterable[int], size: int) -> int:
    """Return a set of document numbers as an integer bit mask."""
    buffer = bytearray((size + 8) // 8)
    for docnum in docs:
        buffer[docnum >> 3] |= 1 << (docnum & 7)
    return int.from_bytes(buffer, "little")


@dataclass
class Execution:
    """What a search found: the query as run, the page's documents, totals and facet counts."""

    pq: ParsedQuery
    stage: str  # "all": some entry has every word; "fuzzy": after correcting typos; "any": none has
    page: list[tuple[int, float]]  # (docnum, score) of the requested page
    total: int
    full: int  # how many entries have every word
    facets: dict[str, list[tuple[str, int]]]
    lacks: dict[int, tuple[str, ...]] = dataclasses.field(default_factory=dict)  # page entry -> query words it lacks
    near: list[int] = dataclasses.field(default_factory=list)  # nothing shown: the closest entries, as suggestions


def execute(
    searcher,
    version: IndexVersion,
    pq: ParsedQuery,
    filters: dict[str, list[str]],
    statuses: tuple[str, ...],
    page: int,
    per_page: int,
    sort: str = "relevance",
    respell: bool = True,
) -> Execution:
    """Find, count and rank: entries with every word first, then with some; fix typos if none.

    With sort "newest" or "replicated", entries with every word still come first, each group
    in that order instead of by relevance.
    """
    if pq.empty and not pq.excluded:
        return _listing(version, pq, filters, statuses, page, per_page, "newest" if sort == "relevance" else sort)
    common = version.common(searcher)
    status = version.allowed({}, statuses)
    # Excluded as typed: "-bão" drops "bão", not "bảo vệ" or "báo cáo".
    excluded = set().union(*(version.docs(searcher, typed_query(p)) for p in pq.excluded)) if pq.excluded else set()
    phrase_sets = [version.docs(searcher, phrase_query(p)) for p in pq.phrases]

    known_exact = version.lexicon(searcher, "all_x")

    def adjacent(left: str, right: str) -> bool:
        """Return True if two folded syllables stand side by side in some entry."""
        return bool(version.docs(searcher, Term("all_p", f"{left}_{right}")) & status)

    def unit_docs(query: ParsedQuery, unit) -> set[int]:
        """Return the entries a unit matches: as typed where its marks must be respected."""
        if marks_respected(query, query.units.index(unit), known_exact, adjacent):
            return version.docs(searcher, as_typed_query(unit))
        return version.docs(searcher, unit_query(unit))

    def named(query: ParsedQuery, unit_sets: dict) -> set[int]:
        """Return the entries that have a word of the query made of several syllables: one the
        vocabularies know ("thắp sáng"), or two typed syllables some entry has as one word."""
        found = set().union(*(docs for u, docs in unit_sets.items() if len(u.typed) > 1 or u.synonyms))
        for a, b in itertools.pairwise(s.folded for s in query.words):
            found |= version.docs(searcher, Term("words_f", f"{a}_{b}"))
        return found

    def sets_for(query: ParsedQuery) -> tuple[set[int], set[int], list, dict]:
        """Return (every-word set, some-word set, loose units, each required unit's entries),
        before facet filters."""
        required = required_units(query)
        unit_sets = {u: unit_docs(query, u) for u in required}
        loose = loose_units(query, common) if required else []
        every = set.intersection(*unit_sets.values(), *phrase_sets) if required or phrase_sets else set(status)
        some = set().union(*(unit_sets.get(u) or version.docs(searcher, unit_query(u)) for u in loose))
        if phrase_sets:
            some = (some or set(status)).intersection(*phrase_sets)
        return (every & status) - excluded, ((some | every) & status) - excluded, loose, unit_sets

    allowed = version.allowed(filters, statuses)
    every, some, loose, unit_sets = sets_for(pq)
    stage, near = "all", []
    if not every & allowed:
        fixed = corrections(pq, version.lexicon(searcher, "all_f"), adjacent=adjacent, known_exact=known_exact)
        if respell and fixed != pq:
            found = sets_for(fixed)
            if found[0] & allowed:
                pq, (every, some, loose, unit_sets), stage = fixed, found, "fuzzy"
        if stage == "all":
            stage = "any"
            some, near = _partial(unit_sets, status, some, allowed, lambda: named(pq, unit_sets))
    matched = some & allowed
    facets = _facets(version, some, filters, statuses, matched)
    # Entries with every word as typed (diacritics included where typed) rank first.
    typed = [version.docs(searcher, q) for q in as_typed_queries(pq)]
    first = set.intersection(*typed) & matched if len(typed) > 1 or _marked(pq) else set()
    start = (page - 1) * per_page
    if sort in version.orders:
        full = every & allowed
        position = version.positions[sort]
        ordered = sorted(matched, key=lambda d: (d not in full, position[d]))[start : start + per_page]
        shown = [(d, 0.0) for d in ordered]
    else:
        ranked = _rank(searcher, version, pq, loose, common, every & allowed, matched, start + per_page, first)
        shown = ranked[start : start + per_page]
    lacks = {d: _lacking(unit_sets, d) for d, _score in shown}
    return Execution(pq, stage, shown, len(matched), len(every & allowed), facets, lacks, near)


def _lacking(unit_sets: dict, docnum: int) -> tuple[str, ...]:
    """Return the words of the query (as typed) that an entry does not have."""
    return tuple(" ".join(s.exact for s in u.typed) for u, docs in unit_sets.items() if docnum not in docs)


def _partial(
    unit_sets: dict, status, some: set[int], allowed, named: Callable[[], set[int]]
) -> tuple[set[int], list[int]]:
    """Return the entries that may be shown as a partial match, and the closest of the others.

    A partial match holds most of what the query asks, each word weighed by how rare it is, and
    in a short query the rarest word itself. A query of a few words with one that no entry has in
    any form asks for something the knowledge base lacks ("nuôi gà thả vườn"): entries that share
    only its other words ("nuôi", "vườn") are not shown; the page then says that nothing was
    found, and offers the closest entries' titles as suggestions only.
    """
    if not unit_sets:
        return some, []
    present = {u: docs & status for u, docs in unit_sets.items()}  # each word's entries, once
    found = {u: docs for u, docs in present.items() if docs}
    lacking = len(found) < len(present) and len(present) <= LACKING_QUERY
    n = len(status)
    weights = {u: math.log((n + 1) / (len(docs) + 0.5)) for u, docs in present.items()}
    share = PARTIAL_SHARE if len(present) <= SHORT_QUERY else LONG_PARTIAL_SHARE
    needed = share * sum(weights.values())
    held: Counter[int] = Counter()
    for unit, docs in found.items():
        for docnum in docs & some:
            held[docnum] += weights[unit]
    kept = {d for d, weight in held.items() if weight >= needed}
    if lacking:
        kept &= named()
    if len(present) <= SHORT_QUERY and found:  # a few words: a partial match has the rarest
        fewest = min(len(docs) for docs in found.values())
        kept &= set().union(*(docs for docs in found.values() if len(docs) == fewest))
    if kept & allowed:
        return kept, []
    near = heapq.nsmallest(NEAR, (d for d in held if d in allowed), key=lambda d: (-held[d], d))
    return kept, near


def _listing(version, pq, filters, statuses, page, per_page, sort: str = "newest") -> Execution:
    """List every entry allowed by the filters, in the order asked (newest year first)."""
    allowed = version.allowed(filters, statuses)
    facets = _facets(version, version.allowed({}, statuses), filters, statuses, allowed)
    start = (page - 1) * per_page
    ordered = [d for d in version.orders.get(sort, version.newest) if d in allowed][start : start + per_page]
    return Execution(pq, "all", [(d, 0.0) for d in ordered], len(allowed), len(allowed), facets)


def _facets(version, base: set[int] | frozenset[int], filters, statuses, matched) -> dict[str, list[tuple[str, int]]]:
    """Count each facet over the matches, a filtered facet as if its own filter were off."""
    counts, masks = {}, {}
    for name in FACETS:
        docs = base & version.allowed(filters, statuses, skip=name) if filters.get(name) else matched
        counter = version.count(name, docs, masks)
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


def _has_phrase(query: Query) -> bool:
    """Return True if a query reads positions (a phrase anywhere inside it)."""
    return isinstance(query, Phrase) or any(_has_phrase(q) for q in query.children())


def _marked(pq: ParsedQuery) -> bool:
    """Return True if some word was typed with diacritics."""
    return any(s.exact != s.folded for s in pq.words)


def _rank(
    searcher, version, pq, loose, common, every, matched, needed: int, first: set[int]
) -> list[tuple[int, float]]:
    """Rank a fixed shortlist in full; the rest follows in a stable order, for deep pages.

    The shortlist is the same for every page, so paging never repeats or skips an entry, and
    its size bounds the work whatever page is asked for.
    """
    if not matched:
        return []
    shortlist: set[int] = set()
    # Every word as typed, then every word, then some: each group by a cheap first pass.
    for group in (first, every, matched):
        if len(shortlist) < SHORTLIST:
            shortlist |= _shortlist(searcher, version, pq, loose, group - shortlist, SHORTLIST - len(shortlist))
    clauses = scoring_clauses(pq, loose)
    positional = [c for c in clauses if _has_phrase(c)]
    scores = _score_each(searcher, version, [c for c in clauses if not _has_phrase(c)], shortlist, common)
    # Every word as typed, then every word, then some: the tier decides, the score orders within.
    tier = {d: 2 if d in first else 1 if d in every else 0 for d in shortlist}
    # Phrases read positions, the slowest thing to look up: only for the leading entries.
    leaders = set(sorted(scores, key=lambda d: (-tier[d], -scores[d], d))[:PRECISE])
    for docnum, extra in _score_each(searcher, version, positional, leaders, common).items():
        scores[docnum] += extra
    ranked = sorted(scores.items(), key=lambda ds: (-tier[ds[0]], -ds[1], ds[0]))
    if needed > len(ranked):
        rest = sorted(matched - shortlist, key=lambda d: (d not in first, d not in every, d))
        ranked += [(d, 0.0) for d in rest[: needed - len(ranked)]]
    return ranked


def _score_each(searcher, version, clauses: list[Query], docs: set[int], common: frozenset[str]) -> dict[int, float]:
    """Sum each clause's score over docs, clause by clause.

    This is what an Or of the clauses would score, but Whoosh's union of many matchers, and
    even its collectors, cost several times more than walking each clause's matcher over a
    short list. A word found in most entries scores next to nothing (its idf is near zero)
    yet costs the most to look up in scattered entries, so such terms are left out.
    """
    scores = dict.fromkeys(docs, 0.0)
    limit = COMMON_SHARE * max(1, searcher.doc_count())
    context = searcher.context()
    leaves = searcher.leaf_searchers()
    only = DocSet(docs)
    terms = _TermScores(searcher, docs, version)
    for clause in clauses:
        clause = _without_common(searcher, version, clause, limit)
        if clause is None:
            continue
        found = terms.evaluate(clause)
        if found is not None:
            for docnum, score in found.items():
                scores[docnum] += score
            continue
        query = And([only, clause])  # e.g. a phrase: Whoosh's own matchers read the positions
        for leaf, offset in leaves:
            matcher = query.matcher(leaf, context)
            while matcher.is_active():
                scores[offset + matcher.id()] += matcher.score()
                matcher.next()
    return scores


class _TermScores:
    """Score term, And and Or clauses over a shortlist from each term's scores, looked up once.

    The same terms come back in several clauses of a query (a word, its phrase, its fields);
    Whoosh would walk each term's postings again for every clause and combine them through
    layers of Python matchers. The sums are the ones Whoosh computes: an And scores the sum
    over entries having every part, an Or the sum of the parts an entry has, times the boost.
    """

    def __init__(self, searcher, docs: set[int], version: IndexVersion | None = None) -> None:
        """Split the shortlist by segment, in each segment's own numbering.

        With the version's IndexVersion, a term's postings and field lengths come from it,
        decoded once per version (the same numbers Whoosh's scorer reads, without a block
        decompressed and unpickled for every document it jumps to).
        """
        self.searcher = searcher
        self.context = searcher.context()
        self.version = version if version is not None and version.aligned(searcher) else None
        self.docs = sorted(docs)
        self._leaves: list | None = None  # per segment, in its own numbering: Whoosh's matchers only
        self.memo: dict[tuple[str, str], dict[int, float]] = {}

    def _local(self) -> list:
        """Return (leaf searcher, offset, the shortlist in the leaf's numbering) per segment."""
        if self._leaves is None:
            self._leaves = []
            for leaf, offset in self.searcher.leaf_searchers():
                end = offset + leaf.doc_count_all()
                local = [d - offset for d in self.docs if offset <= d < end]
                if local:
                    self._leaves.append((leaf, offset, local))
        return self._leaves

    def term(self, fieldname: str, text: str) -> dict[int, float]:
        """Return the unboosted score of a term in each shortlisted entry that has it."""
        key = (fieldname, text)
        found = self.memo.get(key)
        if found is not None:
            return found
        found = self.memo[key] = {}
        known = self.version.bm25(self.searcher, self.context.weighting, fieldname, text) if self.version else None
        if known is not None:
            postings, lengths, idf, avgfl, b, k1 = known
            ids, weights, size = postings.ids, postings.weights, len(postings.ids)
            i = 0
            for docnum in self.docs:  # ascending, like the postings: one forward bisection each
                i = bisect_left(ids, docnum, i)
                if i == size:
                    break
                if ids[i] == docnum:
                    found[docnum] = bm25(idf, weights[i], lengths[docnum], avgfl, b, k1)
            return found
        query = Term(fieldname, text)
        for leaf, offset, local in self._local():
            matcher = query.matcher(leaf, self.context)
            for docnum in local:
                if not matcher.is_active():
                    break
                matcher.skip_to(docnum)
                if matcher.is_active() and matcher.id() == docnum:
                    found[offset + docnum] = matcher.score()
        return found

    def phrase(self, query: Phrase) -> dict[int, float] | None:
        """Score a phrase as Whoosh does (its words' scores, where they stand in a row), or None.

        Whoosh's phrase matcher intersects the words' postings and sums their scores in a
        binary tree; the positions come from the version's decoded postings.
        """
        if self.version is None or query.slop != 1:
            return None
        parts, postings = [], []
        for word in query.words:
            known = self.version.bm25(self.searcher, self.context.weighting, query.fieldname, word)
            if known is None or known[0].places is None:
                return None
            parts.append(self.term(query.fieldname, word))
            postings.append(known[0])
        found = {}
        for docnum in set(parts[0]).intersection(*parts[1:]):
            places = [set(p.positions_of(docnum)) for p in postings]
            if any(all(start + i in places[i] for i in range(1, len(places))) for start in places[0]):
                found[docnum] = _tree_sum([part[docnum] for part in parts])
        return found

    def evaluate(self, query: Query) -> dict[int, float] | None:
        """Return the score of each shortlisted entry a query matches; None if not a term tree."""
        if isinstance(query, Term):
            found = self.term(query.fieldname, query.text)
        elif isinstance(query, And):
            parts = [self.evaluate(q) for q in query.subqueries]
            if any(p is None for p in parts):
                return None
            shared = set(parts[0]).intersection(*parts[1:])
            found = {d: sum(p[d] for p in parts) for d in shared}
        elif isinstance(query, WhooshOr) and query.scale is None:
            parts = [self.evaluate(q) for q in query.subqueries]
            if any(p is None for p in parts):
                return None
            found = {}
            for part in parts:
                for docnum, score in part.items():
                    found[docnum] = found.get(docnum, 0.0) + score
        elif isinstance(query, DocSet):
            found = dict.fromkeys(query.docnums, 0.0)
        elif isinstance(query, Phrase):
            found = self.phrase(query)
            if found is None:
                return None
        else:
            return None
        return found if query.boost == 1.0 else {d: score * query.boost for d, score in found.items()}


def _tree_sum(scores: list[float]) -> float:
    """Add scores in the order of Whoosh's binary tree of matchers (the same float, to the last bit)."""
    if len(scores) == 1:
        return scores[0]
    half = len(scores) // 2
    return _tree_sum(scores[:half]) + _tree_sum(scores[half:])


def _without_common(searcher, version: IndexVersion, query: Query, limit: float) -> Query | None:
    """Drop the terms found in more than limit entries from a scoring clause (None if nothing is left).

    Such a term scores next to nothing but is the costliest to look up. Inside an And this
    loosens what the clause requires a little, which only matters for ranking.
    """
    if isinstance(query, Term):
        return None if version.frequency(searcher, query.fieldname, query.text) > limit else query
    if isinstance(query, (And, WhooshOr)):
        kept = [q for q in (_without_common(searcher, version, c, limit) for c in query.subqueries) if q is not None]
        if not kept:
            return None
        return (
            kept[0].with_boost(kept[0].boost * query.boost) if len(kept) == 1 else type(query)(kept, boost=query.boost)
        )
    return query


# First-pass fields, most telling first. A term found in more than a share of the entries
# (and more than a thousand) is skipped in that pass: it ranks nothing and costs the most.
_TIERS = (("title_f", 3.0), ("all_p", 2.0), ("summary_f", 1.5), ("meta_f", 1.0), ("all_f", 1.0))
_TERM_POSTINGS = 1000
_TERM_SHARE = 0.1


def _shortlist(searcher, version, pq, loose, within: set[int], size: int) -> set[int]:
    """Pick up to size documents of within: best by title, then summary, unit/tags, body.

    Terms found in too many documents of a field are skipped in that pass (they rank nothing
    there); documents no pass reaches fill the rest in index order.
    """
    picked: set[int] = set()
    if not within or size <= 0:
        return picked
    if len(within) <= size:
        return set(within)
    context = searcher.context()
    syllables = shortlist_terms(pq, loose)
    pairs = [f"{a.folded}_{b.folded}" for a, b in itertools.pairwise(pq.words)]
    cap = max(_TERM_POSTINGS, _TERM_SHARE * searcher.doc_count())
    decoded = version.aligned(searcher)  # the version's decoded postings serve this searcher
    for field, boost in _TIERS:
        candidates = pairs if field == "all_p" else syllables
        terms = [t for t in candidates if 0 < version.frequency(searcher, field, t) <= cap]
        scores: dict[int, float] = {}
        for term in terms:  # walk each short posting list once, scoring what is still wanted
            known = version.bm25(searcher, context.weighting, field, term) if decoded else None
            if known is not None:  # the version's decoded postings, scored as Whoosh scores them
                postings, lengths, idf, avgfl, b, k1 = known
                for docnum, weight in zip(postings.ids, postings.weights, strict=True):
                    if docnum in within and docnum not in picked:
                        score = bm25(idf, weight, lengths[docnum], avgfl, b, k1) * boost
                        scores[docnum] = scores.get(docnum, 0.0) + score
                continue
            for leaf, offset in searcher.leaf_searchers():
                matcher = Term(field, term, boost=boost).matcher(leaf, context)
                while matcher.is_active():
                    docnum = offset + matcher.id()
                    if docnum in within and docnum not in picked:
                        scores[docnum] = scores.get(docnum, 0.0) + matcher.score()
                    matcher.next()
        best = sorted(scores, key=lambda d: (-scores[d], d))[: size - len(picked)]
        picked.update(best)
        if len(picked) >= size:
            return picked
    return picked | set(itertools.islice(sorted(within - picked), size - len(picked)))


def similar(searcher, version: IndexVersion, docnum: int, text: str, field: str, limit: int) -> list[tuple[int, float]]:
    """Return the published entries most like one, best first, with their scores.

    Close to what Whoosh's more_like ranks (an Or of the text's key terms, each boosted by its
    weight), without scoring every entry that shares a word (120 ms at 10 000 entries): the
    entries are first weighed by the key terms they have that are not common (from the memo of
    word matches), and only the heaviest are scored in full, as more_like scores them. An entry
    sharing only common key terms is not considered; on a small corpus the list is exactly
    more_like's.
    """
    keys = searcher.key_terms_from_text(field, text, numterms=12, normalize=False)
    if not keys:
        return []
    published = version.allowed({}, ("published",))
    # Words in many entries weigh little and cost the most to walk: they only score.
    cap = max(_TERM_POSTINGS, _TERM_SHARE * searcher.doc_count())
    telling = [(t, b) for t, b in keys if version.frequency(searcher, field, t) <= cap] or keys
    weight: dict[int, float] = {}
    for term, boost in telling:
        share = boost * searcher.idf(field, term)
        for d in version.docs(searcher, Term(field, term)) & published:
            weight[d] = weight.get(d, 0.0) + share
    weight.pop(docnum, None)
    shortlist = set(sorted(weight, key=lambda d: (-weight[d], d))[:SIMILAR_SHORTLIST])
    scores = (
        _TermScores(searcher, shortlist, version).evaluate(WhooshOr([Term(field, t, boost=b) for t, b in keys])) or {}
    )
    return sorted(scores.items(), key=lambda ds: (-ds[1], ds[0]))[:limit]


class _BoundedDict(dict):
    """A dict of document sets that forgets its oldest entries beyond a total size (thread-safe).

    An entry costs its len() plus a fixed cost, so even empty entries (words no entry has,
    typed by users) are bounded.
    """

    def __init__(self, size: int, cost: int = 0) -> None:
        """Hold at most size in all, each entry costing len(value) + cost."""
        super().__init__()
        self.size = size
        self.cost = cost
        self.held = 0
        self._lock = threading.Lock()

    def __setitem__(self, key, value) -> None:
        """Store, dropping the oldest entries while over the size."""
        with self._lock:
            if key in self:
                self.held -= len(dict.__getitem__(self, key)) + self.cost
            while self and self.held + len(value) + self.cost > self.size:
                self.held -= len(dict.pop(self, next(iter(self)))) + self.cost
            dict.__setitem__(self, key, value)
            self.held += len(value) + self.cost

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            dict.clear(self)
            self.held = 0
