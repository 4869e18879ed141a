"""Which typed syllables are real Vietnamese (from underthesea's installed word list)."""

from __future__ import annotations

import pytest

from indexer.analysis import syllables
from indexer.vietnamese import is_real_syllable, real_syllables


def real(word: str) -> bool:
    """Return whether one typed syllable is real."""
    (s,) = syllables(word)
    return is_real_syllable(s.exact, s.folded)


def test_the_list_is_the_language_not_a_sample():
    marked, plain = real_syllables()
    assert len(marked) > 6000 and len(plain) > 2000


@pytest.mark.parametrize("word", ["túy", "bò", "lồng", "thuốc", "thuộc", "hoà", "hòa", "thuỷ", "Đồn", "phe", "tuy"])
def test_real_syllables_with_or_without_marks(word):
    assert real(word)


@pytest.mark.parametrize("word", ["thuôc", "tâp", "thăp", "thuyn", "ngưi", "wifi", "zalo", "iuu"])
def test_mistyped_marks_and_foreign_words_are_not(word):
    assert not real(word)
