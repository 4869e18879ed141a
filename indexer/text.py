"""Normalise Vietnamese text the same way for documents, queries and display."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = [
    "SYLLABLE_RE",
    "canonical_syllable",
    "fold_accents",
    "fold_syllable",
    "normalize_text",
    "strip_invisible",
]

# Characters that are invisible yet split or glue words: zero-width space/joiners,
# word joiner, BOM, soft hyphen, the invisible operators, and the Hangul fillers (letters to
# Unicode, blank on screen: a title of one would name nothing). Dropped wherever they occur.
INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\u115f\u1160\u3164\uffa0"
_INVISIBLE_TABLE = dict.fromkeys(map(ord, INVISIBLE))

# A syllable is a run of letters/digits, with combining marks (NFD input) and
# invisible characters allowed inside. "_" separates syllables, so a user who
# types "biên_cương" still gets two syllables.
SYLLABLE_RE = re.compile(rf"(?:[^\W_]|[\u0300-\u036f{INVISIBLE}])+")

# The five Vietnamese tone marks as combining characters (grave, acute, tilde,
# hook above, dot below); circumflex, breve and horn are part of the letter.
_TONES = "\u0300\u0301\u0303\u0309\u0323"

# Open syllables whose tone mark has two accepted places ("hoà"/"hòa",
# "khoẻ"/"khỏe", "thuỷ"/"thủy"). The canonical form puts it on the first vowel,
# as underthesea's own normaliser does; "qu" + "y" is excluded because there the
# "u" belongs to the initial consonant ("quý").
_MOVABLE = re.compile(r"^(?P<head>.*?[^q]|)(?P<pair>oa|oe|uy)$")


def strip_invisible(text: str) -> str:
    """Remove zero-width characters and soft hyphens."""
    return text.translate(_INVISIBLE_TABLE)


@lru_cache(maxsize=200_000)
def canonical_syllable(syllable: str, old_style: bool = False) -> str:
    """Return one syllable in NFC with the tone mark in its canonical place.

    The canonical place is the first vowel of an open "oa", "oe", "uy" ("hòa"); with
    old_style, the second ("hoà"), which is what underthesea's segmenter was trained on.
    """
    decomposed = unicodedata.normalize("NFD", strip_invisible(syllable))
    tones = [c for c in decomposed if c in _TONES]
    if len(tones) != 1:
        return unicodedata.normalize("NFC", decomposed)
    base = unicodedata.normalize("NFC", decomposed.replace(tones[0], ""))
    match = _MOVABLE.match(base.lower())
    if not match:
        return unicodedata.normalize("NFC", decomposed)
    at = len(match.group("head")) + (1 if old_style else 0)  # the vowel that carries the mark
    return unicodedata.normalize("NFC", base[: at + 1] + tones[0] + base[at + 1 :])


def normalize_text(text: str) -> str:
    """Return text in NFC, without invisible characters, with canonical tone marks."""
    text = unicodedata.normalize("NFC", text)
    text = SYLLABLE_RE.sub(lambda m: canonical_syllable(m.group()), text)
    return strip_invisible(text)


@lru_cache(maxsize=200_000)
def fold_syllable(syllable: str) -> str:
    """Fold one syllable (cached: a knowledge base uses a few thousand distinct syllables)."""
    return fold_accents(syllable)


class _FoldTable(dict):
    """Each character's canonical decomposition without its combining marks, learnt on first use.

    Stripping marks character by character and then composing the whole is what decomposing
    the whole, stripping and composing gives (only marks are ever reordered), at C speed.
    """

    def __missing__(self, code: int) -> str:
        folded = "".join(c for c in unicodedata.normalize("NFD", chr(code)) if not unicodedata.combining(c))
        if code < 0x3000:  # letters with marks live below; the table stays small whatever is typed
            self[code] = folded
        return folded


_FOLD = _FoldTable({ord("đ"): "d", ord("Đ"): "D"})


def fold_accents(text: str) -> str:
    """Remove every Vietnamese diacritic, folding đ to d ("Đường" -> "Duong")."""
    folded = text.translate(_FOLD)
    return folded if folded.isascii() else unicodedata.normalize("NFC", folded)
