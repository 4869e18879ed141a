"""Snippets: the best passage, marked at the original offsets, escaped."""

import unicodedata

from indexer import highlight, snippet


def test_the_passage_with_the_query_words_side_by_side_is_chosen():
    text = "Kết quả tốt. " * 30 + "Tổ Đò đoàn kết hoạt động. " + "Đoàn thể tham gia. " * 20
    assert "Tổ Đò <mark>đoàn</mark> <mark>kết</mark> hoạt động" in snippet(text, frozenset({"doan", "ket"}))


def test_marks_wrap_the_original_characters_of_an_nfd_text():
    text = unicodedata.normalize("NFD", "Giữ gìn hoà bình")
    html = highlight(text, frozenset({"hòa"}))
    start = html.index("<mark>") + len("<mark>")
    assert html[start : html.index("</mark>")] == unicodedata.normalize("NFD", "hoà")


def test_a_text_without_matches_shows_its_beginning():
    text = "Một hai ba bốn năm. " * 40
    html = snippet(text, frozenset({"xyz"}), size=50)
    assert html.startswith("Một hai ba") and html.endswith("…") and len(html) < 70


def test_repeated_words_are_each_marked():
    assert highlight("an ninh, an ninh", frozenset({"an"})) == "<mark>an</mark> ninh, <mark>an</mark> ninh"


def test_a_multi_word_synonym_is_marked_only_where_it_stands_whole():
    from indexer.snippets import Marks

    marks = Marks(frozenset({"tkcn"}), (("tim", "kiem", "cuu", "nan"),))
    html = highlight("Tìm kiếm cứu nạn trên biển. Tìm người, kiếm việc.", marks)
    assert (
        html == "<mark>Tìm</mark> <mark>kiếm</mark> <mark>cứu</mark> <mark>nạn</mark> trên biển. Tìm người, kiếm việc."
    )
