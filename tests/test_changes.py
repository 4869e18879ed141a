"""What changed between two versions of an entry, as the reviewer reads it."""

from __future__ import annotations

from pathlib import Path

from kb.changes import FIELD_LABELS, compare
from kb.web.forms import EntryForm

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = (ROOT / "content" / "models" / "tu-thuoc-bien-cuong.md").read_text(encoding="utf-8")


def reformatted(text: str) -> str:
    """Return the entry as the old composer wrote it: summary on one line, tags listed, quotes changed."""
    return (
        text.replace("summary: >-\n  ", "summary: ")
        .replace(
            "tags: [tủ thuốc, chăm sóc sức khỏe, y tế, khu vực biên giới, BĐBP Nghệ An]",
            "tags:\n  - tủ thuốc\n  - chăm sóc sức khỏe\n  - y tế\n  - khu vực biên giới\n  - BĐBP Nghệ An",
        )
        .replace('  title: "Báo Nghệ An (20/9/2022): Hội', "  title: 'Báo Nghệ An (20/9/2022): Hội")
        .replace('Bộ đội Biên phòng"\n', "Bộ đội Biên phòng'\n")
    )


def text_of(parts) -> str:
    return "".join(text for _kind, text in parts)


def marked(parts) -> list[tuple[str, str]]:
    return [(kind, text) for kind, text in parts if kind != "same"]


def test_formatting_alone_is_no_change():
    other = reformatted(SHIPPED)
    assert other != SHIPPED
    changes = compare(SHIPPED, other)
    assert changes.identical and changes.fields == [] and changes.body == []


def test_one_paragraph_and_the_contact_show_as_exactly_those_with_the_words_marked():
    paragraph = "Chưa được ghi nhận — đơn vị cần bổ sung, dựa trên thực tế triển khai của chính đơn vị."
    edited = reformatted(SHIPPED).replace(paragraph, paragraph.replace("Chưa được ghi nhận", "Đã ghi nhận một phần"))
    edited = edited.replace("contact: Chưa ghi nhận", "contact: Ban Quân y, 0238 000 000")
    changes = compare(SHIPPED, edited)
    assert [(c.label, text_of(c.old), text_of(c.new)) for c in changes.fields] == [
        ("Liên hệ", "Chưa ghi nhận", "Ban Quân y, 0238 000 000")
    ]
    assert len(changes.body) == 1
    hunk = changes.body[0]
    assert hunk.heading == "Bài học kinh nghiệm"
    assert [kind for kind, _parts in hunk.rows] == ["del", "add"]
    (_, old), (_, new) = hunk.rows
    assert text_of(old) == paragraph
    assert marked(old) == [("del", "Chưa được")]
    assert marked(new) == [("ins", "Đã"), ("ins", " một phần")]  # "ghi nhận" stayed between them
    assert text_of(new).startswith("Đã ghi nhận một phần —")


def test_list_items_added_and_removed_are_marked_one_by_one():
    edited = SHIPPED.replace("khu vực biên giới, BĐBP Nghệ An]", "BĐBP Nghệ An, quân dân y]")
    (change,) = compare(SHIPPED, edited).fields
    assert change.label == "Từ khóa"
    assert marked(change.old) == [("del", "khu vực biên giới")]
    assert marked(change.new) == [("ins", "quân dân y")]


def test_other_keys_and_the_source_date_are_compared_too():
    edited = SHIPPED.replace("  date: 2022-09-20", "  date: 2022-09-21").replace("---\n\n", "noi_bo: mới\n---\n\n")
    assert {(c.label, text_of(c.old), text_of(c.new)) for c in compare(SHIPPED, edited).fields} == {
        ("Ngày của nguồn", "2022-09-20", "2022-09-21"),
        ("noi_bo", "", "mới"),
    }


def test_a_file_yaml_cannot_read_is_shown_line_by_line():
    changes = compare(SHIPPED, SHIPPED.replace("fields:", "fields: [", 1))
    assert not changes.readable and not changes.identical


def test_the_labels_are_the_words_the_editor_saw_on_the_form():
    for key in (
        "title",
        "summary",
        "unit",
        "province",
        "fields",
        "tags",
        "year",
        "source_title",
        "source_url",
        "contact",
    ):
        assert getattr(EntryForm, key).args[0].startswith(FIELD_LABELS[key])  # tags: "Từ khóa (cách nhau…)"
