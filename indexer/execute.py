"""Run a parsed query: match with sets, fall back on corrected typos or partial matches, rank, count.

parse (query.py) → plan (plan.py) → match (here: unscored document sets, remembered per index
version) → rank (ranking.py: only a shortlist is scored) → facets (facets.py). Entries with
every word come first; if none has them all, likely typos are corrected; failing that, entries
with most of the words are shown as partial matches, unless the query names something no entry
has, which the page then says plainly.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from whoosh.query import Term

from .facets import facet_counts
from .plan import Plan
from .query import ParsedQuery, corrections, marks_respected
from .ranking import rank
from .version import IndexVersion

__all__ = ["Execution", "execute"]

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
    facets = version.facets
    common = version.common(searcher)
    status = facets.allowed({}, statuses)
    known_exact = version.lexicon(searcher, "all_x")

    def adjacent(left: str, right: str) -> bool:
        """Return True if two folded syllables stand side by side in some entry."""
        return bool(version.docs(searcher, Term("all_p", f"{left}_{right}")) & status)

    def plan_for(query: ParsedQuery) -> Plan:
        """Plan a query: a real word typed with its marks is matched as typed."""
        return Plan(query, common, lambda i: marks_respected(query, i, known_exact, adjacent))

    plan = plan_for(pq)
    excluded = set().union(*(version.docs(searcher, q) for q in plan.excluded)) if plan.excluded else set()
    phrase_sets = [version.docs(searcher, q) for q in plan.phrases]  # the same in every plan

    def sets_for(plan: Plan) -> tuple[set[int], set[int], dict]:
        """Return (every-word set, some-word set, each required part's entries), before facet filters."""
        part_sets = {u: version.docs(searcher, q) for u, q in plan.matching.items()}
        required = bool(part_sets)
        every = set.intersection(*part_sets.values(), *phrase_sets) if required or phrase_sets else set(status)
        some = set().union(*(part_sets.get(u) or version.docs(searcher, q) for u, q in plan.loose_queries.items()))
        if phrase_sets:
            some = (some or set(status)).intersection(*phrase_sets)
        return (every & status) - excluded, ((some | every) & status) - excluded, part_sets

    def named(plan: Plan, part_sets: dict) -> set[int]:
        """Return the entries that have a word of the query made of several syllables: one the
        vocabularies know ("thắp sáng"), or two typed syllables some entry has as one word."""
        found = set().union(*(docs for u, docs in part_sets.items() if len(u.typed) > 1 or u.synonyms))
        for compound in plan.compounds:
            found |= version.docs(searcher, compound)
        return found

    allowed = facets.allowed(filters, statuses)
    every, some, part_sets = sets_for(plan)
    stage, near = "all", []
    if not every & allowed:
        fixed = corrections(pq, version.lexicon(searcher, "all_f"), adjacent=adjacent, known_exact=known_exact)
        if respell and fixed != pq:
            fixed_plan = plan_for(fixed)
            found = sets_for(fixed_plan)
            if found[0] & allowed:
                pq, plan, (every, some, part_sets), stage = fixed, fixed_plan, found, "fuzzy"
        if stage == "all":
            stage = "any"
            some, near = _partial(part_sets, status, some, allowed, lambda: named(plan, part_sets))
    matched = some & allowed
    counts = facet_counts(facets, some, filters, statuses, matched)
    # Entries with every word as typed (diacritics included where typed) rank first.
    first = set()
    if plan.typed_first:  # looked up only when it can tell entries apart
        first = set.intersection(*(version.docs(searcher, q) for q in plan.typed)) & matched
    start = (page - 1) * per_page
    if sort in version.orders:
        full = every & allowed
        position = version.positions[sort]
        ordered = sorted(matched, key=lambda d: (d not in full, position[d]))[start : start + per_page]
        shown = [(d, 0.0) for d in ordered]
    else:
        ranked = rank(searcher, version, plan, every & allowed, matched, start + per_page, first)
        shown = ranked[start : start + per_page]
    lacks = {d: _lacking(part_sets, d) for d, _score in shown}
    return Execution(pq, stage, shown, len(matched), len(every & allowed), counts, lacks, near)


def _lacking(part_sets: dict, docnum: int) -> tuple[str, ...]:
    """Return the words of the query (as typed) that an entry does not have."""
    return tuple(" ".join(s.exact for s in u.typed) for u, docs in part_sets.items() if docnum not in docs)


def _partial(
    part_sets: dict, status, some: set[int], allowed, named: Callable[[], set[int]]
) -> tuple[set[int], list[int]]:
    """Return the entries that may be shown as a partial match, and the closest of the others.

    A partial match holds most of what the query asks, each word weighed by how rare it is, and
    in a short query the rarest word itself. A query of a few words with one that no entry has in
    any form asks for something the knowledge base lacks ("nuôi gà thả vườn"): entries that share
    only its other words ("nuôi", "vườn") are not shown; the page then says that nothing was
    found, and offers the closest entries' titles as suggestions only.
    """
    if not part_sets:
        return some, []
    present = {u: docs & status for u, docs in part_sets.items()}  # each word's entries, once
    found = {u: docs for u, docs in present.items() if docs}
    lacking = len(found) < len(present) and len(present) <= LACKING_QUERY
    n = len(status)
    weights = {u: math.log((n + 1) / (len(docs) + 0.5)) for u, docs in present.items()}
    share = PARTIAL_SHARE if len(present) <= SHORT_QUERY else LONG_PARTIAL_SHARE
    needed = share * sum(weights.values())
    held: Counter[int] = Counter()
    for part, docs in found.items():
        for docnum in docs & some:
            held[docnum] += weights[part]
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


def _listing(version: IndexVersion, pq: ParsedQuery, filters, statuses, page, per_page, sort="newest") -> Execution:
    """List every entry allowed by the filters, in the order asked (newest year first)."""
    allowed = version.facets.allowed(filters, statuses)
    facets = facet_counts(version.facets, version.facets.allowed({}, statuses), filters, statuses, allowed)
    start = (page - 1) * per_page
    ordered = [d for d in version.orders.get(sort, version.newest) if d in allowed][start : start + per_page]
    return Execution(pq, "all", [(d, 0.0) for d in ordered], len(allowed), len(allowed), facets)
