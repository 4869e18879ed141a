"""Search as the site serves it: the index asked, and every hit checked as published right now.

The public pages and the JSON API both call this module; it takes the index and the database
as arguments and reads no request, so it is the one place that decides what a reader may find.
"""

from __future__ import annotations

from dataclasses import replace

import sqlite_utils

from indexer import Hit, IndexMissing, SearchIndex, SearchResults

from ..store import published_only
from .params import SearchParams

__all__ = ["related_published", "search_published", "suggest_published"]


def search_published(
    index: SearchIndex, db: sqlite_utils.Database, params: SearchParams, cache: bool = True
) -> SearchResults | None:
    """Search published entries; return None when no index has been built yet."""
    try:
        results = index.search(
            params.q,
            params.filters,
            params.page,
            params.per_page,
            cache=cache,
            sort=params.sort,
            respell=not params.exact,
        )
    except IndexMissing:
        return None
    live = published_only(db, [h.slug for h in results.hits] + [slug for slug, _title in results.near])
    if len(live) < len(results.hits) + len(results.near):  # taken down while a reindex holds the index
        results = replace(
            results, hits=[h for h in results.hits if h.slug in live], near=[n for n in results.near if n[0] in live]
        )
    return results


def related_published(index: SearchIndex, db: sqlite_utils.Database, slug: str) -> list[Hit]:
    """Return the published entries most like this one (none without an index)."""
    try:
        related = index.related(slug)
    except IndexMissing:
        return []
    live = published_only(db, [h.slug for h in related])
    return [h for h in related if h.slug in live]


def suggest_published(index: SearchIndex, db: sqlite_utils.Database, query: str, limit: int) -> list[tuple[str, str]]:
    """Return (slug, title) of up to limit published entries whose title words start like the query."""
    try:
        found = index.suggest_titles(query, limit=limit)
    except IndexMissing:
        return []
    live = published_only(db, [slug for slug, _title in found])
    return [(slug, title) for slug, title in found if slug in live]
