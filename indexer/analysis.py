"""Split Vietnamese text into syllables and segmented words, with offsets into the original."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .text import SYLLABLE_RE, canonical_syllable, fold_accents, fold_syllable, normalize_text

__all__ = ["Analysis", "Syllable", "analyze", "document_codes", "load_segmenter", "syllables"]

# Document numbers such as "123/QĐ-BĐBP", "202/2025/QH15" or "60-NQ/TW": a number joined by
# "/" or "-" to parts that contain letters. They are indexed whole as well as by syllable.
_CODE_RE = re.compile(r"(?<![\w/-])\d+(?:[/-][^\W_]+)+")
# Punctuation that ends a sentence or a clause: a phrase must not match across it.
_BREAK_RE = re.compile(r"[.!?;:\n]")


@dataclass(frozen=True, slots=True)
class Syllable:
    """One syllable: its lowercase canonical and folded forms and where it sits in the original text."""

    exact: str  # "thuốc"
    folded: str  # "thuoc"
    start: int  # offsets into the text as the author wrote it (any Unicode form)
    end: int


@dataclass(frozen=True, slots=True)
class Analysis:
    """The syllables of a text and the multi-syllable words underthesea found in it."""

    syllables: tuple[Syllable, ...]
    words: tuple[tuple[int, int], ...]  # (first, last) syllable index of each compound word

    def word_terms(self, folded: bool) -> list[str]:
        """Return each compound word as one term, syllables joined by "_"."""
        pick = (lambda s: s.folded) if folded else (lambda s: s.exact)
        return ["_".join(pick(s) for s in self.syllables[first : last + 1]) for first, last in self.words]


def document_codes(text: str) -> list[str]:
    """Return the document numbers in text, folded and lowercase ("123/qd-bdbp")."""
    found = []
    for match in _CODE_RE.finditer(normalize_text(text)):
        code = match.group()
        if any(c.isalpha() for c in code):
            found.append(fold_accents(code).lower())
    return list(dict.fromkeys(found))


def terms(text: str, sylls: list[Syllable] | tuple[Syllable, ...], folded: bool, breaks: bool = True) -> str:
    """Join syllables into a space-separated term string, with "§" where a sentence ends."""
    out: list[str] = []
    for i, syll in enumerate(sylls):
        if breaks and i and _BREAK_RE.search(text, sylls[i - 1].end, syll.start):
            out.append("§")
        out.append(syll.folded if folded else syll.exact)
    return " ".join(out)


@lru_cache(maxsize=200_000)
def syllable_forms(raw: str) -> tuple[str, str]:
    """Return the (exact, folded) forms of one syllable as written (cached)."""
    exact = canonical_syllable(raw).lower()
    return exact, fold_syllable(exact)


def syllables(text: str) -> list[Syllable]:
    """Return the syllables of text with offsets into text itself."""
    found = []
    for match in SYLLABLE_RE.finditer(text):
        exact, folded = syllable_forms(match.group())
        if folded:  # a run of only invisible characters or stray marks is not a syllable
            found.append(Syllable(exact, folded, match.start(), match.end()))
    return found


def analyze(text: str, segment: bool = True) -> Analysis:
    """Analyse text into syllables and, if segment is true, compound words."""
    sylls = syllables(text)
    if not segment or len(sylls) < 2:
        return Analysis(tuple(sylls), ())
    return Analysis(tuple(sylls), _compounds(text, sylls))


def _compounds(text: str, sylls: list[Syllable]) -> tuple[tuple[int, int], ...]:
    """Run underthesea on a canonical copy of text and map its words back to syllables."""
    # Rebuild the text with well-formed syllables (original case, punctuation and spacing
    # kept) so the segmenter sees words and context, and remember where each syllable lands.
    # The old tone placement is used here: underthesea's model knows "thuỷ điện" and
    # "khoẻ mạnh" as words but splits "thủy điện" and "khỏe mạnh".
    pieces, starts, ends, cursor, length = [], {}, {}, 0, 0
    for index, syll in enumerate(sylls):
        gap = text[cursor : syll.start]
        form = canonical_syllable(text[syll.start : syll.end], old_style=True)
        pieces.append(gap)
        length += len(gap)
        starts[length] = index
        pieces.append(form)
        length += len(form)
        ends[index] = length
        cursor = syll.end
    canonical = "".join(pieces)

    spans: list[tuple[int, int]] = []
    position = 0
    for word in _word_tokenize(canonical):
        first = last = None
        for token in word.split(" "):
            at = canonical.find(token, position)
            if at < 0:  # the segmenter changed the text: keep what we have
                return tuple(spans)
            position = at + len(token)
            index = starts.get(at)
            if index is None or ends[index] != position:
                first = None  # a token that is not exactly one syllable
                break
            first = index if first is None else first
            if last is not None and index != last + 1:
                first = None
                break
            last = index
        if first is not None and last is not None and last > first:
            spans.append((first, last))
    return tuple(spans)


def load_segmenter() -> None:
    """Load underthesea and its model now instead of at the first segmented text (about 1 s).

    The production server calls this in its master process before forking the workers: they
    share the model's memory, and the first save a worker handles does not pay for it.
    """
    _word_tokenize("Khởi động bộ tách từ.")


def _word_tokenize(text: str) -> list[str]:
    """Segment text with underthesea, leaving every character as it was."""
    return _segmenter()(text, use_token_normalize=False)


@lru_cache(maxsize=1)
def _segmenter():
    """Import underthesea once, on first use (it takes about half a second)."""
    from underthesea import word_tokenize

    return word_tokenize
