"""Plan a search: every Whoosh query object it runs, built once from the parsed query.

parse (query.py) → plan (here) → match and rank (execute.py, ranking.py) → facets → hits.
A plan knows which words an entry must have and how each is matched (as typed, or with
any marks), the words of which one is enough for a partial match, the phrases and
exclusions, and the clauses that score an entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cached_property
from itertools import pairwise

from whoosh import query as whoosh_query
from whoosh.matching import ListMatcher, NullMatcher
from whoosh.query import And, Phrase, Query, Term

from .analysis import Syllable
from .query import CORRECTION, TYPED, ParsedQuery, Part, loose_parts, required_parts

__all__ = ["COMMON_SHARE", "DocSet", "Plan", "SteppingOr", "has_phrase", "typed_query"]

# A part whose folded form is in more than this share of entries does not make an entry
# a match on its own: it only ranks ("biên" is in nearly every entry of this knowledge base).
COMMON_SHARE = 0.5


class Plan:
    """The Whoosh queries of one search, each built once.

    respected(i) says whether part i of the query must match as typed (a real word typed with
    its marks, see query.marks_respected); common is the set of folded syllables found in most
    entries (they never make a partial match on their own).
    """

    def __init__(self, pq: ParsedQuery, common: frozenset[str], respected: Callable[[int], bool]) -> None:
        """Build what matching needs now; what only ranking needs is built when first asked for."""
        self.pq = pq
        self.required = required_parts(pq)
        self.matching = {u: as_typed_query(u) if respected(pq.parts.index(u)) else part_query(u) for u in self.required}
        self.loose = loose_parts(pq, common) if self.required else []
        self.loose_queries = {u: part_query(u) for u in self.loose}
        self.phrases = [phrase_query(p) for p in pq.phrases]
        self.excluded = [typed_query(p) for p in pq.excluded]  # as typed: "-bão" keeps "bảo vệ"
        self.typed = [as_typed_query(u) for u in self.required]
        # Entries with every word as typed rank first, when that tells them apart.
        marked = any(s.exact != s.folded for s in pq.words)
        self.typed_first = len(self.typed) > 1 or (len(self.typed) == 1 and marked)
        # Two typed syllables that some entry has as one segmented word ("biên cương").
        self.compounds = [Term("words_f", f"{a.folded}_{b.folded}") for a, b in pairwise(pq.words)]
        self.pairs = [f"{a.folded}_{b.folded}" for a, b in pairwise(pq.words)]

    @cached_property
    def clauses(self) -> list[Query]:
        """Return the clauses that score an entry (their scores add up)."""
        return scoring_clauses(self.pq, self.loose)

    @cached_property
    def syllables(self) -> list[str]:
        """Return every folded syllable of the words and their synonyms, for a cheap first pass."""
        forms = [form for u in [*self.required, *self.loose] for form, _w in u.forms()]
        return list(dict.fromkeys(s for form in forms for s in form))


class SteppingOr(whoosh_query.Or):
    """An Or that advances its parts together (skip_to), never preloading every match.

    Whoosh preloads all matches of an Or on small segments; when only a shortlist of
    entries is scored, that would evaluate every phrase over the whole index.
    """

    matcher_type = whoosh_query.Or.DEFAULT_MATCHER


class DocSet(Query):
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


def _seq(field: str, folded: list[str], boost: float = 1.0) -> Query:
    """Match one syllable, or several side by side.

    In the whole text, side by side means the indexed pairs of adjacent syllables (exact
    for two syllables, and without reading positions, which is what makes phrases slow);
    titles keep real phrases; in summary and unit/tags, all the syllables suffice.
    """
    if len(folded) == 1:
        return Term(field, folded[0], boost=boost)
    if field == "all_f":
        pairs = [Term("all_p", f"{a}_{b}") for a, b in pairwise(folded)]
        return pairs[0].with_boost(boost) if len(pairs) == 1 else And(pairs, boost=boost)
    if field == "title_f":
        return Phrase(field, folded, boost=boost)
    return And([Term(field, t) for t in folded], boost=boost)


def part_query(part: Part, field: str = "all_f") -> Query:
    """Match any form of a part."""
    options = [_seq(field, form) for form, _weight in part.forms()]
    return options[0] if len(options) == 1 else SteppingOr(options)


def phrase_query(phrase: tuple[Syllable, ...], field: str = "all_f") -> Query:
    """Match a quoted phrase (or an excluded word) in order."""
    return _seq(field, [s.folded for s in phrase])


def typed_query(typed: tuple[Syllable, ...]) -> Query:
    """Match syllables as typed: those typed with diacritics must carry exactly those."""
    if all(s.exact == s.folded for s in typed):
        return _seq("all_f", [s.folded for s in typed])
    terms = [Term("all_x", s.exact) if s.exact != s.folded else Term("all_f", s.folded) for s in typed]
    return terms[0] if len(terms) == 1 else And([_seq("all_f", [s.folded for s in typed]), *terms])


def as_typed_query(part: Part) -> Query:
    """Match a part as typed, or any of its synonyms and corrections."""
    others = [_seq("all_f", form) for form, weight in part.forms() if weight != TYPED]
    exact = typed_query(part.typed)
    return SteppingOr([exact, *others]) if others else exact


def scoring_clauses(pq: ParsedQuery, loose: list[Part]) -> list[Query]:
    """Return what scores a matching entry, clause by clause (their scores add up): its words
    (a synonym or a guessed spelling counting less than the word typed), then title > summary >
    unit/tags > body, and phrases over scattered words."""
    words = [
        SteppingOr([_seq("all_f", form, weight) for form, weight in u.forms()]) if len(u.forms()) > 1 else part_query(u)
        for u in loose
    ]
    return words + [phrase_query(p) for p in pq.phrases] + _ranking(pq)


def _ranking(pq: ParsedQuery) -> list[Query]:
    """Return optional clauses: title > summary > unit/tags > body; phrases over scattered words."""
    boosts: list[Query] = []
    for part in pq.parts:
        for form, weight in part.forms():
            if weight == CORRECTION:  # a guessed spelling only counts in the text itself
                continue
            boosts.append(_seq("title_f", form, 3.0 * weight))
            boosts.append(_seq("summary_f", form, 1.5 * weight))
            boosts.append(_seq("meta_f", form, 1.0 * weight))
    for phrase in pq.phrases:
        folded = [s.folded for s in phrase]
        boosts += [_seq("title_f", folded, 4.0), _seq("summary_f", folded, 1.5), _seq("meta_f", folded, 1.0)]
    seq = [s.folded for s in pq.words]
    if len(seq) > 1:
        boosts.append(Phrase("title_f", seq, boost=6.0))
        boosts.append(_seq("all_f", seq, boost=3.0))
        # Adjacent syllables as words: "bien cuong" meets the segmented word "biên_cương".
        pairs = dict.fromkeys(f"{a}_{b}" for a, b in pairwise(seq))
        boosts += [Term("words_f", p, boost=1.5) for p in pairs]
        # Part of the query side by side ranks above the same words scattered (proximity).
        if len(pairs) > 1:
            boosts += [Term("all_p", p) for p in pairs]
    # Typed diacritics: entries whose words carry exactly those marks come first.
    for s in dict.fromkeys(s for s in pq.words if s.exact != s.folded):
        boosts.append(Term("title_x", s.exact, boost=2.0))
        boosts.append(Term("all_x", s.exact, boost=1.0))
    boosts += [Term("codes", c, boost=5.0) for c in pq.codes]
    # A province named in the query: entries filed under it (or a former name of it) first.
    boosts += [Term("province", p, boost=4.0) for p in pq.places]
    # A year named in the query: entries of that year first.
    boosts += [Term("year", y, boost=4.0) for y in pq.years]
    return boosts


def has_phrase(query: Query) -> bool:
    """Return True if a query reads positions (a phrase anywhere inside it)."""
    return isinstance(query, Phrase) or any(has_phrase(q) for q in query.children())
