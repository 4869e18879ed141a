"""SearchIndex: the package's one entry point. Build or update the index, search it, suggest.

A search runs forward: decode keys typed with the Vietnamese keyboard off (telex.py), parse
(query.py), note the provinces named, then execute (plan → match → rank → facets: execute.py)
and turn the page's documents into hits with highlights (hits.py). Where the index lives and
how searchers are lent is storage.py's; what is precomputed per index version is version.py's.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import unicodedata
from collections.abc import Iterable

from . import _whoosh_internals as internals
from .analysis import Syllable, syllables
from .caches import Cache
from .execute import execute
from .hits import Hit, SearchResults, shown
from .query import ParsedQuery, parse_query, required_parts, year_only
from .related import like_text_hits, related_hits
from .schema import FACETS, Document
from .storage import Builds
from .suggest import did_you_mean, title_suggestions
from .telex import decode_query
from .text import normalize_text
from .thesaurus import Thesaurus, matches_typed
from .version import IndexVersion

__all__ = ["SORTS", "SearchIndex"]

SORTS = ("relevance", "newest", "replicated")
RESULTS = 256  # result pages remembered (for the index version they came from)
RELATED = 1024  # related-entry lists remembered


class SearchIndex:
    """A Vietnamese-aware search index on disk (see storage.Builds), and everything that reads it."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        thesaurus: Thesaurus | None = None,
        regions: dict[str, str] | None = None,
        whoosh_speedups: bool = True,
    ) -> None:
        """Remember where the index lives and how to expand queries; nothing is opened yet.

        whoosh_speedups=False runs on Whoosh's public API only, for the whole process (the
        benchmark measures what indexer/_whoosh_internals.py is worth that way).
        """
        self.builds = Builds(root)
        self.root = self.builds.root
        self.thesaurus = thesaurus
        self.regions = regions or {}  # former province name -> today's, for the facet filter
        self._live_version: tuple[object, IndexVersion] | None = None
        self._version_lock = threading.Lock()
        self._results: Cache[SearchResults] = Cache(RESULTS)
        self._related: Cache[tuple[Hit, ...]] = Cache(RELATED)
        self._places: dict[str, list[tuple[tuple[Syllable, ...], str]]] | None = None
        if whoosh_speedups:
            internals.install()  # Whoosh's faster internals, if it is the version they were written for
        else:
            internals.uninstall()

    # ---- writing (storage.Builds does it) -------------------------------------

    def exists(self) -> bool:
        """Return True if a live build exists."""
        return self.builds.exists()

    def build(
        self, docs: Iterable[Document], expected: int | None = None, failed: list[tuple[str, str]] | None = None
    ) -> int:
        """Index docs into a fresh build and make it live atomically; return the count (see Builds.build)."""
        return self.builds.build(docs, expected, failed)

    def update(
        self,
        upserts: Iterable[Document],
        deletes: Iterable[str] = (),
        wait: float = 120.0,
        failed: list[tuple[str, str]] | None = None,
    ) -> None:
        """Add or replace docs and delete slugs in the live build, in one commit (see Builds.update)."""
        self.builds.update(upserts, deletes, wait, failed)

    def doc_count(self) -> int:
        """Return the number of documents in the live build (of every status)."""
        with self.builds.searcher() as searcher:
            return searcher.doc_count()

    def slugs(self) -> set[str]:
        """Return the slugs of every indexed document."""
        with self.builds.searcher() as searcher:
            return {stored["slug"] for stored in searcher.all_stored_fields()}

    # ---- reading -------------------------------------------------------------

    def search(
        self,
        query: str = "",
        filters: dict[str, list[str]] | None = None,
        page: int = 1,
        per_page: int = 10,
        statuses: tuple[str, ...] = ("published",),
        cache: bool = True,
        sort: str = "relevance",
        respell: bool = True,
    ) -> SearchResults:
        """Search published entries; an empty query lists them all, newest year first.

        sort: "relevance" (an empty query: newest), "newest" (year, then title) or
        "replicated" (most units that adopted it first). respell=False never corrects a typo.
        Results are kept in a small cache for the index version they came from (cache=False
        skips it, for measuring).
        """
        sort = sort if sort in SORTS else "relevance"
        filters = {k: [self._facet_value(k, v) for v in vs if v] for k, vs in (filters or {}).items() if k in FACETS}
        filters = {k: list(dict.fromkeys(vs)) for k, vs in filters.items() if vs}
        page = max(1, page)
        with self.builds.searcher() as searcher:
            version = self._index_version(searcher)
            # Keys typed with the Vietnamese keyboard off ("thawps sangs") are read as what they
            # stand for, unless the entries use the word as typed ("AIS") or respelling is off.
            decoded = decode_query(query or "", version.lexicon(searcher, "all_f")) if respell else query or ""
            pq = self._with_places(parse_query(decoded, self.thesaurus))
            if years := year_only(pq):  # "năm 2019": the entries filed under that year
                filters = {**filters, "year": list(dict.fromkeys([*filters.get("year", []), *years]))}
                pq = dataclasses.replace(pq, parts=(), years=())
            was_decoded = decoded != unicodedata.normalize("NFC", query or "")
            key = (self.builds.version_key(searcher), pq.text, tuple(sorted((k, tuple(v)) for k, v in filters.items())),
                   page, per_page, statuses, sort, respell, was_decoded)  # fmt: skip
            if cache and (cached := self._results.get(key)) is not None:
                return cached
            found = execute(searcher, version, pq, filters, statuses, page, per_page, sort, respell)
            if not found.page and page > 1:  # past the last page: show the last one (or the first)
                page = max(1, -(-found.total // per_page))
                found = execute(searcher, version, pq, filters, statuses, page, per_page, sort, respell)
            marks = found.pq.marks()
            hits = [
                dataclasses.replace(hit, missing=found.lacks.get(d, ()))
                for d, score in found.page
                if (hit := shown(searcher, d, score, marks)) is not None
            ]
            suggestion = did_you_mean(searcher, version, found) if not pq.empty else None
            near = [(s["slug"], s["stored"]["title"]) for s in map(searcher.stored_fields, found.near)]
        results = SearchResults(
            query=pq.text,
            total=found.total,
            page=page,
            per_page=per_page,
            hits=hits,
            facets=found.facets,
            relaxed=found.stage == "any" and found.total > 0,
            corrected=found.stage == "fuzzy" and found.total > 0,
            suggestion=suggestion,
            respelled=" ".join(
                u.corrections[0] if u.corrections else " ".join(s.exact for s in u.typed) for u in found.pq.parts
            )
            if found.stage == "fuzzy"
            else None,
            words=tuple(" ".join(s.exact for s in u.typed) for u in required_parts(pq)),
            decoded=pq.text if was_decoded else None,
            near=near,
        )
        if cache:
            self._results.put(key, results)
        return results

    def _version_now(self) -> IndexVersion:
        """Return what is precomputed for the live version (tests look into its memo)."""
        with self.builds.searcher() as searcher:
            return self._index_version(searcher)

    def _index_version(self, searcher) -> IndexVersion:
        """Return what is precomputed for the index version the searcher reads."""
        key = self.builds.version_key(searcher)
        with self._version_lock:
            live = self._live_version
            if live is None or live[0] != key:
                # Built on the previous version of the same build folder, never on a newer one (a
                # thread may still read an older version): shared segments are not read again.
                older = live is not None and live[0][0] == key[0] and live[0][1] < key[1]
                self._live_version = (key, IndexVersion(searcher, live[1] if older else None))
            return self._live_version[1]

    def _with_places(self, pq: ParsedQuery) -> ParsedQuery:
        """Note the provinces a query names, matched like words (with or without diacritics)."""
        if not self.regions:
            return pq
        if self._places is None:  # built whole, then published: threads may search meanwhile
            places: dict[str, list[tuple[tuple[Syllable, ...], str]]] = {}
            for name, region in self.regions.items():
                form = tuple(syllables(name))
                places.setdefault(form[0].folded, []).append((form, region))
            self._places = places
        found = []
        words = pq.words
        for i, first in enumerate(words):
            for form, region in self._places.get(first.folded, ()):
                run = words[i : i + len(form)]
                if len(run) == len(form) and all(matches_typed(q, f) for q, f in zip(run, form, strict=True)):
                    found.append(region)
        return dataclasses.replace(pq, places=tuple(dict.fromkeys(found))) if found else pq

    def _facet_value(self, name: str, value: str) -> str:
        """Normalise a filter value; a province under a former name means today's province."""
        value = " ".join(normalize_text(value).split())
        return self.regions.get(value, value) if name == "province" else value

    def suggest_titles(self, prefix: str, limit: int = 8) -> list[tuple[str, str]]:
        """Return (slug, title) of published entries whose title words start like the query."""
        with self.builds.searcher() as searcher:
            return title_suggestions(searcher, prefix, limit)

    def related(self, slug: str, limit: int = 5) -> list[Hit]:
        """Return published entries most like the given one, by their distinctive words."""
        with self.builds.searcher() as searcher:
            # Scoring every entry that shares a key word is the costliest thing an entry page
            # does (80 ms at 10 000 entries): the answer only changes with the index version.
            key = (self.builds.version_key(searcher), slug, limit)
            if (cached := self._related.get(key)) is not None:
                return list(cached)
            found = related_hits(searcher, self._index_version(searcher), slug, limit)
            self._related.put(key, tuple(found))
            return found

    def like_text(self, text: str, limit: int = 5) -> list[Hit]:
        """Return published entries most like a text (a document being drafted), by its distinctive words."""
        with self.builds.searcher() as searcher:
            return like_text_hits(searcher, self._index_version(searcher), text, limit)
