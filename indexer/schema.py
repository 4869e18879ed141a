"""What the index holds: its fields, and how one entry becomes their values.

The schema is the on-disk contract: SCHEMA_VERSION changes whenever it does, and a build
made with another version is rebuilt in full before it serves (see storage.py).
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass

from whoosh import formats
from whoosh.analysis import RegexTokenizer
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from .analysis import analyze, document_codes, terms
from .text import fold_syllable

__all__ = ["FACETS", "SCHEMA_VERSION", "Document", "fields_of", "schema", "volatile_fields"]

# Bump when the schema changes: reindex() then rebuilds every index in full.
SCHEMA_VERSION = "3"  # 3: the words of attached documents
FACETS = ("field", "province", "unit", "year", "level")  # the facet fields, once for the package
FILES_MAX = 100_000  # characters of an entry's attached documents that are searched (about 30 pages)


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
    # The words inside attached documents, (file name, text) each: found like the body's words,
    # but ranked below them (no title, summary or compound-word boosts, each word counted once).
    files: tuple[tuple[str, str], ...] = ()


def _presence(analyzer: RegexTokenizer) -> TEXT:
    """Return a scorable text field that records only whether a term is there (cheaper to write)."""
    field = TEXT(analyzer=analyzer, phrase=False)
    field.format = formats.Existence(field_boost=1.0)
    return field


def schema() -> Schema:
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


def fields_of(doc: Document) -> dict[str, object]:
    """Analyse one document into the values of the schema's fields."""
    meta_text = " . ".join([doc.unit, doc.province or "", doc.region or "", *doc.fields, *doc.tags])
    title, summary = analyze(doc.title), analyze(doc.summary, segment=False)
    meta, body = analyze(meta_text, segment=False), analyze(doc.body_text)
    parts = [(doc.title, title), (doc.summary, summary), (meta_text, meta), (doc.body_text, body)]
    files = _files_text(doc.files)
    if files:
        parts.append((files, analyze(files)))
    folded = [terms(text, a.syllables, folded=True) for text, a in parts]
    exact = [terms(text, a.syllables, folded=False, breaks=False) for text, a in parts]
    # Each of the documents' words once: a long report must not outweigh the entry's own text.
    # (Pairs of neighbours come from the documents as written; each pair is indexed once anyway.)
    matched = [*folded[:4], " ".join(_once(folded[4]))] if files else folded
    compounds = title.word_terms(True) + body.word_terms(True)
    return {
        "slug": doc.slug,
        "all_f": " § ".join(matched),
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
            "files": [[name, text] for name, text in _files_bounded(doc.files)],
            "key_terms": " ".join(compounds),
        },
    }


def _files_bounded(files: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    """Return the documents' texts cut to FILES_MAX characters in all."""
    out, left = [], FILES_MAX
    for name, text in files:
        if left <= 0:
            break
        out.append((name, text[:left]))
        left -= len(text[:left])
    return out


def _files_text(files: tuple[tuple[str, str], ...]) -> str:
    return "\n\n".join(text for _name, text in _files_bounded(files) if text.strip())


def _once(folded: str) -> list[str]:
    """Return the terms of a text each once, in order, keeping the sentence breaks between runs."""
    seen: set[str] = set()
    out: list[str] = []
    for term in folded.split():
        if term == "§":
            if out and out[-1] != "§":
                out.append(term)
        elif term not in seen:
            seen.add(term)
            out.append(term)
    return out


def volatile_fields(doc: Document, fields: dict[str, object]) -> dict[str, object]:
    """Set the ledger's values on a document's analysed fields (fresh or from the cache)."""
    stored = {**fields["stored"], "level": doc.level, "adopted": doc.adopted}
    return {**fields, "level": doc.level, "adopted_sort": doc.adopted, "stored": stored}


def _pairs(folded: str) -> list[str]:
    """Return the adjacent syllable pairs of a term string, never across a sentence break."""
    terms = folded.split()
    return [f"{a}_{b}" for a, b in itertools.pairwise(terms) if a != "§" and b != "§"]
