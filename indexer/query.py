"""Turn what a user typed into a Whoosh query: words, "phrases", -exclusions, synonyms, typos."""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass, replace
from itertools import pairwise

from whoosh import query as whoosh_query
from whoosh.query import And, Phrase, Query, Term

from .analysis import Syllable, document_codes, syllables
from .snippets import Marks
from .text import fold_accents, normalize_text
from .thesaurus import Thesaurus
from .vietnamese import is_real_syllable

__all__ = [
    "ParsedQuery",
    "Unit",
    "as_typed_queries",
    "as_typed_query",
    "corrections",
    "loose_units",
    "marks_respected",
    "near_terms",
    "parse_query",
    "phrase_query",
    "required_units",
    "scoring_clauses",
    "shortlist_terms",
    "typed_query",
    "unit_query",
    "year_only",
]

MAX_SYLLABLES = 32
# A token: -"phrase", "phrase" (the closing quote may be missing), -word or word.
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')


class SteppingOr(whoosh_query.Or):
    """An Or that advances its parts together (skip_to), never preloading every match.

    Whoosh preloads all matches of an Or on small segments; when only a shortlist of
    entries is scored, that would evaluate every phrase over the whole index.
    """

    matcher_type = whoosh_query.Or.DEFAULT_MATCHER


# Weights of what a unit may match: as typed, a synonym, a correction of a typo.
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
# A unit whose folded form is in more than this share of entries does not make an entry
# a match on its own: it only ranks ("biên" is in nearly every entry of this knowledge base).
COMMON_SHARE = 0.5
# A syllable that some entry has is only corrected into one this many times as frequent.
MUCH_MORE = 5


@dataclass(frozen=True)
class Unit:
    """One thing the query asks for: syllables as typed, and what else they may stand for."""

    typed: tuple[Syllable, ...]
    synonyms: tuple[tuple[Syllable, ...], ...] = ()
    corrections: tuple[str, ...] = ()  # folded syllables one edit away, for typos
    optional: bool = False  # a function word ("làm sao", "ở", "không"): ranks, never required

    def forms(self) -> list[tuple[list[str], float]]:
        """Return each folded syllable sequence this unit matches, with its weight."""
        found = [([s.folded for s in self.typed], TYPED)]
        found += [([s.folded for s in alt], SYNONYM) for alt in self.synonyms]
        found += [([c], CORRECTION) for c in self.corrections]
        return found


@dataclass(frozen=True)
class ParsedQuery:
    """A query reduced to units, required phrases, exclusions and document codes."""

    text: str
    words: tuple[Syllable, ...]  # the plain words, in typed order
    units: tuple[Unit, ...]
    phrases: tuple[tuple[Syllable, ...], ...]
    excluded: tuple[tuple[Syllable, ...], ...]
    codes: tuple[str, ...]
    places: tuple[str, ...] = ()  # provinces (as named today) the query names
    years: tuple[str, ...] = ()  # years the query names ("năm 2022"): they rank, never required

    @property
    def empty(self) -> bool:
        """Return True if nothing positive was asked for."""
        return not self.units and not self.phrases

    def marks(self) -> Marks:
        """Return what snippets mark: typed syllables, one-word synonyms, corrections, whole runs."""
        words = {s.exact for s in self.words}
        words |= {s.exact for p in self.phrases for s in p}
        words |= {alt[0].exact for u in self.units for alt in u.synonyms if len(alt) == 1}
        words |= {c for u in self.units for c in u.corrections}
        runs = tuple(
            dict.fromkeys(tuple(s.folded for s in alt) for u in self.units for alt in u.synonyms if len(alt) > 1)
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
    units = _units(words, thesaurus)
    return ParsedQuery(
        text=text,
        words=tuple(words),
        units=tuple(units),
        years=tuple(u.typed[0].exact for u in units if _is_year(u)),
        phrases=tuple(phrases),
        excluded=tuple(excluded),
        codes=tuple(document_codes(text)),
    )


def _units(words: list[Syllable], thesaurus: Thesaurus | None) -> list[Unit]:
    """Group the words into units: a known multi-word form or function word makes one unit."""
    expansions = {e.start: e for e in thesaurus.expand(words)} if thesaurus else {}
    units, i = [], 0
    while i < len(words):
        n = _function_word(words, i)
        if i in expansions:
            e = expansions[i]
            units.append(Unit(tuple(words[e.start : e.end]), e.alternatives))
            i = e.end
        elif n:
            units.append(Unit(tuple(words[i : i + n]), optional=True))
            i += n
        else:
            units.append(Unit((words[i],)))
            i += 1
    # A year ("năm 2022") is the entry's year more often than a word of its text: it ranks.
    for i, unit in enumerate(units):
        if _is_year(unit):
            units[i] = replace(unit, optional=True)
            if i and [s.exact for s in units[i - 1].typed] == ["năm"]:
                units[i - 1] = replace(units[i - 1], optional=True)
    if all(u.optional for u in units):  # a query of function words only means them
        units = [replace(u, optional=False) for u in units]
    # The same word typed twice asks for nothing more.
    return list({tuple(s.exact for s in u.typed): u for u in units}.values())


def year_only(pq: ParsedQuery) -> tuple[str, ...]:
    """Return the years of a query made only of years ("2019", "năm 2019"), else ()."""
    rest = [u for u in pq.units if not _is_year(u) and [s.exact for s in u.typed] != ["năm"]]
    return pq.years if pq.years and not rest and not pq.phrases else ()


def _is_year(unit: Unit) -> bool:
    """Return True if a unit is a year an entry may be filed under (1900 to 2099)."""
    text = unit.typed[0].exact if len(unit.typed) == 1 else ""
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
    """Give one-syllable units the indexed syllables one edit away (a missing letter, a typo).

    Syllables no entry contains are corrected first; only when every syllable is known (yet
    no entry has them all) are the known ones of three letters or more corrected too, and
    then only in queries of up to three words. A real Vietnamese syllable typed with its marks
    ("túy", "gà") is a word the knowledge base may simply not have: it is never respelled. One
    typed without marks ("phe") is only respelled into a form that sits next to a neighbouring
    word of the query somewhere (adjacent(left, right) says whether two folded syllables are
    side by side in some entry), never on its own.
    """
    # Typed with its marks and found as typed, a word is never respelled.
    single = [u for u in pq.units if len(u.typed) == 1 and not (_marked_unit(u) and u.typed[0].exact in known_exact)]
    unknown = [u for u in single if u.typed[0].folded not in lexicon]
    # A typo that is itself a word ("thuc" for "thuoc") is only guessed at in short queries;
    # in a long question, some word missing from every entry is the likelier reason.
    short = len(required_units(pq)) <= 3
    targets = unknown or ([u for u in single if len(u.typed[0].folded) >= 3] if short else [])
    units = []
    for i, unit in enumerate(pq.units):
        if unit in targets:
            syll = unit.typed[0]
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
            unit = replace(unit, corrections=tuple(near[:limit]))
        units.append(unit)
    return replace(pq, units=tuple(units))


def _marked_unit(unit: Unit) -> bool:
    """Return True if a unit was typed with some diacritic."""
    return any(s.exact != s.folded for s in unit.typed)


def _next_to_neighbour(pq: ParsedQuery, i: int, folded: str, adjacent: Callable[[str, str], bool]) -> bool:
    """Return True if a folded syllable, put in place of unit i, sits next to the unit before or after."""
    before = pq.units[i - 1].typed[-1].folded if i > 0 else None
    after = pq.units[i + 1].typed[0].folded if i + 1 < len(pq.units) else None
    return bool((before and adjacent(before, folded)) or (after and adjacent(folded, after)))


def marks_respected(pq: ParsedQuery, i: int, known_exact: Container[str], adjacent: Callable[[str, str], bool]) -> bool:
    """Return True if unit i must match as typed: a real word typed with its marks.

    Typed with marks, a word matches other marks only if no entry has it as typed, and then
    only if it is not a real Vietnamese syllable ("thuôc" means "thuốc"), or if its folded
    form sits next to a neighbouring word somewhere ("cá lông" for "cá lồng"). So "nuôi bò"
    never meets "bộ đội" or "bờ biển".
    """
    unit = pq.units[i]
    if len(unit.typed) != 1:
        return False
    syll = unit.typed[0]
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


def _seq(field: str, folded: list[str], boost: float = 1.0) -> Query:
    """Match one syllable, or several side by side.

    In the whole text, side by side means the indexed pairs of adjacent syllables (exact
    for two syllables, and without reading positions, which is what makes phrases slow);
    titles keep real phrases; in summary and unit/tags, all the syllables suffice.
    """
    if len(folded) == 1:
        return Term(field, folded[0], boost=boost)
    if field == "all_f":
        pairs = [Term("all_p", f"{a}_{b}") for a, b in pairwise(folded)]
        return pairs[0].with_boost(boost) if len(pairs) == 1 else And(pairs, boost=boost)
    if field == "title_f":
        return Phrase(field, folded, boost=boost)
    return And([Term(field, t) for t in folded], boost=boost)


def unit_query(unit: Unit, field: str = "all_f") -> Query:
    """Match any form of a unit."""
    options = [_seq(field, form) for form, _weight in unit.forms()]
    return options[0] if len(options) == 1 else SteppingOr(options)


def phrase_query(phrase: tuple[Syllable, ...], field: str = "all_f") -> Query:
    """Match a quoted phrase (or an excluded word) in order."""
    return _seq(field, [s.folded for s in phrase])


def typed_query(typed: tuple[Syllable, ...]) -> Query:
    """Match syllables as typed: those typed with diacritics must carry exactly those."""
    if all(s.exact == s.folded for s in typed):
        return _seq("all_f", [s.folded for s in typed])
    terms = [Term("all_x", s.exact) if s.exact != s.folded else Term("all_f", s.folded) for s in typed]
    return terms[0] if len(terms) == 1 else And([_seq("all_f", [s.folded for s in typed]), *terms])


def as_typed_query(unit: Unit) -> Query:
    """Match a unit as typed, or any of its synonyms and corrections."""
    others = [_seq("all_f", form) for form, weight in unit.forms() if weight != TYPED]
    exact = typed_query(unit.typed)
    return SteppingOr([exact, *others]) if others else exact


def required_units(pq: ParsedQuery) -> list[Unit]:
    """Return the units an entry must have to contain every word (function words excepted)."""
    return [u for u in pq.units if not u.optional]


def loose_units(pq: ParsedQuery, common: frozenset[str]) -> list[Unit]:
    """Return the units of which one is enough: distinctive words, multi-word units word by word."""
    required = required_units(pq)
    # Words typed together are also looked for one by one; a synonym or an everyday wording's
    # terms are not ("người ốm" → "y tế" must not bring every entry that says "tế").
    singles = [Unit((s,)) for u in required if len(u.typed) > 1 for s in u.typed]
    candidates = list(dict.fromkeys([*required, *singles]))
    distinctive = [u for u in candidates if not _is_common(u, common)]
    return distinctive or candidates


def scoring_clauses(pq: ParsedQuery, loose: list[Unit]) -> list[Query]:
    """Return what scores a matching entry, clause by clause (their scores add up): its words
    (a synonym or a guessed spelling counting less than the word typed), then title > summary >
    unit/tags > body, and phrases over scattered words."""
    words = [
        SteppingOr([_seq("all_f", form, weight) for form, weight in u.forms()]) if len(u.forms()) > 1 else unit_query(u)
        for u in loose
    ]
    return words + [phrase_query(p) for p in pq.phrases] + _ranking(pq)


def as_typed_queries(pq: ParsedQuery) -> list[Query]:
    """Return one query per required unit matching it as typed (exact diacritics where typed)."""
    return [as_typed_query(u) for u in required_units(pq)]


def shortlist_terms(pq: ParsedQuery, loose: list[Unit]) -> list[str]:
    """Return every folded syllable of the words and their synonyms, for a cheap first pass."""
    forms = [form for u in [*required_units(pq), *loose] for form, _w in u.forms()]
    return list(dict.fromkeys(s for form in forms for s in form))


def _is_common(unit: Unit, common: frozenset[str]) -> bool:
    """Return True if every form of a one-syllable unit is in most entries."""
    return all(len(form) == 1 and form[0] in common for form, _w in unit.forms())


def _ranking(pq: ParsedQuery) -> list[Query]:
    """Return optional clauses: title > summary > unit/tags > body; phrases over scattered words."""
    boosts: list[Query] = []
    for unit in pq.units:
        for form, weight in unit.forms():
            if weight == CORRECTION:  # a guessed spelling only counts in the text itself
                continue
            boosts.append(_seq("title_f", form, 3.0 * weight))
            boosts.append(_seq("summary_f", form, 1.5 * weight))
            boosts.append(_seq("meta_f", form, 1.0 * weight))
    for phrase in pq.phrases:
        folded = [s.folded for s in phrase]
        boosts += [_seq("title_f", folded, 4.0), _seq("summary_f", folded, 1.5), _seq("meta_f", folded, 1.0)]
    seq = [s.folded for s in pq.words]
    if len(seq) > 1:
        boosts.append(Phrase("title_f", seq, boost=6.0))
        boosts.append(_seq("all_f", seq, boost=3.0))
        # Adjacent syllables as words: "bien cuong" meets the segmented word "biên_cương".
        pairs = dict.fromkeys(f"{a}_{b}" for a, b in pairwise(seq))
        boosts += [Term("words_f", p, boost=1.5) for p in pairs]
        # Part of the query side by side ranks above the same words scattered (proximity).
        if len(pairs) > 1:
            boosts += [Term("all_p", p) for p in pairs]
    # Typed diacritics: entries whose words carry exactly those marks come first.
    for s in dict.fromkeys(s for s in pq.words if s.exact != s.folded):
        boosts.append(Term("title_x", s.exact, boost=2.0))
        boosts.append(Term("all_x", s.exact, boost=1.0))
    boosts += [Term("codes", c, boost=5.0) for c in pq.codes]
    # A province named in the query: entries filed under it (or a former name of it) first.
    boosts += [Term("province", p, boost=4.0) for p in pq.places]
    # A year named in the query: entries of that year first.
    boosts += [Term("year", y, boost=4.0) for y in pq.years]
    return boosts
