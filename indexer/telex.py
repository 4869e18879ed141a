"""Read words typed with the Vietnamese keyboard switched off: Telex ("thawps") and VNI ("tha81p").

On a shared or borrowed machine the input method is often off, and what reaches the search box is
the keys themselves. A word is decoded only if it is not a real Vietnamese syllable as typed and
its keys, read as Telex or as VNI, give one: "thawps sangs" -> "thắp sáng", "to63 ta2u" -> "tổ
tàu", while "wifi", "zalo", "covid", "IUU", "4G", "nuoi ca" and unit numbers stay as they are.
Both orders work: the tone key right after its vowel ("thaafn") or at the end ("thaanf",
"thanaf").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container
from functools import lru_cache

from .text import canonical_syllable, fold_syllable
from .vietnamese import is_real_syllable, real_syllables

__all__ = ["decode_query", "decode_word"]

_VOWELS = "aeiouy"
# Telex tone keys and VNI tone digits -> the combining tone mark.
_TELEX_TONES = {"s": "\u0301", "f": "\u0300", "r": "\u0309", "x": "\u0303", "j": "\u0323"}
_VNI_TONES = {"1": "\u0301", "2": "\u0300", "3": "\u0309", "4": "\u0303", "5": "\u0323"}
_CIRCUMFLEX = {"a": "â", "e": "ê", "o": "ô"}
_BREVE = {"a": "ă"}
_HORN = {"o": "ơ", "u": "ư"}
_WORD = re.compile(r"[A-Za-z0-9]+")
_TOKEN = re.compile(r"\S+")
# Punctuation a word may carry at its edges in a query ("sangs?", "(bieen)", "-ddoonf").
_EDGES = "\"'.,;:!?()[]{}-"
# Telex keys that need no tone or "w": a doubled vowel, "dd", a vowel typed again after the final.
_DOUBLED = re.compile(r"aa|ee|oo|^dd|([aeo])[^aeiouy]+\1$")


def decode_query(text: str, known: Container[str] = frozenset()) -> str:
    """Return text with each Telex- or VNI-typed word decoded; other words as they were.

    Only words made of ASCII letters and digits are read, never a piece of a longer word ("café",
    an NFD "boóc"), and never a word in known (the folded words the entries use: "AIS", "GIS").
    """
    text = unicodedata.normalize("NFC", text)
    return _TOKEN.sub(lambda m: _decoded_token(m.group(), known), text)


def _decoded_token(token: str, known: Container[str]) -> str:
    """Return a whitespace-delimited token with its one ASCII word decoded, if it is one."""
    match = _WORD.fullmatch(token.strip(_EDGES))
    if match is None or match.group().lower() in known:
        return token
    found = decode_word(match.group())
    return token.replace(match.group(), found, 1) if found else token


@lru_cache(maxsize=20_000)
def decode_word(word: str) -> str | None:
    """Return the Vietnamese syllable a word typed in Telex or VNI stands for, or None.

    None when the word is a real syllable as typed, carries no Telex or VNI key, or decodes to
    nothing real. Upper case is kept for the first letter or the whole word.
    """
    lower = word.lower()
    if not lower.isascii() or len(lower) > 12 or is_real_syllable(lower, fold_syllable(lower)):
        return None
    for decode in (_telex, _vni):
        found = decode(lower)
        if found and is_real_syllable(found, fold_syllable(found)):
            return _cased(found, word)
    return None


def _cased(found: str, typed: str) -> str:
    """Return the decoded syllable in the case the word was typed in."""
    if typed.isupper() and len(typed) > 1:
        return found.upper()
    return found[:1].upper() + found[1:] if typed[:1].isupper() else found


def _first_vowel(word: str) -> int:
    """Return the index of the first vowel, or -1 (a leading "gi"/"qu" keeps its vowel)."""
    return next((i for i, c in enumerate(word) if c in _VOWELS), -1)


def _telex(word: str) -> str | None:
    """Decode Telex keys: dd, aa/ee/oo, aw/ow/uw/w, and the tone keys s f r x j."""
    start = _first_vowel(word)
    if start < 0 or not (any(c in word[start:] for c in "sfrxjw") or _DOUBLED.search(word)):
        return None
    head, rest = word[:start], word[start:]
    if head.startswith("dd"):
        head = "đ" + head[2:]
    tones = [c for c in rest if c in _TELEX_TONES]
    horn = "w" in rest
    letters = "".join(c for c in rest if c not in _TELEX_TONES and c != "w")
    if not letters or any(c in "fjwz" for c in head) or len(tones) > 1:
        return None
    letters = re.sub(r"(aa|ee|oo)", lambda m: _CIRCUMFLEX[m.group()[0]], letters, count=1)
    # The vowel typed again after the final consonant, as free-typing input methods allow ("thana").
    letters = re.sub(r"([aeo])([^aeiouy]+)\1$", lambda m: _CIRCUMFLEX[m.group(1)] + m.group(2), letters)
    if horn:
        letters = _hook(letters, head)
        if letters is None:
            return None
    return _with_tone(head + letters, _TELEX_TONES[tones[0]] if tones else "")


def _vni(word: str) -> str | None:
    """Decode VNI digits: 1-5 tones, 6 circumflex, 7 horn, 8 breve, 9 đ."""
    if not any(c.isdigit() for c in word) or not word[:1].isalpha():
        return None
    out, tone = [], ""
    if word.startswith("dd"):  # Telex's "dd" is common among VNI typists too
        out, word = ["đ"], word[2:]
    for c in word:
        if c in _VNI_TONES:
            if tone:
                return None
            tone = _VNI_TONES[c]
        elif c == "9":
            i = next((k for k in range(len(out) - 1, -1, -1) if out[k] == "d"), -1)
            if i < 0:
                return None
            out[i] = "đ"
        elif c in "678":
            table = {"6": _CIRCUMFLEX, "7": _HORN, "8": _BREVE}[c]
            # The mark goes on the nearest vowel before it that can carry it ("uo7" -> "ươ").
            i = next((k for k in range(len(out) - 1, -1, -1) if out[k] in table), -1)
            if i < 0:
                return None
            out[i] = table[out[i]]
            if c == "7" and out[i] == "ơ" and i > 0 and out[i - 1] == "u":
                out[i - 1] = "ư"
        elif c.isdigit():
            return None
        else:
            out.append(c)
    return _with_tone("".join(out), tone)


def _hook(letters: str, head: str) -> str | None:
    """Apply Telex "w" to the vowels: uo -> ươ, u -> ư, o -> ơ, a -> ă."""
    if "uo" in letters:
        return letters.replace("uo", "ươ", 1)
    if "u" in letters and not head.endswith("q"):
        return letters.replace("u", "ư", 1)
    if "o" in letters:
        return letters.replace("o", "ơ", 1)
    if "a" in letters:
        return letters.replace("a", "ă", 1)
    return None


def _with_tone(base: str, tone: str) -> str | None:
    """Put the tone mark on the vowel where a real syllable carries it (the first such placing)."""
    if not tone:
        return base
    marked, _plain = real_syllables()
    for i, c in enumerate(base):
        if c.lower() in "aăâeêioôơuưy":
            candidate = canonical_syllable(unicodedata.normalize("NFC", base[: i + 1] + tone + base[i + 1 :]))
            if candidate in marked:
                return candidate
    return None
