"""Words typed with the Vietnamese keyboard off (Telex or VNI keys) are read as Vietnamese."""

from __future__ import annotations

import pytest

from indexer.telex import decode_query


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("thawps sangs vungf bieen", "thắp sáng vùng biên"),  # Telex, tone right after the vowel
        ("thaafn", "thần"),  # tone before the final consonant
        ("thaanf", "thần"),  # tone at the end
        ("thanaf", "thần"),  # the vowel typed again after the final, then the tone
        ("ddoonf bieen phongf", "đồn biên phòng"),
        ("dduwowngf truwowngf nguwowif", "đường trường người"),
        ("tuyeen truyeefn", "tuyên truyền"),
        ("hoaf", "hòa"),  # tone on its canonical vowel
        ("to63 ta2u thuye62n", "tổ tàu thuyền"),  # VNI
        ("tha81p d9o62n thu7o7ng thuo7ng", "thắp đồn thương thương"),
        ("BIEEN PHOFNG", "BIÊN PHÒNG"),  # upper case kept
        ("Ngheej An", "Nghệ An"),
        ("thắp sangs", "thắp sáng"),  # accented words and Telex keys in one query
    ],
)
def test_telex_and_vni_keys_read_as_vietnamese(typed, meant):
    assert decode_query(typed) == meant


@pytest.mark.parametrize(
    "typed",
    ["wifi", "zalo", "flycam", "covid", "IUU", "4G", "nuoi ca", "Đồn 123", "google form", "camera",
     "website", "facebook", "tau thuyen doan ket", "Campuchia", "123/QĐ-BĐBP"],
)  # fmt: skip
def test_real_words_codes_and_plain_vietnamese_are_left_alone(typed):
    assert decode_query(typed) == typed


def test_only_whole_ascii_words_are_read_never_pieces_of_others():
    import unicodedata

    assert decode_query("café") == "café"
    nfd = unicodedata.normalize("NFD", "boóc goòng")
    assert decode_query(nfd) == unicodedata.normalize("NFC", nfd)
    assert decode_query("(sangs)?") == "(sáng)?"


def test_a_word_the_entries_use_is_never_decoded():
    """ "AIS" (a vessel tracker) reads as Telex "ái"; an entry that says AIS keeps it AIS."""
    assert decode_query("thiết bị AIS") == "thiết bị ÁI"
    assert decode_query("thiết bị AIS", known={"ais"}) == "thiết bị AIS"
