"""The entry loader: front matter, validation messages with lines, normalisation."""

import unicodedata
from pathlib import Path

import pytest

from kb.entries import InvalidEntry, load_entry, load_fields, parse_entry

FIELDS = ("Y tế", "Dân vận", "Phòng, chống tội phạm")

GOOD = """---
title: Tủ thuốc biên cương
summary: Tủ thuốc cho bà con vùng biên.
unit: Bộ đội Biên phòng tỉnh Nghệ An
province: Nghệ An
fields:
  - Y tế
tags: [tủ thuốc]
year: 2022
source:
  title: Báo Nghệ An
  date: 2022-09-20
---

## Bối cảnh

Nội dung.
"""


def problems_of(text: str, rel: str = "models/tu-thuoc-bien-cuong.md") -> list[str]:
    """Return the problems of an invalid entry as 'path:line: message' strings."""
    with pytest.raises(InvalidEntry) as info:
        parse_entry(text.encode("utf-8"), rel, FIELDS)
    return [str(p) for p in info.value.problems]


def test_a_good_entry_loads_with_every_value():
    entry = parse_entry(GOOD.encode(), "models/tu-thuoc-bien-cuong.md", FIELDS)
    assert entry.slug == "tu-thuoc-bien-cuong"
    assert entry.fields == ("Y tế",)
    assert entry.year == 2022
    assert entry.status == "published"
    assert entry.source.date == "2022-09-20"
    assert entry.body.startswith("## Bối cảnh")
    assert entry.warnings == ()


@pytest.mark.parametrize(
    ("key", "line"),
    [("title", "title: Tủ thuốc biên cương\n"), ("summary", "summary: Tủ thuốc cho bà con vùng biên.\n"),
     ("unit", "unit: Bộ đội Biên phòng tỉnh Nghệ An\n"), ("fields", "fields:\n  - Y tế\n")],
)  # fmt: skip
def test_each_missing_required_key_is_reported(key, line):
    found = problems_of(GOOD.replace(line, ""))
    assert any(f"thiếu trường bắt buộc '{key}'" in p for p in found), found


def test_bad_yaml_is_reported_with_its_line():
    found = problems_of(GOOD.replace("tags: [tủ thuốc]", "tags: [tủ thuốc"))
    assert len(found) == 1
    assert found[0].startswith("models/tu-thuoc-bien-cuong.md:")
    assert "YAML không hợp lệ" in found[0]
    assert found[0].split(":")[1] == "8"  # the line where the unclosed list begins


def test_a_wrong_value_is_reported_at_the_line_of_its_key():
    found = problems_of(GOOD.replace("year: 2022", "year: hai nghìn"))
    assert found == [
        "models/tu-thuoc-bien-cuong.md:9: 'year' phải là một số nguyên (năm), ví dụ 2022, không phải 'hai nghìn'"
    ]


def test_an_unknown_field_suggests_the_closest_one():
    found = problems_of(GOOD.replace("  - Y tế", "  - Y te"))
    assert found == [
        "models/tu-thuoc-bien-cuong.md:7: lĩnh vực 'Y te' không có trong content/fields.yml; có phải là 'Y tế'?"
    ]


def test_summary_longer_than_600_characters_is_refused():
    found = problems_of(GOOD.replace("Tủ thuốc cho bà con vùng biên.", "a" * 601))
    assert found == ["models/tu-thuoc-bien-cuong.md:3: 'summary' dài 601 ký tự, tối đa 600"]


def test_missing_front_matter_and_unclosed_front_matter():
    assert problems_of("# Chỉ có nội dung\n") == [
        "models/tu-thuoc-bien-cuong.md:1: thiếu phần đầu YAML: tệp phải bắt đầu bằng dòng '---'"
    ]
    assert "chưa được đóng" in problems_of("---\ntitle: x\n")[0]


@pytest.mark.parametrize(
    ("opening", "closing"),
    [("---", "---"), ("-----", "---"), ("---  ", "---\t"), ("---", "------")],
)
def test_any_line_of_three_or_more_dashes_opens_and_closes_the_front_matter(opening, closing):
    text = GOOD.replace("---\n", f"{opening}\n", 1).replace("\n---\n", f"\n{closing}\n", 1)
    entry = parse_entry(text.encode(), "models/tu-thuoc-bien-cuong.md", FIELDS)
    assert (entry.title, entry.body) == ("Tủ thuốc biên cương", "## Bối cảnh\n\nNội dung.\n")


@pytest.mark.parametrize("first_line", ["--", " ---", "--- title: x", "+++"])
def test_a_file_not_opening_with_a_dashes_line_has_no_front_matter(first_line):
    assert "thiếu phần đầu YAML" in problems_of(GOOD.replace("---", first_line, 1))[0]


def test_duplicate_keys_are_reported():
    found = problems_of(GOOD.replace("province: Nghệ An", "province: Nghệ An\nprovince: Hà Tĩnh"))
    assert found == ["models/tu-thuoc-bien-cuong.md:6: khóa 'province' bị lặp (đã có ở dòng 5)"]


def test_a_file_that_is_not_utf8_is_reported():
    with pytest.raises(InvalidEntry) as info:
        parse_entry(GOOD.encode("utf-16"), "models/x.md", FIELDS)
    assert "không phải UTF-8" in str(info.value)


def test_a_bad_status_is_reported():
    found = problems_of(GOOD.replace("year: 2022", "year: 2022\nstatus: xong"))
    assert "'status' phải là một trong 'published', 'draft', 'review', 'archived', không phải 'xong'" in found[0]


def test_file_name_must_be_a_slug():
    found = problems_of(GOOD, rel="models/Tủ thuốc.md")
    assert "tên tệp phải là slug" in found[0]
    assert "tu-thuoc-bien-cuong.md" in found[0]


def test_unknown_keys_and_an_empty_body_are_warnings_not_errors():
    text = GOOD.replace("year: 2022", "year: 2022\ntitel: x").split("## Bối cảnh")[0]
    entry = parse_entry(text.encode(), "models/tu-thuoc-bien-cuong.md", FIELDS)
    messages = [p.message for p in entry.warnings]
    assert "khóa lạ 'titel' sẽ bị bỏ qua; có phải là 'title'?" in messages
    assert "nội dung trống" in messages


def test_an_nfd_file_in_the_old_tone_style_is_normalised_but_not_rewritten(tmp_path: Path):
    content = tmp_path / "content"
    path = content / "models" / "tu-thuoc-bien-cuong.md"
    path.parent.mkdir(parents=True)
    text = GOOD.replace("Nghệ An\n", "Thanh Hoá\n").replace("Nội dung.", "Giữ gìn hoà bình, khoẻ mạnh.")
    raw = unicodedata.normalize("NFD", text).encode("utf-8")
    path.write_bytes(raw)
    entry = load_entry(path, content, FIELDS)
    assert entry.title == "Tủ thuốc biên cương"  # NFC
    assert entry.province == "Thanh Hóa"
    assert "Giữ gìn hòa bình, khỏe mạnh." in entry.body
    assert path.read_bytes() == raw  # the author's file is untouched


def test_fields_are_matched_whatever_the_tone_style():
    text = GOOD.replace("  - Y tế", "  - Phòng, chống tội phạm")
    entry = parse_entry(unicodedata.normalize("NFD", text).encode(), "models/tu-thuoc-bien-cuong.md", FIELDS)
    assert entry.fields == ("Phòng, chống tội phạm",)


def test_load_fields_reports_a_broken_list(tmp_path: Path):
    path = tmp_path / "fields.yml"
    path.write_text("lĩnh vực: Y tế\n", encoding="utf-8")
    with pytest.raises(InvalidEntry, match="danh sách YAML"):
        load_fields(path)


@pytest.mark.parametrize(
    "title", ["???", "—", "😀", "!!! ...", "« »"], ids=["questions", "dash", "emoji", "dots", "quotes"]
)
def test_a_title_with_no_letter_or_digit_is_refused(title):
    text = GOOD.replace("title: Tủ thuốc biên cương", f'title: "{title}"')
    assert problems_of(text) == [
        "models/tu-thuoc-bien-cuong.md:2: tiêu đề phải có ít nhất một chữ cái hoặc chữ số "
        "(không thể chỉ gồm dấu câu, ký hiệu hay biểu tượng)"
    ]


def test_a_title_with_a_letter_or_a_digit_among_symbols_is_kept():
    text = GOOD.replace("title: Tủ thuốc biên cương", 'title: "5 tốt ⭐"')
    assert parse_entry(text.encode(), "models/tu-thuoc-bien-cuong.md", FIELDS).title == "5 tốt ⭐"


@pytest.mark.parametrize("key", ["title", "summary", "unit"])
@pytest.mark.parametrize(
    "blank", ["\u200b", "\ufeff\u200b", "\u3164", "\u2060 \u200d"], ids=["zwsp", "bom", "filler", "joiners"]
)
def test_a_required_value_of_invisible_characters_only_is_reported_missing(key, blank):
    line = {"title": 2, "summary": 3, "unit": 4}[key]
    original = {"title": "Tủ thuốc biên cương", "summary": "Tủ thuốc cho bà con vùng biên.",
                "unit": "Bộ đội Biên phòng tỉnh Nghệ An"}[key]  # fmt: skip
    text = GOOD.replace(f"{key}: {original}", f'{key}: "{blank}"')
    problems = problems_of(text)
    assert len(problems) == 1 and problems[0].startswith(f"models/tu-thuoc-bien-cuong.md:{line}: thiếu trường bắt buộc")
