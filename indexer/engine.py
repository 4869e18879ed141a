"""Keep a Whoosh index on disk: build it whole, update it in place, search it."""

from __future__ import annotations

import dataclasses
import itertools
import logging
import os
import shutil
import tempfile
import threading
import unicodedata
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import formats
from whoosh import index as whoosh_index
from whoosh.analysis import RegexTokenizer
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.query import And, Or, Prefix, Query, Term

from . import _whoosh_internals as internals
from .analysis import Syllable, analyze, document_codes, syllables, terms
from .execute import FACETS, Execution, IndexVersion, execute, similar
from .locks import file_lock
from .prepare import AnalysisCache, prepare
from .query import ParsedQuery, near_terms, parse_query, required_units, year_only
from .snippets import Marks, highlight, snippet
from .telex import decode_query
from .text import fold_syllable, normalize_text
from .thesaurus import Thesaurus, matches_typed

__all__ = [
    "FACETS",
    "SCHEMA_VERSION",
    "SORTS",
    "AnalysisFailed",
    "Document",
    "Hit",
    "IndexBusy",
    "IndexMissing",
    "SearchIndex",
    "SearchResults",
]

log = logging.getLogger(__name__)

SORTS = ("relevance", "newest", "replicated")
# Bump when the schema changes: reindex() then rebuilds every index in full.
SCHEMA_VERSION = "2"
SCHEMA_FILE = "SCHEMA"  # in each build folder (gen-*): the schema version it was built with
CURRENT = "CURRENT"  # names the live build folder
# Searches a process runs at once; the server's other threads wait their turn. Each holds a
# searcher, and Python runs one thread at a time anyway: measured at 10 000 entries with four
# threads, two at once cost 90 MB more per worker than one, for lower throughput.
SEARCHES_AT_ONCE = 1
# From this many documents on, a full build writes segments in several processes.
PARALLEL_WRITE_FROM = 500
WRITE_LOCK = "write.lock"


class IndexMissing(RuntimeError):
    """No index has been built yet."""


class AnalysisFailed(RuntimeError):
    """Most documents of a build or update could not be analysed: nothing was changed."""


class IndexBusy(RuntimeError):
    """Another process holds the index for writing longer than we may wait."""


@dataclass(frozen=True)
class Document:
    """What the index needs of one entry; every string already normalised by the caller."""

    slug: str
    title: str
    summary: str
    body_text: str
    unit: str
    province: str | None = None
    fields: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    year: int | None = None
    status: str = "published"
    region: str | None = None  # the province as it is named today, for the facet
    # From the replication ledger: they change without the text changing, so they are set on
    # each document after its (cached) analysis, never part of the analysis cache key.
    level: str = ""  # evidence level, a facet
    adopted: int = 0  # units that adopted the model, for "most replicated" order


@dataclass(frozen=True)
class Hit:
    """One search result, with HTML-escaped title and snippet in which matches are marked."""

    slug: str
    title: str
    title_html: str
    summary: str
    snippet_html: str
    unit: str
    province: str | None
    fields: tuple[str, ...]
    year: int | None
    score: float
    level: str = ""
    adopted: int = 0
    missing: tuple[str, ...] = ()  # words of the query this entry lacks (a partial match)


@dataclass
class SearchResults:
    """One page of results, the total and the facet counts."""

    query: str
    total: int
    page: int
    per_page: int
    hits: list[Hit] = field(default_factory=list)
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    relaxed: bool = False  # no entry had every word: these have some of them
    corrected: bool = False  # found only after correcting likely typos
    suggestion: str | None = None  # "Có phải bạn muốn tìm: …"
    words: tuple[str, ...] = ()  # the words the query asked for, as typed (function words aside)
    decoded: str | None = None  # what was searched, when Telex or VNI keys were read as Vietnamese
    near: list[tuple[str, str]] = field(default_factory=list)  # nothing found: closest (slug, title)
    respelled: str | None = None  # after a correction: each corrected word as its likeliest indexed form

    @property
    def searched_for(self) -> str | None:
        """Return what was searched instead of the words as typed (decoded keys, a correction), or None."""
        if self.decoded:
            return self.decoded
        return (self.suggestion or self.respelled) if self.corrected else None

    @property
    def pages(self) -> int:
        """Return the number of pages."""
        return max(1, -(-self.total // self.per_page))


def _presence(analyzer: RegexTokenizer) -> TEXT:
    """Return a scorable text field that records only whether a term is there (cheaper to write)."""
    field = TEXT(analyzer=analyzer, phrase=False)
    field.format = formats.Existence(field_boost=1.0)
    return field


def _schema() -> Schema:
    """Return the schema: syllable fields for matching, per-part fields for ranking, facets."""
    # Terms are produced by our own analysis and joined with spaces, so Whoosh
    # only splits on spaces: no stop words, no minimum length, no lowercasing.
    terms = RegexTokenizer(r"[^ ]+")
    # Facet values may contain spaces and commas ("Phòng, chống tội phạm"):
    # several values of one field are joined by newlines.
    values = RegexTokenizer(r"[^\n]+")
    return Schema(
        slug=ID(stored=True, unique=True),
        # Everything, folded: what must match. No positions: "side by side" is all_p's job,
        # which saves reading positions at search time and writing them at index time.
        all_f=TEXT(analyzer=terms, phrase=False),
        all_x=_presence(terms),  # syllables with diacritics, as written: typed diacritics
        title_f=TEXT(analyzer=terms, phrase=True),
        title_x=TEXT(analyzer=terms, phrase=False),
        summary_f=TEXT(analyzer=terms, phrase=False),
        meta_f=TEXT(analyzer=terms, phrase=False),  # unit, province, fields, tags
        all_p=_presence(terms),  # adjacent syllable pairs: phrases without positions
        words_f=TEXT(analyzer=terms, phrase=False),  # underthesea's compound words
        codes=KEYWORD(analyzer=values),
        field=KEYWORD(analyzer=values),
        province=KEYWORD(analyzer=values),
        unit=KEYWORD(analyzer=values),
        year=KEYWORD(analyzer=values),
        status=ID(),
        year_sort=NUMERIC(int, sortable=True),
        level=KEYWORD(analyzer=values),
        adopted_sort=NUMERIC(int, sortable=True),
        title_sort=ID(sortable=True),
        stored=STORED(),
    )


def _fields_of(doc: Document) -> dict[str, object]:
    """Analyse one document into the values of the schema's fields."""
    meta_text = " . ".join([doc.unit, doc.province or "", doc.region or "", *doc.fields, *doc.tags])
    title, summary = analyze(doc.title), analyze(doc.summary, segment=False)
    meta, body = analyze(meta_text, segment=False), analyze(doc.body_text)
    parts = [(doc.title, title), (doc.summary, summary), (meta_text, meta), (doc.body_text, body)]
    folded = [terms(text, a.syllables, folded=True) for text, a in parts]
    exact = [terms(text, a.syllables, folded=False, breaks=False) for text, a in parts]
    compounds = title.word_terms(True) + body.word_terms(True)
    return {
        "slug": doc.slug,
        "all_f": " § ".join(folded),
        # Each pair once: pairs decide whether words stand side by side, not how often.
        "all_p": " ".join(dict.fromkeys(_pairs(" § ".join(folded)))),
        # Each syllable with diacritics once: all_x only tells whether an entry has a word
        # exactly as typed; unmarked syllables are all_f's, and repeats cost indexing time.
        "all_x": " ".join(dict.fromkeys(t for t in " ".join(exact).split() if t != fold_syllable(t))),
        "title_f": folded[0],
        "title_x": exact[0],
        "summary_f": folded[1],
        "meta_f": folded[2],
        "words_f": " ".join(compounds),
        "codes": "\n".join(document_codes(f"{doc.title}\n{doc.summary}\n{doc.body_text}")),
        "field": "\n".join(doc.fields),
        "province": doc.region or doc.province or "",
        "unit": doc.unit,
        "year": str(doc.year) if doc.year else "",
        "status": doc.status,
        "year_sort": doc.year or 0,
        "title_sort": " ".join(s.folded for s in title.syllables),
        # Lists, not tuples: the same value whether it comes fresh or from the JSON cache.
        "stored": {
            **dataclasses.asdict(doc),
            "fields": list(doc.fields),
            "tags": list(doc.tags),
            "key_terms": " ".join(compounds),
        },
    }


def _check_failures(failures: list[tuple[str, str]], succeeded: int) -> None:
    """Raise AnalysisFailed when more documents failed than succeeded: the analyser is broken, not an entry."""
    if failures and len(failures) > succeeded:
        slug, reason = failures[0]
        raise AnalysisFailed(f"Không phân tích được {len(failures)} mục để lập chỉ mục (ví dụ {slug}: {reason}).")


def _reporter(failed: list[tuple[str, str]] | None) -> Callable[[Document, str], None] | None:
    """Return what notes a document left out of the index in failed, as (slug, reason)."""
    return None if failed is None else lambda doc, reason: failed.append((doc.slug, reason))


def _volatile_fields(doc: Document, fields: dict[str, object]) -> dict[str, object]:
    """Set the ledger's values on a document's analysed fields (fresh or from the cache)."""
    stored = {**fields["stored"], "level": doc.level, "adopted": doc.adopted}
    return {**fields, "level": doc.level, "adopted_sort": doc.adopted, "stored": stored}


def _pairs(folded: str) -> list[str]:
    """Return the adjacent syllable pairs of a term string, never across a sentence break."""
    terms = folded.split()
    return [f"{a}_{b}" for a, b in itertools.pairwise(terms) if a != "§" and b != "§"]


class SearchIndex:
    """An index directory holding builds of a Whoosh index (gen-* folders), one of them live."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        thesaurus: Thesaurus | None = None,
        regions: dict[str, str] | None = None,
    ) -> None:
        """Remember where the index lives and how to expand queries; nothing is opened yet."""
        self.root = Path(root)
        self.thesaurus = thesaurus
        self.regions = regions or {}  # former province name -> today's, for the facet filter
        # Searchers no request is using, with the build folder each reads (most recently used last).
        self._idle: list[tuple[Path, object]] = []
        self._idle_lock = threading.Lock()
        self._turns = threading.BoundedSemaphore(SEARCHES_AT_ONCE)
        self._lent = threading.local()  # the searcher this thread is using, if any
        self._live_version: tuple[object, IndexVersion] | None = None
        self._version_lock = threading.Lock()
        self._results = _LRU(256)
        self._related = _LRU(1024)
        self._places: dict[str, list[tuple[tuple[Syllable, ...], str]]] | None = None
        # The version folder each open searcher reads, whatever CURRENT says later.
        self._folders: weakref.WeakKeyDictionary[object, str] = weakref.WeakKeyDictionary()
        internals.install()  # Whoosh's faster internals, if it is the version they were written for

    # ---- writing -------------------------------------------------------------

    def exists(self) -> bool:
        """Return True if a live build exists."""
        try:
            self._current_dir()
        except IndexMissing:
            return False
        return True

    def build(
        self, docs: Iterable[Document], expected: int | None = None, failed: list[tuple[str, str]] | None = None
    ) -> int:
        """Index docs into a fresh build folder and make it live atomically; return the count.

        With many documents expected (or an unknown number), Whoosh writes segments in parallel.
        A document that cannot be analysed is left out and reported in failed as (slug, reason).
        If more documents fail than succeed, the analyser itself is broken: AnalysisFailed is
        raised and the live build keeps serving.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        failures: list[tuple[str, str]] = []
        with self._write_lock():
            fresh = Path(tempfile.mkdtemp(prefix="gen-", dir=self.root))
            try:
                ix = whoosh_index.create_in(fresh, _schema())
                seen: set[str] = set()
                with self._cache() as cache:
                    procs = 1 if expected is not None and expected < PARALLEL_WRITE_FROM else os.cpu_count() or 1
                    analysed = prepare(
                        docs, _fields_of, cache, seen=seen, finish=_volatile_fields, failed=_reporter(failures)
                    )
                    count = internals.write_documents(ix, analysed, procs=procs)
                    _check_failures(failures, count)
                    cache.retain(seen)  # what no entry uses any more
                ix.close()
                (fresh / SCHEMA_FILE).write_text(SCHEMA_VERSION, encoding="utf-8")
            except BaseException:
                shutil.rmtree(fresh, ignore_errors=True)
                raise
            self._switch_to(fresh)
        if failed is not None:
            failed += failures
        return count

    def update(
        self,
        upserts: Iterable[Document],
        deletes: Iterable[str] = (),
        wait: float = 120.0,
        failed: list[tuple[str, str]] | None = None,
    ) -> None:
        """Add or replace docs and delete slugs in the live build, in one commit.

        Raise IndexBusy if another writer holds the index for longer than wait seconds. A
        document that cannot be analysed keeps its indexed version and is reported in failed;
        if more fail than succeed, nothing is committed and AnalysisFailed is raised.
        """
        failures: list[tuple[str, str]] = []
        with self._write_lock(timeout=wait):
            ix = whoosh_index.open_dir(self._current_dir())
            try:
                with self._cache() as cache, internals.segment_writer(ix, timeout=30.0) as writer:
                    for slug in deletes:
                        writer.delete_by_term("slug", slug)
                    written = 0
                    for fields in prepare(upserts, _fields_of, cache, finish=_volatile_fields,
                                          failed=_reporter(failures)):  # fmt: skip
                        writer.update_document(**fields)
                        written += 1
                    _check_failures(failures, written)  # raising here cancels the writer: no commit
            finally:
                ix.close()
        if failed is not None:
            failed += failures

    @contextmanager
    def _cache(self) -> Iterator[AnalysisCache]:
        """Open the analysis cache that lives beside the build folders."""
        cache = AnalysisCache(self.root / "analysis-cache.sqlite3")
        try:
            yield cache
        finally:
            cache.close()

    def doc_count(self) -> int:
        """Return the number of documents in the live build (of every status)."""
        with self._searcher() as searcher:
            return searcher.doc_count()

    def slugs(self) -> set[str]:
        """Return the slugs of every indexed document."""
        with self._searcher() as searcher:
            return {stored["slug"] for stored in searcher.all_stored_fields()}

    @contextmanager
    def _write_lock(self, timeout: float = 120.0) -> Iterator[None]:
        """Hold the one write lock shared by every process that writes this index."""
        with file_lock(self.root / WRITE_LOCK, wait=timeout) as locked:
            if not locked:
                raise IndexBusy("Chỉ mục đang được cập nhật bởi tiến trình khác.")
            yield

    def _switch_to(self, fresh: Path) -> None:
        """Point CURRENT at fresh atomically, then remove all but the previous build."""
        previous = None
        with suppress(IndexMissing):
            previous = self._current_dir()
        pointer = self.root / f".{CURRENT}.tmp"
        pointer.write_text(fresh.name, encoding="utf-8")
        os.replace(pointer, self.root / CURRENT)
        # Keep the previous build: a searcher in another process may still read it.
        keep = {fresh.name, previous.name if previous else ""}
        for old in self.root.glob("gen-*"):
            if old.name not in keep:
                shutil.rmtree(old, ignore_errors=True)

    def _current_dir(self) -> Path:
        """Return the live build's folder."""
        try:
            name = (self.root / CURRENT).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise IndexMissing("Chưa có chỉ mục tìm kiếm.") from None
        path = self.root / name
        if not name or not path.is_dir() or not any(path.glob("_MAIN_*.toc")):
            raise IndexMissing("Chưa có chỉ mục tìm kiếm.")
        try:
            schema = (path / SCHEMA_FILE).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            schema = ""
        if schema != SCHEMA_VERSION:  # built by an older version: unusable until rebuilt in full
            raise IndexMissing("Chỉ mục do phiên bản cũ dựng; cần lập chỉ mục lại toàn bộ.")
        return path

    # ---- reading -------------------------------------------------------------

    @contextmanager
    def _searcher(self) -> Iterator[object]:
        """Lend a searcher of the live build for one use, then take it back.

        Searchers are lent, not kept one per thread: Whoosh copies each segment's postings and
        term index into every searcher it opens (some 45 MB at 10 000 entries), so a process
        holds SEARCHES_AT_ONCE of them however many threads serve it. A thread that asks again
        while it holds one gets the same one.
        """
        lent = getattr(self._lent, "searcher", None)
        if lent is not None:
            yield lent
            return
        path = self._current_dir()
        with self._turns:
            searcher = self._lent.searcher = self._borrow(path)
            try:
                yield searcher
            finally:
                self._lent.searcher = None
                with self._idle_lock:
                    self._idle.append((path, searcher))

    def _borrow(self, path: Path) -> object:
        """Return an idle searcher still reading path's current version, or open a new one."""
        while True:
            with self._idle_lock:
                if not self._idle:
                    break
                cached_path, cached = self._idle.pop()
            if cached_path == path and cached.up_to_date():
                return cached
            cached.close()  # the index changed since: its version is gone for good
        # A new searcher, not Searcher.refresh(): refresh() reuses segment
        # readers by segment id and so keeps serving documents deleted since.
        searcher = whoosh_index.open_dir(path).searcher()
        self._folders[searcher] = path.name
        return searcher

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
        with self._searcher() as searcher:
            version = self._index_version(searcher)
            # Keys typed with the Vietnamese keyboard off ("thawps sangs") are read as what they
            # stand for, unless the entries use the word as typed ("AIS") or respelling is off.
            decoded = decode_query(query or "", version.lexicon(searcher, "all_f")) if respell else query or ""
            pq = self._with_places(parse_query(decoded, self.thesaurus))
            if years := year_only(pq):  # "năm 2019": the entries filed under that year
                filters = {**filters, "year": list(dict.fromkeys([*filters.get("year", []), *years]))}
                pq = dataclasses.replace(pq, units=(), years=())
            was_decoded = decoded != unicodedata.normalize("NFC", query or "")
            key = (self._version_key(searcher), pq.text, tuple(sorted((k, tuple(v)) for k, v in filters.items())),
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
                if (hit := _shown(searcher, d, score, marks)) is not None
            ]
            suggestion = self._suggest(searcher, found, hits) if not pq.empty else None
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
                u.corrections[0] if u.corrections else " ".join(s.exact for s in u.typed) for u in found.pq.units
            )
            if found.stage == "fuzzy"
            else None,
            words=tuple(" ".join(s.exact for s in u.typed) for u in required_units(pq)),
            decoded=pq.text if was_decoded else None,
            near=near,
        )
        if cache:
            self._results.put(key, results)
        return results

    def _version_key(self, searcher) -> tuple[str, int]:
        """Return what identifies the index version a searcher reads: its build folder and the
        number of Whoosh's last commit in it."""
        commit = searcher.reader().generation()  # Whoosh calls it generation; None for an empty index
        return (self._folders[searcher], -1 if commit is None else commit)

    def _version_now(self) -> IndexVersion:
        """Return the precomputed arrays of the live version (for measurements)."""
        with self._searcher() as searcher:
            return self._index_version(searcher)

    def _index_version(self, searcher) -> IndexVersion:
        """Return what is precomputed for the index version the searcher reads."""
        key = self._version_key(searcher)
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

    def _suggest(self, searcher, found: Execution, hits: list[Hit]) -> str | None:
        """Offer the query spelled as the best entries spell it, when it found little or needed fixing."""
        pq = found.pq
        known = self._index_version(searcher).lexicon(searcher, "all_x")
        # Syllables typed without marks, or with marks no entry uses ("thuôc"), may be respelled.
        loose = {s for s in pq.words if s.exact == s.folded or s.exact not in known}
        loose |= {s for u in pq.units if u.corrections for s in u.typed}
        if not pq.words or not loose or (found.stage == "all" and found.full > 2):
            return None
        wanted = []
        for syll in pq.words:
            options = {syll.folded}
            if syll in loose and len(syll.folded) >= 3:  # a dropped or wrong letter, too
                options |= near_terms(syll.folded)
            wanted.append((syll, options, syll in loose))
        stored = [searcher.stored_fields(d)["stored"] for d, _score in found.page[:3]]
        texts = [t for s in stored for t in (s["title"], s["summary"], s["body_text"])]
        best = _restore(wanted, texts)
        typed = " ".join(s.exact for s in pq.words)
        return best if best and best != typed else None

    def suggest_titles(self, prefix: str, limit: int = 8) -> list[tuple[str, str]]:
        """Return (slug, title) of published entries whose title words start like the query."""
        pq = parse_query(prefix)
        if not pq.words:
            return []
        *whole, last = [s.folded for s in pq.words]
        parts: list[Query] = [Term("title_f", t) for t in whole] + [Prefix("title_f", last)]
        with self._searcher() as searcher:
            hits = searcher.search(And(parts), limit=limit, filter=Term("status", "published"))
            return [(h["slug"], h["stored"]["title"]) for h in hits]

    def related(self, slug: str, limit: int = 5) -> list[Hit]:
        """Return published entries most like the given one, by their distinctive words."""
        with self._searcher() as searcher:
            # Scoring every entry that shares a key word is the costliest thing an entry page
            # does (80 ms at 10 000 entries): the answer only changes with the index version.
            key = (self._version_key(searcher), slug, limit)
            if (cached := self._related.get(key)) is not None:
                return list(cached)
            found = self._related_now(searcher, slug, limit)
            self._related.put(key, tuple(found))
            return found

    def _related_now(self, searcher, slug: str, limit: int) -> list[Hit]:
        """Find the entries most like slug in this searcher's version."""
        docnum = searcher.document_number(slug=slug)
        if docnum is None:
            return []
        stored = searcher.stored_fields(docnum)["stored"]
        text = stored.get("key_terms") or ""
        published = Term("status", "published")
        version = self._index_version(searcher)
        alike = similar(searcher, version, docnum, text, "words_f", limit) if text else []
        found = [hit for d, score in alike if (hit := _shown(searcher, d, score, Marks())) is not None]
        if len(found) < limit and stored.get("fields"):  # few shared words: same field
            same = Or([Term("field", f) for f in stored["fields"]])
            more = searcher.search(same, limit=limit * 2, filter=published, mask={docnum})
            seen = {h.slug for h in found}
            extra = [self._hit(h.fields(), 0.0, Marks()) for h in more if h["slug"] not in seen]
            found += extra[: limit - len(found)]
        return found

    @staticmethod
    def _hit(fields: dict, score: float, marked: Marks) -> Hit:
        """Turn stored fields into a Hit with highlighted title and snippet."""
        stored = fields["stored"]
        best = snippet(stored["body_text"], marked)
        if marked and "<mark>" not in best and "<mark>" in snippet(stored["summary"], marked):
            best = snippet(stored["summary"], marked)
        return Hit(
            slug=fields["slug"],
            title=stored["title"],
            title_html=highlight(stored["title"], marked),
            summary=stored["summary"],
            snippet_html=best if marked else snippet(stored["summary"], marked),
            unit=stored["unit"],
            province=stored["province"],
            fields=tuple(stored["fields"]),
            year=stored["year"],
            score=round(score, 4),
            level=stored.get("level", ""),
            adopted=stored.get("adopted", 0),
        )


def _shown(searcher, docnum: int, score: float, marks: Marks) -> Hit | None:
    """Return a document as a search result, or None (logged) if its stored data cannot be shown.

    One entry's odd data must cost only that entry its place in the results, never the page.
    """
    try:
        return SearchIndex._hit(searcher.stored_fields(docnum), score, marks)
    except Exception:
        log.exception("Indexed document %s cannot be shown; left out of the results", docnum)
        return None


def _restore(wanted: list[tuple[Syllable, set[str], bool]], texts: list[str]) -> str | None:
    """Spell the wanted syllables as the first text where they stand together does."""
    n = len(wanted)
    for text in texts:
        sylls = syllables(text)
        for i in range(len(sylls) - n + 1):
            if all(
                sylls[i + k].folded in options and (loose or sylls[i + k].exact == typed.exact)
                for k, (typed, options, loose) in enumerate(wanted)
            ):
                return " ".join(s.exact for s in sylls[i : i + n])
    return None


class _LRU:
    """A small thread-safe least-recently-used cache."""

    def __init__(self, size: int) -> None:
        """Keep at most size items."""
        self.size = size
        self._items: OrderedDict[object, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: object) -> object | None:
        """Return a cached value (None if absent), marking it recently used."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key: object, value: object) -> None:
        """Cache a value, evicting the least recently used beyond the size."""
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
