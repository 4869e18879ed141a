"""The entry file as the form sees it: composing keeps the author's layout for what did not change."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from kb.drafts import Draft, compose, read_draft, with_status_of
from kb.entries import load_fields, parse_entry
from kb.sections import BODY_TEMPLATE, SECTIONS, leftover_guidance

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "content" / "models").glob("*.md"))

# Written by hand: comments, aligned values, odd quotes, a folded summary, mixed list styles.
HAND_EDITED = """---
# Mục viết tay: giữ nguyên thứ tự các khóa
title:   "Tủ thuốc biên cương"        # bắt buộc
summary: >-
  Một hai câu về mô hình,
  gấp thành hai dòng.
unit: 'Bộ đội Biên phòng tỉnh Nghệ An'
fields: [Y tế,   Dân vận]              # hai lĩnh vực

tags:
- tủ thuốc      # đầu tiên
- 'sức khỏe'
year: "2022"
status: published
source:
    title: Báo Nghệ An (20/9/2022)
    date: 2022-09-20    # ngày đăng
noi_bo: {a: 1,  b: [x,y]}
contact: Chưa ghi nhận                     # tùy chọn
---
## Bối cảnh

Đoạn một.

## Cách làm

Đoạn hai.
"""


def changed_lines(old: str, new: str) -> list[str]:
    """Return the lines a line diff shows as removed (-) or added (+)."""
    diff = difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def reopened(text: str) -> Draft:
    """Return the draft the form shows for a file."""
    return read_draft(text.encode("utf-8"))[0]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_a_shipped_entry_saved_unchanged_is_byte_for_byte_the_same(path):
    text = path.read_text(encoding="utf-8")
    assert compose(reopened(text), text) == text


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_changing_one_paragraph_and_the_contact_of_a_shipped_entry_changes_only_those_lines(path):
    text = path.read_text(encoding="utf-8")
    draft = reopened(text)
    paragraph = next(line for line in draft.body.splitlines() if len(line) > 40 and not line.startswith(("#", "-")))
    draft.body = draft.body.replace(paragraph, paragraph + " Bổ sung một câu.")
    draft.contact = "Ban Dân vận, điện thoại 0238 000 000"
    saved = compose(draft, text)
    assert changed_lines(text, saved) == [
        "-contact: Chưa ghi nhận",
        "+contact: Ban Dân vận, điện thoại 0238 000 000",
        f"-{paragraph}",
        f"+{paragraph} Bổ sung một câu.",
    ]
    parse_entry(saved.encode("utf-8"), f"models/{path.name}", load_fields(ROOT / "content" / "fields.yml"))


def test_a_hand_edited_file_keeps_comments_and_quotes_when_other_fields_change():
    draft = reopened(HAND_EDITED)
    assert compose(draft, HAND_EDITED) == HAND_EDITED
    draft.contact = "yes"  # YAML 1.1 would read a bare yes as true
    draft.status = "archived"
    saved = compose(draft, HAND_EDITED)
    assert changed_lines(HAND_EDITED, saved) == [
        "-status: published",
        "+status: archived",
        "-contact: Chưa ghi nhận                     # tùy chọn",
        "+contact: 'yes'                             # tùy chọn",
    ]
    assert reopened(saved).contact == "yes"


def test_a_file_written_on_windows_keeps_its_line_ends_and_changes_only_what_changed():
    windows = HAND_EDITED.replace("\n", "\r\n")
    draft = reopened(windows)
    assert compose(draft, windows) == windows
    draft.contact = "Đồn Biên phòng Thử"
    draft.body = draft.body.replace("Đoạn hai.", "Đoạn hai, sửa lại.")
    saved = compose(draft, windows)
    assert saved.count("\r\n") == saved.count("\n")  # every line still ends the Windows way
    assert changed_lines(windows, saved) == [
        "-contact: Chưa ghi nhận                     # tùy chọn",
        "+contact: Đồn Biên phòng Thử                # tùy chọn",
        "-Đoạn hai.",
        "+Đoạn hai, sửa lại.",
    ]
    entry = parse_entry(saved.encode("utf-8"), "models/tu-thuoc.md", load_fields(ROOT / "content" / "fields.yml"))
    assert entry.contact == "Đồn Biên phòng Thử" and "Đoạn hai, sửa lại." in entry.body


def test_a_changed_value_keeps_the_style_it_was_written_in():
    draft = reopened(HAND_EDITED)
    draft.title = "Tủ thuốc quân dân"
    draft.summary = "Tóm tắt mới: một câu."
    draft.tags = ["tủ thuốc", "sức khỏe", "2022"]
    draft.source_url = "https://example.org/tu-thuoc"
    saved = compose(draft, HAND_EDITED)
    assert changed_lines(HAND_EDITED, saved) == [
        '-title:   "Tủ thuốc biên cương"        # bắt buộc',
        '+title: "Tủ thuốc quân dân"            # bắt buộc',
        "-  Một hai câu về mô hình,",
        "-  gấp thành hai dòng.",
        "+  Tóm tắt mới: một câu.",
        "+- '2022'",
        "+    url: https://example.org/tu-thuoc",
    ]
    again = reopened(saved)
    assert (again.title, again.summary, again.tags) == (draft.title, draft.summary, draft.tags)
    assert "date: 2022-09-20    # ngày đăng" in saved and "noi_bo: {a: 1,  b: [x,y]}" in saved


def test_emptied_fields_are_removed_and_new_ones_go_in_the_documented_order():
    draft = reopened(HAND_EDITED)
    draft.tags, draft.contact, draft.province, draft.year = [], "", "Nghệ An", None
    saved = compose(draft, HAND_EDITED)
    assert changed_lines(HAND_EDITED, saved) == [
        "+province: Nghệ An",
        "-tags:",
        "-- tủ thuốc      # đầu tiên",
        "-- 'sức khỏe'",
        '-year: "2022"',
        "-contact: Chưa ghi nhận                     # tùy chọn",
    ]
    assert saved.index("province:") < saved.index("fields:")


def test_a_new_entry_is_written_in_the_standard_layout_and_reads_back_the_same():
    draft = Draft(title="Bếp ăn", summary="Nấu ăn: cho bà con", unit="Đồn Biên phòng A", fields=["Y tế"],
                  tags=["no", "2024"], year=2024, source_title="Ghi chép", contact="null")  # fmt: skip
    text = compose(draft)
    assert text.startswith("---\ntitle: Bếp ăn\nsummary: 'Nấu ăn: cho bà con'\n") or text.startswith(
        '---\ntitle: Bếp ăn\nsummary: "Nấu ăn: cho bà con"\n'
    )
    assert "fields:\n  - Y tế\ntags:\n  - 'no'\n  - '2024'\nyear: 2024\nstatus: draft\n" in text
    again = reopened(text)
    assert (again.tags, again.contact, again.summary) == (["no", "2024"], "null", "Nấu ăn: cho bà con")


def test_a_status_change_rewrites_the_status_line_only():
    current = HAND_EDITED.replace("status: published", "status: archived")
    proposal = HAND_EDITED.replace("Đoạn hai.", "Đoạn hai, đã sửa.")
    assert changed_lines(current, with_status_of(proposal, current.encode("utf-8"))) == [
        "-Đoạn hai.",
        "+Đoạn hai, đã sửa.",
    ]


def test_the_new_entry_template_has_the_documented_sections_in_order_and_no_guidance():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = readme[readme.index("## Bối cảnh") :].split("```")[0].split("\n")
    assert [line[3:] for line in documented if line.startswith("## ")] == [s.heading for s in SECTIONS]
    assert [line[3:] for line in BODY_TEMPLATE.splitlines() if line.startswith("## ")] == [s.heading for s in SECTIONS]
    assert leftover_guidance(BODY_TEMPLATE) == []
    for section in SECTIONS:
        assert section.guidance not in BODY_TEMPLATE


def test_guidance_is_found_however_it_is_spaced_or_marked():
    body = "## Bối cảnh\n\n-  Đơn vị, địa bàn và vấn đề  mà mô hình giải quyết. Đồn A.\n\nĐơn vị khác cần gì?\n"
    assert [(line, s.heading) for line, s in leftover_guidance(body)] == [(3, "Bối cảnh")]


def test_a_front_matter_written_as_one_flow_mapping_is_rewritten_in_the_standard_layout():
    text = "---\n{title: Tổ đò, summary: Tóm tắt, unit: Đồn A, fields: [Y tế]}\n---\n\nNội dung.\n"
    draft = reopened(text)
    draft.contact = "Đồn A"
    saved = compose(draft, text)
    assert saved.startswith("---\ntitle: Tổ đò\nsummary: Tóm tắt\nunit: Đồn A\nfields:\n  - Y tế\n")
    assert "contact: Đồn A\n---\n\nNội dung.\n" in saved


def test_kb_check_warns_about_guidance_left_in_a_file_at_its_line():
    text = "---\ntitle: A\nsummary: B\nunit: C\nfields: [Y tế]\n---\n\n## Kết quả\n\n"
    text += "Kết quả đã ghi nhận (chỉ nêu số liệu có nguồn).\n"
    (warning,) = parse_entry(text.encode("utf-8"), "models/a.md", ("Y tế",)).warnings
    assert (
        str(warning)
        == "models/a.md:10: cảnh báo: câu gợi ý của phần “Kết quả” vẫn còn trong nội dung: hãy thay bằng nội dung thật"
    )
