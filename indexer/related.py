"""Related entries: the published entries most like one, by its distinctive words."""

from __future__ import annotations

from whoosh import query as whoosh_query
from whoosh.query import Term

from .analysis import analyze
from .hits import Hit, shown, to_hit
from .ranking import TERM_POSTINGS, TERM_SHARE, TermScores
from .snippets import Marks
from .version import IndexVersion

__all__ = ["like_text_hits", "related_hits", "similar"]

LIKE_TEXT_CHARS = 20_000  # of a long document, the opening is what it is about
SIMILAR_SHORTLIST = 100  # entries scored in full when looking for models like one


def related_hits(searcher, version: IndexVersion, slug: str, limit: int) -> list[Hit]:
    """Find the entries most like slug in this searcher's version."""
    docnum = searcher.document_number(slug=slug)
    if docnum is None:
        return []
    stored = searcher.stored_fields(docnum)["stored"]
    text = stored.get("key_terms") or ""
    published = Term("status", "published")
    alike = similar(searcher, version, docnum, text, "words_f", limit) if text else []
    found = [hit for d, score in alike if (hit := shown(searcher, d, score, Marks())) is not None]
    if len(found) < limit and stored.get("fields"):  # few shared words: same field
        same = whoosh_query.Or([Term("field", f) for f in stored["fields"]])
        more = searcher.search(same, limit=limit * 2, filter=published, mask={docnum})
        seen = {h.slug for h in found}
        extra = [to_hit(h.fields(), 0.0, Marks()) for h in more if h["slug"] not in seen]
        found += extra[: limit - len(found)]
    return found


def like_text_hits(searcher, version: IndexVersion, text: str, limit: int) -> list[Hit]:
    """Find the published entries most like a text that is not in the index (a document being drafted)."""
    words = " ".join(analyze(text[:LIKE_TEXT_CHARS]).word_terms(True))
    alike = similar(searcher, version, -1, words, "words_f", limit) if words else []
    return [hit for d, score in alike if (hit := shown(searcher, d, score, Marks())) is not None]


def similar(searcher, version: IndexVersion, docnum: int, text: str, field: str, limit: int) -> list[tuple[int, float]]:
    """Return the published entries most like one, best first, with their scores.

    Close to what Whoosh's more_like ranks (an Or of the text's key terms, each boosted by its
    weight), without scoring every entry that shares a word (120 ms at 10 000 entries): the
    entries are first weighed by the key terms they have that are not common (from the memo of
    word matches), and only the heaviest are scored in full, as more_like scores them. An entry
    sharing only common key terms is not considered; on a small corpus the list is exactly
    more_like's.
    """
    keys = searcher.key_terms_from_text(field, text, numterms=12, normalize=False)
    if not keys:
        return []
    published = version.facets.allowed({}, ("published",))
    # Words in many entries weigh little and cost the most to walk: they only score.
    cap = max(TERM_POSTINGS, TERM_SHARE * searcher.doc_count())
    telling = [(t, b) for t, b in keys if version.frequency(searcher, field, t) <= cap] or keys
    weight: dict[int, float] = {}
    for term, boost in telling:
        share = boost * searcher.idf(field, term)
        for d in version.docs(searcher, Term(field, term)) & published:
            weight[d] = weight.get(d, 0.0) + share
    weight.pop(docnum, None)
    shortlist = set(sorted(weight, key=lambda d: (-weight[d], d))[:SIMILAR_SHORTLIST])
    query = whoosh_query.Or([Term(field, t, boost=b) for t, b in keys])
    scores = TermScores(searcher, shortlist, version).evaluate(query) or {}
    return sorted(scores.items(), key=lambda ds: (-ds[1], ds[0]))[:limit]
