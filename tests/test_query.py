"""Query parsing and expansion: phrases, exclusions, synonyms, typos."""

from __future__ import annotations

from indexer import Thesaurus, parse_query
from indexer.query import corrections


def forms(pq):
    """Return each part as (typed, [synonyms]) in exact forms."""
    return [
        (" ".join(s.exact for s in u.typed), [" ".join(s.exact for s in alt) for alt in u.synonyms]) for u in pq.parts
    ]


def thesaurus() -> Thesaurus:
    """Return a small thesaurus like content/synonyms.yml and places.yml."""
    t = Thesaurus()
    t.add_group(["BĐBP", "Bộ đội Biên phòng"])
    t.add_group(["TKCN", "tìm kiếm cứu nạn"])
    t.add_group(["CA", "công an"])
    t.add_expansion("Ninh Bình", ["Nam Định", "Hà Nam"])
    t.add_expansion("Nam Định", ["Ninh Bình"])
    return t


def test_phrases_exclusions_and_words():
    pq = parse_query('tủ thuốc "vùng biên" -đồn -"tàu cá"')
    assert [s.exact for s in pq.words] == ["tủ", "thuốc"]
    assert [[s.exact for s in p] for p in pq.phrases] == [["vùng", "biên"]]
    assert [[s.exact for s in p] for p in pq.excluded] == [["đồn"], ["tàu", "cá"]]


def test_an_unclosed_quote_is_a_phrase_to_the_end():
    pq = parse_query('"vùng biên')
    assert [[s.exact for s in p] for p in pq.phrases] == [["vùng", "biên"]]


def test_abbreviations_expand_both_ways_with_or_without_diacritics():
    t = thesaurus()
    assert forms(parse_query("BĐBP Hà Tĩnh", t))[0] == ("bđbp", ["bộ đội biên phòng"])
    assert forms(parse_query("bdbp", t))[0] == ("bdbp", ["bộ đội biên phòng"])
    assert forms(parse_query("bo doi bien phong", t)) == [("bo doi bien phong", ["bđbp"])]
    assert forms(parse_query("Tìm kiếm cứu nạn trên biển", t))[0] == ("tìm kiếm cứu nạn", ["tkcn"])


def test_a_word_typed_with_other_diacritics_is_not_an_abbreviation():
    t = thesaurus()
    assert forms(parse_query("cá", t)) == [("cá", [])]
    assert forms(parse_query("ca", t)) == [("ca", ["công an"])]


def test_place_names_expand_from_today_to_former_and_back():
    t = thesaurus()
    assert forms(parse_query("Ninh Bình", t)) == [("ninh bình", ["nam định", "hà nam"])]
    assert forms(parse_query("nam dinh", t)) == [("nam dinh", ["ninh bình"])]


def test_corrections_fix_unknown_syllables_first():
    lexicon = {"tau": 5, "thuyen": 3, "doan": 4, "ket": 6, "thuyet": 1}
    pq = corrections(parse_query("tau thuyn doan ket"), lexicon)
    by_word = {u.typed[0].folded: u.corrections for u in pq.parts}
    assert by_word["thuyn"] == ("thuyen",)
    assert by_word["tau"] == () and by_word["ket"] == ()


def test_corrections_are_the_same_in_every_process():
    """Equally frequent candidates are kept in a fixed order: the same query shows the same results
    whichever worker answers it (string hashing differs from one process to the next)."""
    lexicon = {c: 2 for c in ("tan", "tau", "tay", "tac", "tam", "tao", "tai", "tap", "tat")}
    chosen = corrections(parse_query("tax"), lexicon).parts[0].corrections
    assert len(chosen) == 6
    assert chosen == tuple(sorted(lexicon)[:6])


def test_a_real_syllable_is_only_respelled_next_to_a_neighbour():
    """ "túy" typed with its marks is a real word the knowledge base may lack: never turned into
    "tay". Typed without marks ("tuy"), it may be a typo, respelled only into a word that stands
    next to a neighbour of the query in some entry."""
    lexicon = {"ma": 9, "tay": 40, "tui": 30}  # no entry has "túy" (nor "tuy")
    beside = lambda a, b: (a, b) == ("ma", "tay")  # noqa: E731
    assert corrections(parse_query("ma túy"), lexicon, adjacent=beside).parts[1].corrections == ()
    assert corrections(parse_query("ma tuy"), lexicon, adjacent=lambda a, b: False).parts[1].corrections == ()
    assert corrections(parse_query("ma tuy"), lexicon, adjacent=beside).parts[1].corrections == ("tay",)
    # Not a Vietnamese syllable as typed: a plain typo, corrected wherever it is.
    typo = corrections(parse_query("tau thuyn"), {"tau": 5, "thuyen": 3}, adjacent=lambda a, b: False)
    assert typo.parts[1].corrections == ("thuyen",)


def test_a_word_typed_with_its_marks_and_found_so_is_never_respelled():
    lexicon = {"co": 2, "coi": 48, "vua": 5}
    pq = corrections(parse_query("cờ vua"), lexicon, adjacent=lambda a, b: True, known_exact={"cờ", "vua"})
    assert pq.parts[0].corrections == ()


def test_a_known_word_is_only_respelled_into_a_much_more_frequent_one():
    def fixed(lexicon):
        return corrections(parse_query("cay cao"), lexicon, adjacent=lambda a, b: True).parts[1].corrections

    assert fixed({"cay": 2, "cao": 17, "co": 48}) == ()
    assert fixed({"cay": 2, "cao": 3, "co": 48}) == ("co",)
