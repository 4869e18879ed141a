"""Expand query words with abbreviations, synonyms and place names, both ways."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .analysis import Syllable, syllables

__all__ = ["Expansion", "Thesaurus", "matches_typed"]


def matches_typed(typed: Syllable, form: Syllable) -> bool:
    """Return True if a typed syllable stands for form.

    Typed with diacritics, it must carry the same ones ("cá" is not "CA");
    typed without any, it stands for every syllable that folds to it.
    """
    if typed.exact == form.exact:
        return True
    return typed.exact == typed.folded and typed.folded == form.folded


@dataclass(frozen=True)
class Expansion:
    """A run of query syllables [start, end) and the phrases it may also stand for."""

    start: int
    end: int
    alternatives: tuple[tuple[Syllable, ...], ...]  # other forms, each a syllable sequence


@dataclass(frozen=True)
class _Rule:
    """One form and what it expands to."""

    form: tuple[Syllable, ...]
    alternatives: tuple[tuple[Syllable, ...], ...]


class Thesaurus:
    """Groups of equivalent forms (abbreviations, synonyms) and one-way expansions (places)."""

    def __init__(self) -> None:
        """Start empty."""
        self._rules: dict[str, list[_Rule]] = defaultdict(list)  # by the folded first syllable
        self.size = 0

    def add_group(self, forms: Iterable[str]) -> None:
        """Make every form in the group stand for every other."""
        parsed = _parse(forms)
        for form in parsed:
            self._add(form, [f for f in parsed if f != form])
        self.size += 1

    def add_expansion(self, form: str, alternatives: Iterable[str]) -> None:
        """Make form also stand for the alternatives (not the other way round)."""
        parsed = _parse([form])
        if parsed:
            self._add(parsed[0], [a for a in _parse(alternatives) if a != parsed[0]])

    def _add(self, form: tuple[Syllable, ...], alternatives: list[tuple[Syllable, ...]]) -> None:
        """Record one rule, merging with an existing rule for the same form."""
        bucket = self._rules[form[0].folded]
        for i, rule in enumerate(bucket):
            if [s.exact for s in rule.form] == [s.exact for s in form]:
                merged = tuple(dict.fromkeys([*rule.alternatives, *alternatives]))
                bucket[i] = _Rule(form, merged)
                return
        bucket.append(_Rule(form, tuple(alternatives)))

    def expand(self, query: Sequence[Syllable]) -> list[Expansion]:
        """Find the longest known forms in the query, left to right, without overlaps."""
        found, i = [], 0
        while i < len(query):
            best: list[_Rule] = []
            for rule in self._rules.get(query[i].folded, ()):
                n = len(rule.form)
                if i + n <= len(query) and all(
                    matches_typed(q, f) for q, f in zip(query[i : i + n], rule.form, strict=True)
                ):
                    if not best or n > len(best[0].form):
                        best = [rule]
                    elif n == len(best[0].form):
                        best.append(rule)
            if best:
                n = len(best[0].form)
                alternatives = tuple(dict.fromkeys(a for rule in best for a in rule.alternatives))
                found.append(Expansion(i, i + n, alternatives))
                i += n
            else:
                i += 1
        return found


def _parse(forms: Iterable[str]) -> list[tuple[Syllable, ...]]:
    """Turn each form into its syllables, dropping empty and repeated forms."""
    parsed = []
    for form in forms:
        sylls = tuple(syllables(str(form)))
        if sylls and sylls not in parsed:
            parsed.append(sylls)
    return parsed
