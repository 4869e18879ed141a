"""Rank: pick a shortlist cheaply, score only it in full, exactly as Whoosh's BM25F scores.

Scoring every matching entry is what makes a naive Whoosh setup slow when common syllables
("biên", "phòng", "đồn") occur in nearly every entry. A first pass over the short fields
(title, summary, unit and tags) picks SHORTLIST entries; the plan's scoring clauses are then
summed over those alone, from each term's postings decoded once per index version, and the
phrases (the costliest: positions) only for the leaders. An entry's place is decided by its
tier first (every word as typed, every word, some words), then by its score.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left
from collections.abc import Iterator

from whoosh import query as whoosh_query
from whoosh.query import And, Phrase, Query, Term
from whoosh.scoring import bm25

from .plan import COMMON_SHARE, DocSet, Plan, has_phrase
from .version import IndexVersion

__all__ = ["SHORTLIST", "TERM_POSTINGS", "TERM_SHARE", "TermScores", "rank", "walk"]

SHORTLIST = 50  # entries ranked in full: the first five pages
PRECISE = 30  # of which the leaders are checked for phrases too


def rank(
    searcher, version: IndexVersion, plan: Plan, every: set[int], matched: set[int], needed: int, first: set[int]
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
            shortlist |= _shortlist(searcher, version, plan, group - shortlist, SHORTLIST - len(shortlist))
    positional = [c for c in plan.clauses if has_phrase(c)]
    scores = _score_each(searcher, version, [c for c in plan.clauses if not has_phrase(c)], shortlist)
    # Every word as typed, then every word, then some: the tier decides, the score orders within.
    tier = {d: 2 if d in first else 1 if d in every else 0 for d in shortlist}
    # Phrases read positions, the slowest thing to look up: only for the leading entries.
    leaders = set(sorted(scores, key=lambda d: (-tier[d], -scores[d], d))[:PRECISE])
    for docnum, extra in _score_each(searcher, version, positional, leaders).items():
        scores[docnum] += extra
    ranked = sorted(scores.items(), key=lambda ds: (-tier[ds[0]], -ds[1], ds[0]))
    if needed > len(ranked):
        rest = sorted(matched - shortlist, key=lambda d: (d not in first, d not in every, d))
        ranked += [(d, 0.0) for d in rest[: needed - len(ranked)]]
    return ranked


def walk(searcher, query: Query, only: list[int] | None = None, context=None) -> Iterator[tuple[int, float]]:
    """Yield (global document number, score) of each document a query matches, from Whoosh's matchers.

    With only (ascending global numbers), just those documents are visited (skip_to).
    """
    context = context if context is not None else searcher.context()
    for leaf, offset in searcher.leaf_searchers():
        matcher = query.matcher(leaf, context)
        if only is None:
            while matcher.is_active():
                yield offset + matcher.id(), matcher.score()
                matcher.next()
            continue
        end = offset + leaf.doc_count_all()
        for docnum in (d - offset for d in only if offset <= d < end):
            if not matcher.is_active():
                break
            matcher.skip_to(docnum)
            if matcher.is_active() and matcher.id() == docnum:
                yield offset + docnum, matcher.score()


def bm25_each(known: tuple, docs: list[int] | set[int] | frozenset[int]) -> Iterator[tuple[int, float]]:
    """Yield (document, unboosted score) for each of docs that has a term, as Whoosh's BM25F scores it.

    known is IndexVersion.bm25's (postings, lengths, idf, avgfl, B, K1). docs is either an
    ascending list (a shortlist: each looked up by a forward bisection) or a set (the term's
    postings are walked and kept if in it).
    """
    postings, lengths, idf, avgfl, b, k1 = known
    ids, weights = postings.ids, postings.weights
    if isinstance(docs, list):
        i, size = 0, len(ids)
        for docnum in docs:
            i = bisect_left(ids, docnum, i)
            if i == size:
                return
            if ids[i] == docnum:
                yield docnum, bm25(idf, weights[i], lengths[docnum], avgfl, b, k1)
        return
    for docnum, weight in zip(ids, weights, strict=True):
        if docnum in docs:
            yield docnum, bm25(idf, weight, lengths[docnum], avgfl, b, k1)


def _score_each(searcher, version: IndexVersion, clauses: list[Query], docs: set[int]) -> dict[int, float]:
    """Sum each clause's score over docs, clause by clause.

    This is what an Or of the clauses would score, but Whoosh's union of many matchers, and
    even its collectors, cost several times more than walking each clause's matcher over a
    short list. A word found in most entries scores next to nothing (its idf is near zero)
    yet costs the most to look up in scattered entries, so such terms are left out.
    """
    scores = dict.fromkeys(docs, 0.0)
    limit = COMMON_SHARE * max(1, searcher.doc_count())
    only = DocSet(docs)
    terms = TermScores(searcher, docs, version)
    for clause in clauses:
        clause = _without_common(searcher, version, clause, limit)
        if clause is None:
            continue
        found = terms.evaluate(clause)
        if found is not None:
            for docnum, score in found.items():
                scores[docnum] += score
            continue
        for docnum, score in walk(searcher, And([only, clause])):  # e.g. a phrase: Whoosh reads the positions
            scores[docnum] += score
    return scores


class TermScores:
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
        self.memo: dict[tuple[str, str], dict[int, float]] = {}

    def term(self, fieldname: str, text: str) -> dict[int, float]:
        """Return the unboosted score of a term in each shortlisted entry that has it."""
        key = (fieldname, text)
        found = self.memo.get(key)
        if found is not None:
            return found
        found = self.memo[key] = {}
        known = self.version.bm25(self.searcher, self.context.weighting, fieldname, text) if self.version else None
        if known is not None:
            found.update(bm25_each(known, self.docs))
        else:
            found.update(walk(self.searcher, Term(fieldname, text), self.docs, self.context))
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
        elif isinstance(query, whoosh_query.Or) and query.scale is None:
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
    if isinstance(query, (And, whoosh_query.Or)):
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
TERM_POSTINGS = 1000
TERM_SHARE = 0.1


def _shortlist(searcher, version: IndexVersion, plan: Plan, within: set[int], size: int) -> set[int]:
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
    cap = max(TERM_POSTINGS, TERM_SHARE * searcher.doc_count())
    decoded = version.aligned(searcher)  # the version's decoded postings serve this searcher
    for field, boost in _TIERS:
        candidates = plan.pairs if field == "all_p" else plan.syllables
        terms = [t for t in candidates if 0 < version.frequency(searcher, field, t) <= cap]
        scores: dict[int, float] = {}
        for term in terms:  # walk each short posting list once, scoring what is still wanted
            known = version.bm25(searcher, context.weighting, field, term) if decoded else None
            # The version's decoded postings, scored as Whoosh scores them; else Whoosh's matchers.
            found = bm25_each(known, within) if known is not None else walk(searcher, Term(field, term), None, context)
            for docnum, score in found:
                if docnum in within and docnum not in picked:
                    scores[docnum] = scores.get(docnum, 0.0) + score * boost
        best = sorted(scores, key=lambda d: (-scores[d], d))[: size - len(picked)]
        picked.update(best)
        if len(picked) >= size:
            return picked
    return picked | set(itertools.islice(sorted(within - picked), size - len(picked)))
