"""Read what a user typed: words, "phrases", -exclusions, synonyms, typos (plan.py makes Whoosh queries of it)."""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass, replace

from .analysis import Syllable, document_codes, syllables
from .snippets import Marks
from .text import fold_accents, normalize_text
from .thesaurus import Thesaurus
from .vietnamese import is_real_syllable

__all__ = [
    "ParsedQuery",
    "Part",
    "corrections",
    "loose_parts",
    "marks_respected",
    "near_terms",
    "parse_query",
    "required_parts",
    "year_only",
]

MAX_SYLLABLES = 32
# A token: -"phrase", "phrase" (the closing quote may be missing), -word or word.
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')


# Weights of what a part may match: as typed, a synonym, a correction of a typo.
TYPED, SYNONYM, CORRECTION = 1.0, 0.7, 0.5
# Function words of questions and connectives. They are indexed like every other word (no
# stop list); in a query they only help ranking, so "làm sao giữ an ninh ở bến đò?" asks
# for "giữ an ninh … bến đò" and not for entries that happen to say "làm sao".
FUNCTION_WORDS = frozenset(
    {
        # questions
        "làm sao", "làm thế nào", "như thế nào", "thế nào", "ra sao", "bằng cách nào", "tại sao",
        "vì sao", "là gì", "cái gì", "gì", "nào", "đâu", "ở đâu", "khi nào", "bao giờ", "bao nhiêu",
        "ai", "sao", "vậy", "nhỉ", "ạ",
        # connectives, particles, prepositions
        "có", "không", "thì", "để", "được", "những", "các", "cho", "của", "với", "và", "mà", "là",
        "nên", "cần", "phải", "muốn", "hay", "hoặc", "về", "trong", "từ", "này", "đó", "bị", "đã", "đang",
        "sẽ", "một", "ở", "tại", "qua", "trên", "khi", "nếu", "như", "đến", "tới", "xong", "rồi",
        # pronouns
        "họ", "chúng tôi", "chúng ta",
    }
)  # fmt: skip
_FUNCTION_MAX = max(len(w.split()) for w in FUNCTION_WORDS)
_FUNCTION_FOLDED = frozenset(fold_accents(w) for w in FUNCTION_WORDS)
# A syllable that some entry has is only corrected into one this many times as frequent.
MUCH_MORE = 5


@dataclass(frozen=True)
class Part:
    """One part of a query: a word or compound as typed, and what else it may stand for.

    ("Unit" in this package means only the đơn vị of an entry, a facet.)
    """

    typed: tuple[Syllable, ...]
    synonyms: tuple[tuple[Syllable, ...], ...] = ()
    corrections: tuple[str, ...] = ()  # folded syllables one edit away, for typos
    optional: bool = False  # a function word ("làm sao", "ở", "không"): ranks, never required

    def forms(self) -> list[tuple[list[str], float]]:
        """Return each folded syllable sequence this part matches, with its weight."""
        found = [([s.folded for s in self.typed], TYPED)]
        found += [([s.folded for s in alt], SYNONYM) for alt in self.synonyms]
        found += [([c], CORRECTION) for c in self.corrections]
        return found


@dataclass(frozen=True)
class ParsedQuery:
    """A query reduced to parts, required phrases, exclusions and document codes."""

    text: str
    words: tuple[Syllable, ...]  # the plain words, in typed order
    parts: tuple[Part, ...]
    phrases: tuple[tuple[Syllable, ...], ...]
    excluded: tuple[tuple[Syllable, ...], ...]
    codes: tuple[str, ...]
    places: tuple[str, ...] = ()  # provinces (as named today) the query names
    years: tuple[str, ...] = ()  # years the query names ("năm 2022"): they rank, never required

    @property
    def empty(self) -> bool:
        """Return True if nothing positive was asked for."""
        return not self.parts and not self.phrases

    def marks(self) -> Marks:
        """Return what snippets mark: typed syllables, one-word synonyms, corrections, whole runs."""
        words = {s.exact for s in self.words}
        words |= {s.exact for p in self.phrases for s in p}
        words |= {alt[0].exact for u in self.parts for alt in u.synonyms if len(alt) == 1}
        words |= {c for u in self.parts for c in u.corrections}
        runs = tuple(
            dict.fromkeys(tuple(s.folded for s in alt) for u in self.parts for alt in u.synonyms if len(alt) > 1)
        )
        return Marks(frozenset(words), runs)


def parse_query(text: str, thesaurus: Thesaurus | None = None) -> ParsedQuery:
    """Read a query: only double quotes and a leading minus mean something."""
    text = " ".join(normalize_text(text or "").split())[:500]
    words: list[Syllable] = []
    phrases, excluded = [], []
    for match in _TOKEN.finditer(text):
        minus, quoted, word = match.group(1), match.group(2), match.group(3)
        if word is not None and word.startswith("-") and len(word) > 1:
            minus, quoted, word = "-", word[1:], None
        sylls = tuple(syllables(quoted if word is None else word))
        if not sylls:
            continue
        if minus:
            excluded.append(sylls)
        elif word is None and len(sylls) > 1:
            phrases.append(sylls)
        else:
            words.extend(sylls)
    words = words[:MAX_SYLLABLES]
    parts = _parts(words, thesaurus)
    return ParsedQuery(
        text=text,
        words=tuple(words),
        parts=tuple(parts),
        years=tuple(u.typed[0].exact for u in parts if _is_year(u)),
        phrases=tuple(phrases),
        excluded=tuple(excluded),
        codes=tuple(document_codes(text)),
    )


def _parts(words: list[Syllable], thesaurus: Thesaurus | None) -> list[Part]:
    """Group the words into parts: a known multi-word form or function word makes one part."""
    expansions = {e.start: e for e in thesaurus.expand(words)} if thesaurus else {}
    parts, i = [], 0
    while i < len(words):
        n = _function_word(words, i)
        if i in expansions:
            e = expansions[i]
            parts.append(Part(tuple(words[e.start : e.end]), e.alternatives))
            i = e.end
        elif n:
            parts.append(Part(tuple(words[i : i + n]), optional=True))
            i += n
        else:
            parts.append(Part((words[i],)))
            i += 1
    # A year ("năm 2022") is the entry's year more often than a word of its text: it ranks.
    for i, part in enumerate(parts):
        if _is_year(part):
            parts[i] = replace(part, optional=True)
            if i and [s.exact for s in parts[i - 1].typed] == ["năm"]:
                parts[i - 1] = replace(parts[i - 1], optional=True)
    if all(u.optional for u in parts):  # a query of function words only means them
        parts = [replace(u, optional=False) for u in parts]
    # The same word typed twice asks for nothing more.
    return list({tuple(s.exact for s in u.typed): u for u in parts}.values())


def year_only(pq: ParsedQuery) -> tuple[str, ...]:
    """Return the years of a query made only of years ("2019", "năm 2019"), else ()."""
    rest = [u for u in pq.parts if not _is_year(u) and [s.exact for s in u.typed] != ["năm"]]
    return pq.years if pq.years and not rest and not pq.phrases else ()


def _is_year(part: Part) -> bool:
    """Return True if a part is a year an entry may be filed under (1900 to 2099)."""
    text = part.typed[0].exact if len(part.typed) == 1 else ""
    return len(text) == 4 and text.isdigit() and 1900 <= int(text) <= 2099


def _function_word(words: list[Syllable], i: int) -> int:
    """Return the length of the longest function word starting at words[i], or 0."""
    for n in range(min(_FUNCTION_MAX, len(words) - i), 0, -1):
        run = words[i : i + n]
        exact = " ".join(s.exact for s in run)
        if exact in FUNCTION_WORDS:
            return n
        if all(s.exact == s.folded for s in run) and " ".join(s.folded for s in run) in _FUNCTION_FOLDED:
            return n
    return 0


def corrections(
    pq: ParsedQuery,
    lexicon: Mapping[str, int],
    limit: int = 6,
    adjacent: Callable[[str, str], bool] | None = None,
    known_exact: Container[str] = (),
) -> ParsedQuery:
    """Give one-syllable parts the indexed syllables one edit away (a missing letter, a typo).

    Syllables no entry contains are corrected first; only when every syllable is known (yet
    no entry has them all) are the known ones of three letters or more corrected too, and
    then only in queries of up to three words. A real Vietnamese syllable typed with its marks
    ("túy", "gà") is a word the knowledge base may simply not have: it is never respelled. One
    typed without marks ("phe") is only respelled into a form that sits next to a neighbouring
    word of the query somewhere (adjacent(left, right) says whether two folded syllables are
    side by side in some entry), never on its own.
    """
    # Typed with its marks and found as typed, a word is never respelled.
    single = [u for u in pq.parts if len(u.typed) == 1 and not (_marked_part(u) and u.typed[0].exact in known_exact)]
    unknown = [u for u in single if u.typed[0].folded not in lexicon]
    # A typo that is itself a word ("thuc" for "thuoc") is only guessed at in short queries;
    # in a long question, some word missing from every entry is the likelier reason.
    short = len(required_parts(pq)) <= 3
    targets = unknown or ([u for u in single if len(u.typed[0].folded) >= 3] if short else [])
    parts = []
    for i, part in enumerate(pq.parts):
        if part in targets:
            syll = part.typed[0]
            term = syll.folded
            # A known word is only respelled into a much more frequent one ("thuc" -> "thuoc").
            floor = MUCH_MORE * lexicon.get(term, 0)
            near = sorted(
                (c for c in near_terms(term) if lexicon.get(c, 0) > floor and c != term), key=lambda c: (-lexicon[c], c)
            )
            if syll.exact != syll.folded and is_real_syllable(syll.exact, syll.folded):
                near = []  # a real word typed with its marks is what was meant ("gà" is not "cá")
            elif is_real_syllable(syll.exact, syll.folded):
                near = [c for c in near if adjacent is not None and _next_to_neighbour(pq, i, c, adjacent)]
            part = replace(part, corrections=tuple(near[:limit]))
        parts.append(part)
    return replace(pq, parts=tuple(parts))


def _marked_part(part: Part) -> bool:
    """Return True if a part was typed with some diacritic."""
    return any(s.exact != s.folded for s in part.typed)


def _next_to_neighbour(pq: ParsedQuery, i: int, folded: str, adjacent: Callable[[str, str], bool]) -> bool:
    """Return True if a folded syllable, put in place of part i, sits next to the part before or after."""
    before = pq.parts[i - 1].typed[-1].folded if i > 0 else None
    after = pq.parts[i + 1].typed[0].folded if i + 1 < len(pq.parts) else None
    return bool((before and adjacent(before, folded)) or (after and adjacent(folded, after)))


def marks_respected(pq: ParsedQuery, i: int, known_exact: Container[str], adjacent: Callable[[str, str], bool]) -> bool:
    """Return True if part i must match as typed: a real word typed with its marks.

    Typed with marks, a word matches other marks only if no entry has it as typed, and then
    only if it is not a real Vietnamese syllable ("thuôc" means "thuốc"), or if its folded
    form sits next to a neighbouring word somewhere ("cá lông" for "cá lồng"). So "nuôi bò"
    never meets "bộ đội" or "bờ biển".
    """
    part = pq.parts[i]
    if len(part.typed) != 1:
        return False
    syll = part.typed[0]
    if syll.exact == syll.folded:
        return False
    if syll.exact in known_exact:
        return True
    return is_real_syllable(syll.exact, syll.folded) and not _next_to_neighbour(pq, i, syll.folded, adjacent)


def near_terms(word: str) -> set[str]:
    """Return every string one deletion, insertion, substitution or swap away from word."""
    letters = "abcdefghijklmnopqrstuvwxyz0123456789"
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in letters}
    inserts = {a + c + b for a, b in splits for c in letters}
    return deletes | swaps | replaces | inserts


def required_parts(pq: ParsedQuery) -> list[Part]:
    """Return the parts an entry must have to contain every word (function words excepted)."""
    return [u for u in pq.parts if not u.optional]


def loose_parts(pq: ParsedQuery, common: frozenset[str]) -> list[Part]:
    """Return the parts of which one is enough: distinctive words, multi-word parts word by word."""
    required = required_parts(pq)
    # Words typed together are also looked for one by one; a synonym or an everyday wording's
    # terms are not ("người ốm" → "y tế" must not bring every entry that says "tế").
    singles = [Part((s,)) for u in required if len(u.typed) > 1 for s in u.typed]
    candidates = list(dict.fromkeys([*required, *singles]))
    distinctive = [u for u in candidates if not _is_common(u, common)]
    return distinctive or candidates


def _is_common(part: Part, common: frozenset[str]) -> bool:
    """Return True if every form of a one-syllable part is in most entries."""
    return all(len(form) == 1 and form[0] in common for form, _w in part.forms())
