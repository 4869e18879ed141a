"""Normalisation: Unicode forms, tone-mark placement, invisible characters, folding."""

import random
import unicodedata

import pytest

from indexer import canonical_syllable, fold_accents, normalize_text


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("hoà", "hòa"),
        ("Hoà", "Hòa"),
        ("HOÀ", "HÒA"),
        ("thuỷ", "thủy"),
        ("khoẻ", "khỏe"),
        ("Hoá", "Hóa"),
        ("Uỷ", "Ủy"),
        ("tuỳ", "tùy"),
        ("loà", "lòa"),  # missing from underthesea's own table
    ],
)
def test_old_tone_placement_becomes_canonical(old, new):
    assert canonical_syllable(old) == new
    assert canonical_syllable(new) == new


@pytest.mark.parametrize("word", ["hoàn", "quý", "quỳ", "thuở", "người", "Nghệ", "biên"])
def test_syllables_with_one_tone_place_are_unchanged(word):
    assert canonical_syllable(word) == word


def test_nfd_and_nfc_normalise_to_the_same_text():
    text = "Thanh Hoá, hoà bình, Tủ thuốc biên cương"
    nfd = unicodedata.normalize("NFD", text)
    assert nfd != text
    assert normalize_text(nfd) == normalize_text(text) == "Thanh Hóa, hòa bình, Tủ thuốc biên cương"


def test_invisible_characters_are_removed():
    assert normalize_text("biên\u200bcương\u00ad \ufeffđồn") == "biêncương đồn"


@pytest.mark.parametrize(
    ("text", "folded"),
    [("Đường đồn", "Duong don"), ("dương", "duong"), ("Tủ thuốc", "Tu thuoc"), ("ĐỒN BIÊN PHÒNG", "DON BIEN PHONG")],
)
def test_fold_accents_removes_every_diacritic_including_d_bar(text, folded):
    assert fold_accents(text) == folded
    assert fold_accents(unicodedata.normalize("NFD", text)) == folded


def _fold_slowly(text: str) -> str:
    """Fold the textbook way: decompose the whole text, drop the marks, compose again."""
    text = text.replace("đ", "d").replace("Đ", "D")
    stripped = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped)


def test_fast_folding_equals_folding_the_whole_text_at_once():
    rng = random.Random(7)
    ranges = [(32, 0x250), (0x300, 0x370), (0x370, 0x530), (0x1100, 0x1200), (0xAC00, 0xAD00), (0x1E00, 0x1F00)]
    samples = ["Đường tuần tra biên giới", unicodedata.normalize("NFD", "Hoà bình ĐỒN Biên phòng"), "ǅ Å ά"]
    for _ in range(5000):
        samples.append("".join(chr(rng.randrange(*rng.choice(ranges))) for _ in range(rng.randrange(1, 12))))
    for text in samples:
        assert fold_accents(text) == _fold_slowly(text), repr(text)
