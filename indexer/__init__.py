"""Vietnamese-aware full-text search behind a small API; Whoosh stays inside this package."""

from .analysis import Analysis, Syllable, analyze, document_codes, syllables
from .engine import SORTS, SearchIndex
from .hits import Hit, SearchResults
from .query import parse_query
from .schema import FACETS, SCHEMA_VERSION, Document
from .snippets import highlight, snippet
from .storage import AnalysisFailed, IndexBusy, IndexMissing
from .text import canonical_syllable, fold_accents, normalize_text
from .thesaurus import Thesaurus

__all__ = [
    "FACETS",
    "SCHEMA_VERSION",
    "SORTS",
    "Analysis",
    "AnalysisFailed",
    "Document",
    "Hit",
    "IndexBusy",
    "IndexMissing",
    "SearchIndex",
    "SearchResults",
    "Syllable",
    "Thesaurus",
    "analyze",
    "canonical_syllable",
    "document_codes",
    "fold_accents",
    "highlight",
    "normalize_text",
    "parse_query",
    "snippet",
    "syllables",
]
