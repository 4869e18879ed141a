"""Keep a Whoosh index on disk: build it whole, update it in place, search it."""

from __future__ import annotations

import dataclasses
import fcntl
import itertools
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import sorting
from whoosh.analysis import RegexTokenizer
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.query import And, AndMaybe, Every, Or, Phrase, Query, Term

from .analysis import analyze
from .snippets import highlight, snippet
from .text import normalize_text

__all__ = [
    "FACETS",
    "Document",
    "Hit",
    "IndexBusy",
    "IndexMissing",
    "SearchIndex",
    "SearchResults",
]

FACETS = ("field", "province", "unit", "year")
CURRENT = "CURRENT"  # names the live generation directory
WRITE_LOCK = "write.lock"


class IndexMissing(RuntimeError):
    """No index has been built yet."""


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

    @property
    def pages(self) -> int:
        """Return the number of pages."""
        return max(1, -(-self.total // self.per_page))


def _schema() -> Schema:
    """Return the schema: syllable fields for matching, word fields for ranking, facets."""
    # Terms are produced by our own analysis and joined with spaces, so Whoosh
    # only splits on spaces: no stop words, no minimum length, no lowercasing.
    terms = RegexTokenizer(r"[^ ]+")
    # Facet values may contain spaces and commas ("Phòng, chống tội phạm"):
    # several values of one field are joined by newlines.
    values = RegexTokenizer(r"[^\n]+")
    return Schema(
        slug=ID(stored=True, unique=True),
        title_f=TEXT(analyzer=terms, phrase=True, field_boost=3.0),
        title_x=TEXT(analyzer=terms, phrase=False, field_boost=3.0),
        text_f=TEXT(analyzer=terms, phrase=True),
        text_x=TEXT(analyzer=terms, phrase=False),
        words_f=TEXT(analyzer=terms, phrase=False),
        words_x=TEXT(analyzer=terms, phrase=False),
        field=KEYWORD(analyzer=values),
        province=KEYWORD(analyzer=values),
        unit=KEYWORD(analyzer=values),
        year=KEYWORD(analyzer=values),
        status=ID(),
        year_sort=NUMERIC(int, sortable=True),
        title_sort=ID(sortable=True),
        stored=STORED(),
    )


def _fields_of(doc: Document) -> dict[str, object]:
    """Analyse one document into the values of the schema's fields."""
    title = analyze(doc.title)
    meta = " . ".join([doc.unit, doc.province or "", *doc.fields, *doc.tags])
    text = analyze(f"{doc.summary}\n\n{doc.body_text}\n\n{meta}")
    return {
        "slug": doc.slug,
        "title_f": " ".join(s.folded for s in title.syllables),
        "title_x": " ".join(s.exact for s in title.syllables),
        "text_f": " ".join(s.folded for s in text.syllables),
        "text_x": " ".join(s.exact for s in text.syllables),
        "words_f": " ".join(title.word_terms(True) + text.word_terms(True)),
        "words_x": " ".join(title.word_terms(False) + text.word_terms(False)),
        "field": "\n".join(doc.fields),
        "province": doc.province or "",
        "unit": doc.unit,
        "year": str(doc.year) if doc.year else "",
        "status": doc.status,
        "year_sort": doc.year or 0,
        "title_sort": " ".join(s.folded for s in title.syllables),
        "stored": dataclasses.asdict(doc),
    }


def _document(stored: dict[str, object]) -> Document:
    """Rebuild a Document from its stored copy."""
    values = dict(stored)
    values["fields"] = tuple(values.get("fields") or ())
    values["tags"] = tuple(values.get("tags") or ())
    return Document(**values)


@dataclass(frozen=True)
class _UserQuery:
    """A query as typed, reduced to syllables and quoted phrases."""

    text: str
    folded: tuple[str, ...]
    exact: tuple[str, ...]  # only the syllables typed with diacritics
    phrases: tuple[tuple[str, ...], ...]
    typed: frozenset[str]  # every syllable as typed (lowercase, canonical), for highlights

    @classmethod
    def parse(cls, text: str) -> _UserQuery:
        """Read a query; only double quotes mean something, every other symbol is a separator."""
        text = normalize_text(text or "").strip()[:500]
        phrases = []
        for quoted in re.findall(r'"([^"]*)"', text):
            sylls = analyze(quoted, segment=False).syllables
            if len(sylls) > 1:
                phrases.append(tuple(s.folded for s in sylls))
        sylls = analyze(text, segment=False).syllables[:32]
        folded = tuple(dict.fromkeys(s.folded for s in sylls))
        exact = tuple(dict.fromkeys(s.exact for s in sylls if s.exact != s.folded))
        typed = frozenset(s.exact for s in sylls)
        return cls(text, folded, exact, tuple(phrases), typed)

    def sequence(self) -> list[str]:
        """Return the folded syllables in typed order, repeats kept, for phrases."""
        return [s.folded for s in analyze(self.text, segment=False).syllables[:32]]


def _match_query(uq: _UserQuery, conjunctive: bool) -> Query:
    """Build the Whoosh query: every syllable must match (or any, if relaxed); extras rank."""
    per_term = [Or([Term("title_f", t), Term("text_f", t)]) for t in uq.folded]
    required: list[Query] = [And(per_term) if conjunctive else Or(per_term)]
    for phrase in uq.phrases:
        required.append(Or([Phrase("title_f", list(phrase)), Phrase("text_f", list(phrase))]))
    boosts: list[Query] = []
    seq = uq.sequence()
    if len(seq) > 1:
        boosts += [Phrase("title_f", seq, boost=4.0), Phrase("text_f", seq, boost=2.0)]
        # Adjacent syllables of the query as words: "bien cuong" meets the
        # segmented word "biên_cương" without segmenting the short query.
        pairs = {f"{a}_{b}" for a, b in itertools.pairwise(seq)}
        boosts += [Term("words_f", p, boost=1.5) for p in sorted(pairs)]
    # Typed diacritics: prefer entries whose words carry exactly those marks.
    boosts += [Term("title_x", t, boost=1.5) for t in uq.exact]
    boosts += [Term("text_x", t, boost=1.0) for t in uq.exact]
    base = And(required) if len(required) > 1 else required[0]
    return AndMaybe(base, Or(boosts)) if boosts else base


def _filter_query(filters: dict[str, list[str]], statuses: tuple[str, ...], skip: str = "") -> Query:
    """Build the filter: any value within a facet, every facet, and an allowed status."""
    parts: list[Query] = [Or([Term("status", s) for s in statuses])]
    for name, values in filters.items():
        if name != skip and values:
            parts.append(Or([Term(name, v) for v in values]))
    return And(parts)


class SearchIndex:
    """An index directory holding generations of a Whoosh index, one of them live."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        """Remember where the index lives; nothing is opened until needed."""
        self.root = Path(root)
        self._local = threading.local()

    # ---- writing -------------------------------------------------------------

    def exists(self) -> bool:
        """Return True if a live generation exists."""
        try:
            self._current_dir()
        except IndexMissing:
            return False
        return True

    def build(self, docs: Iterable[Document]) -> int:
        """Index docs into a fresh generation and make it live atomically; return the count."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self._write_lock():
            fresh = Path(tempfile.mkdtemp(prefix="gen-", dir=self.root))
            try:
                ix = whoosh_index.create_in(fresh, _schema())
                count = 0
                with ix.writer() as writer:
                    for doc in docs:
                        writer.add_document(**_fields_of(doc))
                        count += 1
                ix.close()
            except BaseException:
                shutil.rmtree(fresh, ignore_errors=True)
                raise
            self._switch_to(fresh)
        return count

    def update(self, upserts: Iterable[Document], deletes: Iterable[str] = ()) -> None:
        """Add or replace docs and delete slugs in the live generation, in one commit."""
        with self._write_lock():
            ix = whoosh_index.open_dir(self._current_dir())
            try:
                with ix.writer(timeout=30.0) as writer:
                    for slug in deletes:
                        writer.delete_by_term("slug", slug)
                    for doc in upserts:
                        writer.update_document(**_fields_of(doc))
            finally:
                ix.close()

    def documents(self, slugs: Iterable[str]) -> list[Document]:
        """Return the indexed documents of the given slugs, as they were indexed."""
        wanted = set(slugs)
        if not wanted:
            return []
        with self._searcher() as searcher:
            hits = searcher.search(Or([Term("slug", s) for s in sorted(wanted)]), limit=None)
            return [_document(hit["stored"]) for hit in hits]

    def slugs(self) -> set[str]:
        """Return the slugs of every indexed document."""
        with self._searcher() as searcher:
            return {stored["slug"] for stored in searcher.all_stored_fields()}

    @contextmanager
    def _write_lock(self, timeout: float = 120.0) -> Iterator[None]:
        """Hold the one write lock shared by every process that writes this index."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / WRITE_LOCK, "a+") as handle:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise IndexBusy("Chỉ mục đang được cập nhật bởi tiến trình khác.") from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _switch_to(self, fresh: Path) -> None:
        """Point CURRENT at fresh atomically, then remove all but the previous generation."""
        previous = None
        with suppress(IndexMissing):
            previous = self._current_dir()
        pointer = self.root / f".{CURRENT}.tmp"
        pointer.write_text(fresh.name, encoding="utf-8")
        os.replace(pointer, self.root / CURRENT)
        # Keep the previous generation: a searcher in another process may still read it.
        keep = {fresh.name, previous.name if previous else ""}
        for old in self.root.glob("gen-*"):
            if old.name not in keep:
                shutil.rmtree(old, ignore_errors=True)

    def _current_dir(self) -> Path:
        """Return the live generation's directory."""
        try:
            name = (self.root / CURRENT).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise IndexMissing("Chưa có chỉ mục tìm kiếm.") from None
        path = self.root / name
        if not name or not path.is_dir():
            raise IndexMissing("Chưa có chỉ mục tìm kiếm.")
        return path

    # ---- reading -------------------------------------------------------------

    @contextmanager
    def _searcher(self) -> Iterator[object]:
        """Yield this thread's searcher, reopened when the live generation changed."""
        path = self._current_dir()
        cached = getattr(self._local, "cached", None)
        if cached is not None and cached[0] == path and cached[1].up_to_date():
            searcher = cached[1]
        else:
            if cached is not None:
                cached[1].close()
            # A new searcher, not Searcher.refresh(): refresh() reuses segment
            # readers by segment id and so keeps serving documents deleted since.
            searcher = whoosh_index.open_dir(path).searcher()
            self._local.cached = (path, searcher)
        yield searcher

    def search(
        self,
        query: str = "",
        filters: dict[str, list[str]] | None = None,
        page: int = 1,
        per_page: int = 10,
        statuses: tuple[str, ...] = ("published",),
    ) -> SearchResults:
        """Search published entries; an empty query lists them all, newest year first."""
        filters = {k: [v for v in vs if v] for k, vs in (filters or {}).items() if k in FACETS}
        uq = _UserQuery.parse(query)
        page = max(1, page)
        with self._searcher() as searcher:
            results, relaxed = self._run(searcher, uq, filters, statuses, page, per_page)
            total = len(results.results)
            if (page - 1) * per_page >= total > 0:  # past the last page: show the last one
                page = -(-total // per_page)
                results, relaxed = self._run(searcher, uq, filters, statuses, page, per_page)
            facets = self._facets(searcher, results, uq, relaxed, filters, statuses)
            hits = [self._hit(h, uq.typed) for h in results]
        return SearchResults(uq.text, total, page, per_page, hits, facets, relaxed)

    def _run(self, searcher, uq, filters, statuses, page, per_page):
        """Run the main search: all words first, then any word if nothing had all of them."""
        groups = [sorting.FieldFacet(f, allow_overlap=True) for f in FACETS]
        kwargs = {
            "filter": _filter_query(filters, statuses),
            "groupedby": dict(zip(FACETS, groups, strict=False)),
            "maptype": sorting.Count,
        }
        if not uq.folded:
            order = sorting.MultiFacet(
                [sorting.FieldFacet("year_sort", reverse=True), sorting.FieldFacet("title_sort")]
            )
            return searcher.search_page(Every(), page, per_page, sortedby=order, **kwargs), False
        results = searcher.search_page(_match_query(uq, True), page, per_page, **kwargs)
        if len(results.results) or len(uq.folded) < 2:
            return results, False
        return searcher.search_page(_match_query(uq, False), page, per_page, **kwargs), True

    def _facets(self, searcher, results, uq, relaxed, filters, statuses):
        """Count facet values; a filtered facet is counted as if its own filter were off."""
        counts = {}
        for name in FACETS:
            groups = results.results.groups(name)
            if filters.get(name):
                q = Every() if not uq.folded else _match_query(uq, not relaxed)
                other = searcher.search(
                    q,
                    limit=1,
                    filter=_filter_query(filters, statuses, skip=name),
                    groupedby={name: sorting.FieldFacet(name, allow_overlap=True)},
                    maptype=sorting.Count,
                )
                groups = other.groups(name)
            counts[name] = sorted(
                ((v, n) for v, n in groups.items() if v),
                key=lambda vn: (-vn[1], str(vn[0])) if name != "year" else (-int(vn[0]), 0),
            )
        return counts

    @staticmethod
    def _hit(hit, terms: frozenset[str]) -> Hit:
        """Turn a Whoosh hit into a Hit with highlighted title and snippet."""
        stored = hit["stored"]
        text = stored["body_text"]
        best = snippet(text, terms)
        if terms and "<mark>" not in best and "<mark>" in snippet(stored["summary"], terms):
            best = snippet(stored["summary"], terms)
        return Hit(
            slug=hit["slug"],
            title=stored["title"],
            title_html=highlight(stored["title"], terms),
            summary=stored["summary"],
            snippet_html=best if terms else snippet(stored["summary"], terms),
            unit=stored["unit"],
            province=stored["province"],
            fields=tuple(stored["fields"]),
            year=stored["year"],
            # Sorted listings (empty query) carry a sort key, not a relevance score.
            score=round(hit.score, 4) if isinstance(hit.score, float) else 0.0,
        )
