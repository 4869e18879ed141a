"""Analysis: syllables with offsets into the original text, and underthesea compounds."""

import unicodedata

import pytest

from indexer import analyze, syllables


def test_syllables_keep_offsets_into_the_original_nfd_text():
    text = unicodedata.normalize("NFD", "Tủ thuốc biên cương")
    found = syllables(text)
    assert [s.exact for s in found] == ["tủ", "thuốc", "biên", "cương"]
    assert [s.folded for s in found] == ["tu", "thuoc", "bien", "cuong"]
    # Offsets point into the NFD string, which is longer than its NFC form.
    assert [unicodedata.normalize("NFC", text[s.start : s.end]) for s in found] == ["Tủ", "thuốc", "biên", "cương"]


def test_repeated_words_get_their_own_offsets():
    text = "an ninh, an ninh"
    found = syllables(text)
    assert [(s.start, s.end) for s in found] == [(0, 2), (3, 7), (9, 11), (12, 16)]


def test_short_vietnamese_words_are_not_dropped_as_stop_words():
    assert [s.exact for s in syllables("an ninh ở biên giới, to be")] == ["an", "ninh", "ở", "biên", "giới", "to", "be"]


def test_underthesea_compounds_are_found_and_mapped_to_syllables():
    analysis = analyze("Tủ thuốc biên cương của Bộ đội Biên phòng tỉnh Nghệ An")
    assert "biên_cương" in analysis.word_terms(folded=False)
    assert "bo_doi" in analysis.word_terms(folded=True)
    assert "nghệ_an" in analysis.word_terms(folded=False)


def test_old_tone_style_and_nfd_text_segment_like_the_canonical_text():
    canonical = analyze("Bảo đảm hòa bình và an ninh")
    variant = analyze(unicodedata.normalize("NFD", "Bảo đảm hoà bình và an ninh"))
    assert variant.word_terms(False) == canonical.word_terms(False)
    assert "hòa_bình" in canonical.word_terms(False)


def test_underscore_and_symbols_separate_syllables():
    assert [s.exact for s in syllables('biên_cương "AND(" * : ~')] == ["biên", "cương", "and"]


def test_what_underthesea_really_does_with_tone_placement():
    """Record the segmenter's own behaviour that the analysis works around."""
    from underthesea import word_tokenize

    # Trained on the old placement, it knows "thuỷ điện" and "khoẻ mạnh" as words…
    assert word_tokenize("nhà máy thuỷ điện", use_token_normalize=False) == ["nhà máy", "thuỷ điện"]
    assert word_tokenize("người dân khoẻ mạnh", use_token_normalize=False) == ["người dân", "khoẻ mạnh"]
    # …but splits them in the new placement, which is also what its own normaliser produces.
    assert word_tokenize("nhà máy thủy điện", use_token_normalize=False) == ["nhà máy", "thủy", "điện"]
    assert word_tokenize("người dân khoẻ mạnh") == ["người dân", "khỏe", "mạnh"]
    # "hòa bình" is a word in both placements.
    assert word_tokenize("Giữ gìn hòa bình", use_token_normalize=False) == ["Giữ gìn", "hòa bình"]


@pytest.mark.parametrize(
    ("text", "word"),
    [("nhà máy thủy điện", "thủy_điện"), ("nhà máy thuỷ điện", "thủy_điện"),
     ("người dân khỏe mạnh", "khỏe_mạnh"), ("người dân khoẻ mạnh", "khỏe_mạnh"),
     ("giữ gìn hòa bình", "hòa_bình"), ("giữ gìn hoà bình", "hòa_bình")],
)  # fmt: skip
def test_compounds_do_not_depend_on_the_authors_tone_placement(text, word):
    assert word in analyze(text).word_terms(folded=False)
