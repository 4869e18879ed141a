"""Plain Whoosh over the index the site builds: the yardstick for every custom search layer.

The same on-disk index (same schema, same analysis at indexing time) searched the way a Whoosh
application would: the words folded by indexer's public `syllables` (the index's fields hold
folded syllables, split on spaces), parsed by `whoosh.qparser.MultifieldParser` over the title,
summary, unit/tags and text fields with the site's field weights, every word required (any word
if that finds nothing, as the FTS5 yardstick does), filtered to published entries and the chosen
facet values, ranked by Whoosh's default BM25F and counted by `searcher.search(...,
groupedby=...)`. One page of results is shown with the site's snippet function.

What it leaves out is exactly what indexer/ adds: Telex/VNI decoding, synonyms and everyday
wording, typo corrections, the partial-match rule, respecting typed diacritics, the matching
by sets with a per-version memo, per-version facet arrays, the shortlist, and the result cache.
Quoted phrases use the index's pairs of adjacent syllables (`all_p`): its text field has no
positions. Only public Whoosh API is used; indexer's Whoosh speed-ups stay off unless another
part of the process turns them on.
"""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import sorting
from whoosh.qparser import AndGroup, MultifieldParser, OrGroup
from whoosh.query import And, Every, Or, Query, Term

from indexer import FACETS, normalize_text, parse_query, snippet, syllables

FIELDS = ("title_f", "summary_f", "meta_f", "all_f")
BOOSTS = {"title_f": 3.0, "summary_f": 1.5, "meta_f": 1.0, "all_f": 1.0}  # as indexer/plan.py ranks
FACET_VALUES = 30  # values listed per facet, as the site lists them
# Read a query as the site does: only double quotes and a leading minus mean something.
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')


def live_folder(root: Path) -> Path:
    """Return the live build folder of an index directory (named by its CURRENT file)."""
    return root / (root / "CURRENT").read_text(encoding="utf-8").strip()


def query_text(text: str) -> tuple[str, str]:
    """Return (positive, negative) Whoosh query strings of folded syllables for what was typed."""
    positive: list[str] = []
    negative: list[str] = []
    for match in _TOKEN.finditer(" ".join(normalize_text(text or "").split())):
        minus, quoted, word = match.group(1), match.group(2), match.group(3)
        if word is not None and word.startswith("-") and len(word) > 1:
            minus, quoted, word = "-", word[1:], None
        folded = [s.folded for s in syllables(quoted if word is None else word)]
        if not folded:
            continue
        if word is None and len(folded) > 1:  # "a phrase": each adjacent pair, as indexed
            parts = [f"all_p:{a}_{b}" for a, b in pairwise(folded)]
            terms = ["(" + " AND ".join(parts) + ")"]
        else:
            terms = folded
        (negative if minus else positive).extend(terms)
    return " ".join(positive), " OR ".join(negative)


class PlainWhoosh:
    """Search an index directory the site built, with Whoosh's own searcher and facets."""

    def __init__(self, root: Path) -> None:
        """Open the live build and one searcher."""
        self.ix = whoosh_index.open_dir(str(live_folder(Path(root))))
        self.searcher = self.ix.searcher()
        schema = self.ix.schema
        self.every_word = MultifieldParser(FIELDS, schema, fieldboosts=BOOSTS, group=AndGroup)
        self.any_word = MultifieldParser(FIELDS, schema, fieldboosts=BOOSTS, group=OrGroup)
        self.negative = MultifieldParser(["all_f"], schema, group=OrGroup)

    def close(self) -> None:
        """Close the searcher and the index."""
        self.searcher.close()
        self.ix.close()

    def search(
        self, query: str, filters: dict[str, list[str]] | None = None, page: int = 1, per_page: int = 10
    ) -> dict:
        """Every word first, any word if that finds nothing; filters, facets and one page."""
        positive, negative = query_text(query)
        marks = parse_query(query).marks()  # what snippets mark, as the site marks it
        found = None
        for parser in (self.every_word, self.any_word) if positive else (None,):
            q: Query = parser.parse(positive) if parser else Every()
            found = self._run(q, negative, filters or {}, page, per_page, marks, sort=parser is None)
            if found["total"]:
                break
        return found

    def _run(self, q: Query, negative: str, filters: dict, page: int, per_page: int, marks, sort: bool) -> dict:
        """Run one form of the query with Whoosh's searcher.search and groupedby facets."""
        allowed = [Term("status", "published")]
        allowed += [Or([Term(name, v) for v in values]) for name, values in filters.items() if values]
        facets = {
            name: sorting.FieldFacet(name, allow_overlap=name == "field", maptype=sorting.Count) for name in FACETS
        }
        results = self.searcher.search(
            q,
            limit=page * per_page,
            filter=And(allowed),
            mask=self.negative.parse(negative) if negative else None,
            groupedby=facets,
            sortedby=sorting.FieldFacet("year_sort", reverse=True) if sort else None,
        )
        hits = []
        for hit in results[(page - 1) * per_page : page * per_page]:
            stored = hit["stored"]
            hits.append(
                {
                    "slug": hit["slug"],
                    "title": stored["title"],
                    "score": hit.score,
                    "snippet": snippet(stored["body_text"], marks),
                }
            )
        counts = {}
        for name in FACETS:
            groups = results.groups(name)
            top = sorted(((v, c) for v, c in groups.items() if v), key=lambda vc: (-vc[1], vc[0]))
            counts[name] = top[:FACET_VALUES]
        return {"total": len(results), "hits": hits, "facets": counts}
