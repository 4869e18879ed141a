"""Vietnamese-aware full-text search behind a small API; Whoosh stays inside this package."""

from .analysis import Analysis, Syllable, analyze, syllables
from .engine import FACETS, Document, Hit, IndexBusy, IndexMissing, SearchIndex, SearchResults
from .snippets import highlight, snippet
from .text import canonical_syllable, fold_accents, normalize_text

__all__ = [
    "FACETS",
    "Analysis",
    "Document",
    "Hit",
    "IndexBusy",
    "IndexMissing",
    "SearchIndex",
    "SearchResults",
    "Syllable",
    "analyze",
    "canonical_syllable",
    "fold_accents",
    "highlight",
    "normalize_text",
    "snippet",
    "syllables",
]
