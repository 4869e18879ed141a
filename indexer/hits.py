"""What a search returns: hits with highlighted titles and snippets, a page of results."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from .snippets import Marks, highlight, snippet

__all__ = ["Hit", "SearchResults", "shown", "to_hit"]

log = logging.getLogger(__name__)


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
    found_in: str = ""  # the attached document the snippet comes from, when the entry's own text lacks the words


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


def to_hit(fields: dict, score: float, marked: Marks) -> Hit:
    """Turn stored fields into a Hit with highlighted title and snippet."""
    stored = fields["stored"]
    best = snippet(stored["body_text"], marked)
    if marked and "<mark>" not in best and "<mark>" in snippet(stored["summary"], marked):
        best = snippet(stored["summary"], marked)
    found_in = ""
    if marked and "<mark>" not in best and "<mark>" not in highlight(stored["title"], marked):
        for name, text in stored.get("files") or ():  # only in an attached document: say which, quote it
            quoted = snippet(text, marked)
            if "<mark>" in quoted:
                best, found_in = quoted, name
                break
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
        found_in=found_in,
    )


def shown(searcher, docnum: int, score: float, marks: Marks) -> Hit | None:
    """Return a document as a search result, or None (logged) if its stored data cannot be shown.

    One entry's odd data must cost only that entry its place in the results, never the page.
    """
    try:
        return to_hit(searcher.stored_fields(docnum), score, marks)
    except Exception:
        log.exception("Indexed document %s cannot be shown; left out of the results", docnum)
        return None
