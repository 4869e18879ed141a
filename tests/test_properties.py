"""Property-based tests: the text pipeline never raises on any Unicode, and keeps its promises."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from indexer import fold_accents, normalize_text, parse_query, syllables
from kb.slugs import SLUG_RE, slugify

# Every letter Vietnamese writes, in both cases and both tone styles' code points.
VIETNAMESE = "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvxyỳýỷỹỵ"
LETTERS = VIETNAMESE + VIETNAMESE.upper()
vietnamese_text = st.text(alphabet=st.sampled_from(list(LETTERS + " ,.;:!?-\"'()0123456789\n")), max_size=200)
any_text = st.text(max_size=300)  # every Unicode code point hypothesis can draw, marks and controls included


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_normalising_never_raises_and_is_idempotent(text):
    once = normalize_text(text)
    assert normalize_text(once) == once
    assert unicodedata.is_normalized("NFC", once)


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_folding_never_raises_and_is_idempotent(text):
    folded = fold_accents(text)
    assert fold_accents(folded) == folded


def test_folding_maps_every_vietnamese_letter_to_a_plain_latin_letter():
    for letter in LETTERS:
        for form in ("NFC", "NFD"):
            folded = fold_accents(unicodedata.normalize(form, letter))
            assert len(folded) == 1 and folded.isascii() and folded.isalpha(), (letter, form, folded)
    assert fold_accents("Đường Đồn đá") == "Duong Don da"


@settings(max_examples=300, deadline=None)
@given(vietnamese_text)
def test_syllables_point_back_at_the_text_they_came_from(text):
    for syllable in syllables(text):
        piece = text[syllable.start : syllable.end]
        assert fold_accents(normalize_text(piece)).lower() == syllable.folded


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_slugs_are_always_safe_file_names(text):
    slug = slugify(text)
    assert slug == "" or SLUG_RE.match(slug)
    assert "/" not in slug and ".." not in slug


@settings(max_examples=300, deadline=None)
@given(st.one_of(any_text, st.text(alphabet=st.sampled_from(list('"-*():~^[]{}AND OR NOT title: \\')), max_size=80)))
def test_the_query_parser_never_raises(text):
    parsed = parse_query(text)
    assert isinstance(parsed.text, str)


SYLLABLES = [
    "tìm",
    "tim",
    "kiếm",
    "cứu",
    "nạn",
    "biên",
    "biển",
    "phòng",
    "đồn",
    "Tìm",
    "BĐBP",
    "an",
    "ninh",
    "x1",
    "biên\u00adphòng",
    "cứu\u200b",
]  # a soft hyphen or a zero-width space inside a syllable
SEPARATORS = [" ", "  ", ", ", ". ", "-", "\n", " (", "'", "\u200b"]
pieces = st.lists(st.tuples(st.sampled_from(SYLLABLES), st.sampled_from(SEPARATORS)), max_size=40)
runs_of_syllables = st.lists(st.sampled_from(SYLLABLES), min_size=2, max_size=4)


@settings(max_examples=300, deadline=None)
@given(pieces, st.sets(st.sampled_from(SYLLABLES), max_size=4), st.lists(runs_of_syllables, max_size=2))
def test_snippet_marks_found_from_candidates_equal_those_from_every_syllable(parts, words, runs):
    """Marks are found from the few syllables that fold to a query word; a run of them must be
    marked exactly where analysing every syllable of the text would mark it."""
    from indexer.snippets import Marks, _matches

    text = "".join(s + sep for s, sep in parts)
    marks = Marks(
        frozenset(w.lower() for w in words), tuple(tuple(fold_accents(s).lower() for s in run) for run in runs)
    )
    assert _matches(text, marks) == _matches(text, marks, complete=True)
