"""What one Whoosh segment holds that never changes, and where each segment sits in a version.

A segment is written once; later commits only add segments and mark documents deleted. So
what is read from a segment (facet values, sort keys, term counts, field lengths) serves every
later version of the index that still has it, and an incremental update (one saved entry: one
small new segment) costs only that segment.
"""

from __future__ import annotations

from dataclasses import dataclass

from .schema import FACETS

__all__ = ["Leaf", "Segment", "leaves_of", "segment_name"]


class Segment:
    """What one Whoosh segment holds that never changes: facet values, sort keys, term counts."""

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
class Leaf:
    """Where a segment sits in one version: its id, first global document number, deletions."""

    segment: str
    offset: int
    size: int
    deleted: frozenset[int]  # the segment's own document numbers


def leaves_of(searcher) -> list[tuple[Leaf, object]]:
    """Return each segment of a searcher's version with its reader."""
    found = []
    for leaf, offset in searcher.leaf_searchers():
        reader = leaf.reader()
        deleted = frozenset(reader.deleted_docs_set) if reader.has_deletions() else frozenset()
        found.append((Leaf(segment_name(reader), offset, reader.doc_count_all(), deleted), reader))
    return found


def segment_name(reader) -> str:
    """Return the id of a segment reader's segment (unique to the reader if it has none)."""
    segment = reader.segment() if hasattr(reader, "segment") else None
    if segment is not None:
        return segment.segment_id()
    # An index with no documents yet has one reader with nothing in it, a new object each time.
    return "empty" if reader.doc_count_all() == 0 else f"unnamed-{id(reader)}"
