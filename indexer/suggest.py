"""Suggestions: "did you mean" spelled as the entries spell it, and titles as the user types."""

from __future__ import annotations

from whoosh.query import And, Prefix, Query, Term

from .analysis import Syllable, syllables
from .execute import Execution
from .query import near_terms, parse_query
from .version import IndexVersion

__all__ = ["did_you_mean", "title_suggestions"]


def did_you_mean(searcher, version: IndexVersion, found: Execution) -> str | None:
    """Offer the query spelled as the best entries spell it, when it found little or needed fixing."""
    pq = found.pq
    known = version.lexicon(searcher, "all_x")
    # Syllables typed without marks, or with marks no entry uses ("thuôc"), may be respelled.
    loose = {s for s in pq.words if s.exact == s.folded or s.exact not in known}
    loose |= {s for u in pq.parts if u.corrections for s in u.typed}
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


def title_suggestions(searcher, prefix: str, limit: int = 8) -> list[tuple[str, str]]:
    """Return (slug, title) of published entries whose title words start like the query."""
    pq = parse_query(prefix)
    if not pq.words:
        return []
    *whole, last = [s.folded for s in pq.words]
    parts: list[Query] = [Term("title_f", t) for t in whole] + [Prefix("title_f", last)]
    hits = searcher.search(And(parts), limit=limit, filter=Term("status", "published"))
    return [(h["slug"], h["stored"]["title"]) for h in hits]
