"""Query parsing and expansion: phrases, exclusions, synonyms, typos."""

from __future__ import annotations

from indexer import Thesaurus, parse_query
from indexer.query import corrections


def forms(pq):
    """Return each unit as (typed, [synonyms]) in exact forms."""
    return [
        (" ".join(s.exact for s in u.typed), [" ".join(s.exact for s in alt) for alt in u.synonyms]) for u in pq.units
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
    by_word = {u.typed[0].folded: u.corrections for u in pq.units}
    assert by_word["thuyn"] == ("thuyen",)
    assert by_word["tau"] == () and by_word["ket"] == ()


def test_corrections_are_the_same_in_every_process():
    """Equally frequent candidates are kept in a fixed order: the same query shows the same results
    whichever worker answers it (string hashing differs from one process to the next)."""
    lexicon = {c: 2 for c in ("tan", "tau", "tay", "tac", "tam", "tao", "tai", "tap", "tat")}
    chosen = corrections(parse_query("tax"), lexicon).units[0].corrections
    assert len(chosen) == 6
    assert chosen == tuple(sorted(lexicon)[:6])
