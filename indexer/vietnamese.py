"""Which syllables are real Vietnamese: a typed word that is one is never "corrected" into another.

The list is every syllable of the Viet74K word list shipped inside underthesea (no download):
about 9 000 syllables, with the tone marks written in this project's canonical place. A
syllable typed with its marks ("túy", "bò") is real if it is in the list as typed; one typed
without marks ("tuy", "bo") is real if some syllable of the list folds to it.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from .text import SYLLABLE_RE, canonical_syllable, fold_syllable

__all__ = ["is_real_syllable", "real_syllables"]

_SOURCE = ("underthesea.corpus", "data/Viet74K.txt")


@cache
def real_syllables() -> tuple[frozenset[str], frozenset[str]]:
    """Return the real syllables with their marks, and folded."""
    package, name = _SOURCE
    text = resources.files(package).joinpath(name).read_text(encoding="utf-8")
    exact = frozenset(canonical_syllable(m.group().lower()) for m in SYLLABLE_RE.finditer(text))
    return exact, frozenset(fold_syllable(s) for s in exact)


def is_real_syllable(exact: str, folded: str) -> bool:
    """Return True if a typed syllable is a real Vietnamese one: as typed if it carries marks."""
    marked, plain = real_syllables()
    return exact in marked if exact != folded else folded in plain
