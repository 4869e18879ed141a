"""Build HTML snippets with the matched syllables marked, at their original offsets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

from .analysis import Syllable, syllable_forms, syllables
from .text import INVISIBLE, SYLLABLE_RE, fold_accents

__all__ = ["Marks", "highlight", "snippet"]


@dataclass(frozen=True)
class Marks:
    """What to mark: syllables as typed, and runs of syllables marked only whole."""

    words: frozenset[str] = frozenset()  # lowercase canonical, with or without diacritics
    runs: tuple[tuple[str, ...], ...] = ()  # folded syllable sequences (multi-word synonyms)

    def __bool__(self) -> bool:
        """Return True if there is anything to mark."""
        return bool(self.words or self.runs)


def highlight(text: str, marks: Marks | frozenset[str]) -> str:
    """Return text as HTML with the matching syllables in <mark>."""
    return _render(text, 0, len(text), _matches(text, _as_marks(marks)))


def snippet(text: str, marks: Marks | frozenset[str], size: int = 220) -> str:
    """Return about size characters of text around the best cluster of matches, as HTML."""
    if not text:
        return ""
    matches = _matches(text, _as_marks(marks))
    if not matches:
        return _render(text, 0, _cut_end(text, size), [])
    start, end = _best_window(text, matches, size)
    return _render(text, start, end, [m for m in matches if start <= m[0] and m[1] <= end])


def _as_marks(marks: Marks | frozenset[str]) -> Marks:
    """Accept a plain set of typed syllables as Marks."""
    return marks if isinstance(marks, Marks) else Marks(frozenset(marks))


def _matches(text: str, marks: Marks, complete: bool = False) -> list[tuple[int, int, str]]:
    """Return (start, end, term) of each syllable of text to mark, in order.

    A syllable typed with diacritics marks only the same syllable ("vùng" not
    "vững"); one typed without marks any syllable that folds to it. If the text
    has no strict match at all, every folded match is marked instead, so an
    entry found through folding still shows why it was found. A run (a
    multi-word synonym) is marked only where all its syllables stand together.
    """
    if not marks:
        return []
    sylls, complete = _candidates(text, marks, complete)
    hits: dict[int, tuple[int, int, str]] = {}
    for run in marks.runs:
        n = len(run)
        for i in range(len(sylls) - n + 1):
            if all(sylls[i + k].folded == run[k] for k in range(n)) and (
                complete or all(_adjacent(text, sylls[i + k], sylls[i + k + 1]) for k in range(n - 1))
            ):
                for k in range(n):
                    hits[i + k] = (sylls[i + k].start, sylls[i + k].end, sylls[i + k].folded)
    plain = {t for t in marks.words if fold_accents(t) == t}
    strict = {i for i, s in enumerate(sylls) if s.exact in marks.words or s.folded in plain}
    if not strict and not hits:
        folded = {fold_accents(t) for t in marks.words}
        strict = {i for i, s in enumerate(sylls) if s.folded in folded}
    for i in strict:
        hits[i] = (sylls[i].start, sylls[i].end, sylls[i].folded)
    return [hits[i] for i in sorted(hits)]


def _candidates(text: str, marks: Marks, complete: bool = False) -> tuple[list[Syllable], bool]:
    """Return the syllables of text that fold to a marked word or a run's syllable, and whether
    that is every syllable of text (then neighbours in the list are neighbours in the text).

    In NFC text folding keeps every offset, so a regular expression over the folded text
    finds the few candidates without analysing every syllable; other text takes the long way.
    """
    folded = fold_accents(text).lower()
    # A syllable may hold invisible characters (soft hyphens, zero-width spaces): the pattern's
    # word boundaries would split it in two where the syllable analysis keeps it whole.
    if complete or len(folded) != len(text) or any(c in text for c in INVISIBLE):
        return syllables(text), True
    words = {fold_accents(w) for w in marks.words} | {s for run in marks.runs for s in run}
    ordered = sorted(words, key=len, reverse=True)
    pattern = re.compile(r"(?<![^\W_])(?:" + "|".join(map(re.escape, ordered)) + r")(?![^\W_])")
    found = []
    for match in pattern.finditer(folded):
        exact, fold = syllable_forms(text[match.start() : match.end()])
        if fold == match.group():
            found.append(Syllable(exact, fold, match.start(), match.end()))
    return found, False


def _adjacent(text: str, first: Syllable, second: Syllable) -> bool:
    """Return True if no other syllable stands between two syllables of text."""
    return not any(syllable_forms(m.group())[1] for m in SYLLABLE_RE.finditer(text, first.end, second.start))


def _best_window(text: str, matches: list[tuple[int, int, str]], size: int) -> tuple[int, int]:
    """Pick the stretch of at most size characters with the most distinct terms, side by side."""
    best_key, best = (-1, -1, -len(text) - 1), (matches[0][0], matches[0][1])
    right = 0
    # Matches separated only by spaces are the query's words side by side ("đoàn kết"),
    # which say more than the same syllables scattered ("kết quả … đoàn thể").
    joined = [i for i in range(1, len(matches)) if not text[matches[i - 1][1] : matches[i][0]].strip(" ")]
    for left, (start, _end, _term) in enumerate(matches):
        right = max(right, left)
        while right + 1 < len(matches) and matches[right + 1][1] - start <= size:
            right += 1
        inside = matches[left : right + 1]
        adjacent = sum(1 for i in joined if left < i <= right)
        key = (len({m[2] for m in inside}), adjacent, start - inside[-1][1])  # then the tightest
        if key > best_key:
            best_key, best = key, (start, inside[-1][1])
    # Show the cluster whole, with some context before it when there is room.
    first, last = best
    start = _cut_start(text, max(0, first - min(size // 5, size - (last - first))))
    return start, _cut_end(text, max(last, start + size))


def _cut_start(text: str, at: int) -> int:
    """Move at back to the start of the word it falls in."""
    while 0 < at < len(text) and not text[at - 1].isspace():
        at -= 1
    return at


def _cut_end(text: str, at: int) -> int:
    """Move at forward to the end of the word it falls in."""
    at = min(at, len(text))
    while at < len(text) and not text[at].isspace():
        at += 1
    return at


def _render(text: str, start: int, end: int, matches: list[tuple[int, int, str]]) -> str:
    """Escape text[start:end] and wrap the matches in <mark>, with ellipses where cut."""
    out = ["…"] if start > 0 else []
    cursor = start
    for m_start, m_end, _term in matches:
        out.append(escape(text[cursor:m_start]))
        out.append(f"<mark>{escape(text[m_start:m_end])}</mark>")
        cursor = m_end
    out.append(escape(text[cursor:end]))
    if end < len(text):
        out.append("…")
    return "".join(out).strip()
