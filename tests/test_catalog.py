"""Reindexing: incremental by content hash, full with atomic switch, broken entries skipped."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_entry

from indexer import SearchIndex
from kb.catalog import check_content, index_dir, reindex
from kb.store import get_entry, open_db


def search_slugs(data_dir: Path, query: str) -> list[str]:
    """Return the slugs a search finds."""
    return [h.slug for h in SearchIndex(index_dir(data_dir)).search(query).hits]


def test_first_run_indexes_everything_and_fills_the_database(content_dir, data_dir):
    report = reindex(content_dir, data_dir)
    assert (report.full, report.added, report.skipped) == (True, 4, 0)
    row = get_entry(open_db(data_dir), "tu-thuoc-bien-cuong")
    assert row["title"] == "Tủ thuốc biên cương"
    assert row["fields"] == ["Y tế", "Dân vận"]
    assert row["path"] == "models/tu-thuoc-bien-cuong.md"
    assert len(row["content_hash"]) == 64
    assert row["indexed_at"]
    assert "<h2" in row["body_html"]
    assert search_slugs(data_dir, "tủ thuốc")[0] == "tu-thuoc-bien-cuong"


def test_a_second_run_with_nothing_changed_does_nothing(content_dir, data_dir):
    reindex(content_dir, data_dir)
    report = reindex(content_dir, data_dir)
    assert (report.full, report.added, report.updated, report.removed, report.unchanged) == (False, 0, 0, 0, 4)
    assert "thêm 0, cập nhật 0, xóa 0, bỏ qua 0 (4 không đổi)" in report.summary()


def test_incremental_picks_up_new_changed_and_deleted_files(content_dir, data_dir):
    reindex(content_dir, data_dir)
    write_entry(content_dir, "o-moi", "Nội dung", title="Ô mới", summary="Tóm tắt", unit="Đồn A", fields=["Y tế"])
    path = content_dir / "models" / "thap-sang-vung-bien.md"
    path.write_text(path.read_text(encoding="utf-8").replace("năng lượng mặt trời", "điện gió"), encoding="utf-8")
    (content_dir / "models" / "to-tau-thuyen-doan-ket.md").unlink()
    report = reindex(content_dir, data_dir)
    assert (report.full, report.added, report.updated, report.removed, report.unchanged) == (False, 1, 1, 1, 2)
    assert search_slugs(data_dir, "điện gió") == ["thap-sang-vung-bien"]
    assert search_slugs(data_dir, '"năng lượng mặt trời"') == []
    assert search_slugs(data_dir, '"tàu thuyền"') == []
    assert get_entry(open_db(data_dir), "to-tau-thuyen-doan-ket") is None


def test_a_broken_new_entry_is_reported_and_the_rest_indexed(content_dir, data_dir):
    bad = content_dir / "models" / "hong.md"
    bad.write_text("---\ntitle: Hỏng\nsummary: [\n---\n", encoding="utf-8")
    report = reindex(content_dir, data_dir)
    assert (report.added, report.skipped) == (4, 1)
    assert [str(p).split(": ")[0] for p in report.problems] == ["models/hong.md:3"]
    assert search_slugs(data_dir, "tủ thuốc")[0] == "tu-thuoc-bien-cuong"


def test_an_entry_broken_after_indexing_keeps_serving_its_last_good_version(content_dir, data_dir):
    reindex(content_dir, data_dir)
    path = content_dir / "models" / "tu-thuoc-bien-cuong.md"
    path.write_text(path.read_text(encoding="utf-8").replace("unit:", "unit: [", 1), encoding="utf-8")
    for full in (False, True):
        report = reindex(content_dir, data_dir, full=full)
        assert report.skipped == 1 and report.removed == 0
        assert search_slugs(data_dir, "tủ thuốc biên cương")[0] == "tu-thuoc-bien-cuong"
        assert get_entry(open_db(data_dir), "tu-thuoc-bien-cuong")["title"] == "Tủ thuốc biên cương"


def test_full_reindex_rebuilds_into_a_new_build_folder(content_dir, data_dir):
    reindex(content_dir, data_dir)
    before = (index_dir(data_dir) / "CURRENT").read_text()
    report = reindex(content_dir, data_dir, full=True)
    assert (report.full, report.updated, report.unchanged) == (True, 0, 4)
    assert (index_dir(data_dir) / "CURRENT").read_text() != before
    assert search_slugs(data_dir, "tủ thuốc")[0] == "tu-thuoc-bien-cuong"


def test_a_lost_index_is_rebuilt_in_full(content_dir, data_dir):
    reindex(content_dir, data_dir)
    (index_dir(data_dir) / "CURRENT").unlink()
    assert reindex(content_dir, data_dir).full


def test_a_moved_file_keeps_its_entry(content_dir, data_dir):
    reindex(content_dir, data_dir)
    src = content_dir / "models" / "thap-sang-vung-bien.md"
    (content_dir / "models" / "ninh-binh").mkdir()
    src.rename(content_dir / "models" / "ninh-binh" / "thap-sang-vung-bien.md")
    report = reindex(content_dir, data_dir)
    assert (report.updated, report.removed) == (1, 0)
    assert get_entry(open_db(data_dir), "thap-sang-vung-bien")["path"] == "models/ninh-binh/thap-sang-vung-bien.md"


def test_two_files_with_one_slug_keep_the_first_and_report_the_second(content_dir, data_dir):
    reindex(content_dir, data_dir)
    write_entry(content_dir, "tu-thuoc-bien-cuong", "x", folder="khac", title="Tủ thuốc biên cương",
                summary="Bản trùng", unit="Đồn B", fields=["Y tế"])  # fmt: skip
    report = reindex(content_dir, data_dir)
    assert report.skipped == 1
    assert "trùng với tệp models/tu-thuoc-bien-cuong.md" in str(report.problems[0])
    assert get_entry(open_db(data_dir), "tu-thuoc-bien-cuong")["summary"].startswith("Tủ thuốc đặt")


def test_check_content_reports_every_problem(content_dir):
    (content_dir / "models" / "hong.md").write_text("---\ntitle: Hỏng\n---\n", encoding="utf-8")
    report = check_content(content_dir)
    assert report.files == 5
    assert len(report.entries) == 4
    assert [str(p) for p in report.errors] == [
        "models/hong.md:1: thiếu trường bắt buộc 'summary' (tóm tắt)",
        "models/hong.md:1: thiếu trường bắt buộc 'unit' (đơn vị)",
        "models/hong.md:1: thiếu trường bắt buộc 'fields' (lĩnh vực): cần ít nhất một lĩnh vực",
    ]


@pytest.mark.slow
def test_a_file_that_breaks_yaml_keys_or_markdown_is_skipped_not_fatal(content_dir, data_dir):
    (content_dir / "models" / "khoa-so.md").write_text(
        "---\ntitle: Khóa số\nsummary: x\nunit: y\nfields: [Y tế]\n2022: ghi chú\n---\nNội dung\n", encoding="utf-8"
    )
    nested = "".join("    " * i + "- mục\n" for i in range(300))
    write_entry(content_dir, "long-nhau", nested, title="Lồng nhau", summary="x", unit="y", fields=["Y tế"])
    report = reindex(content_dir, data_dir)
    assert (report.added, report.skipped) == (4, 2)
    messages = [str(p) for p in report.problems]
    assert "models/khoa-so.md:6: khóa '2022' phải là chữ (tên trường như title, summary…)" in messages
    # Markdown gives up on the nesting (or, on a slow or busy machine, runs out of its time first).
    assert any(m.startswith("models/long-nhau.md:1: ") and "nội dung markdown" in m.lower() for m in messages)
    assert "long-nhau.md" in str(check_content(content_dir).errors)


def test_duplicate_slugs_resolve_the_same_way_in_every_mode(content_dir, data_dir):
    reindex(content_dir, data_dir)
    write_entry(content_dir, "tu-thuoc-bien-cuong", "x", folder="a", title="Tủ thuốc biên cương",
                summary="Bản trong thư mục a", unit="Đồn B", fields=["Y tế"])  # fmt: skip
    for full in (False, True):
        reindex(content_dir, data_dir, full=full)
        assert get_entry(open_db(data_dir), "tu-thuoc-bien-cuong")["summary"].startswith("Tủ thuốc đặt")
    # The broken established file still keeps its slug, and the index holds it once.
    path = content_dir / "models" / "tu-thuoc-bien-cuong.md"
    path.write_text(path.read_text(encoding="utf-8").replace("unit:", "unit: [", 1), encoding="utf-8")
    reindex(content_dir, data_dir, full=True)
    assert search_slugs(data_dir, "tủ thuốc biên cương").count("tu-thuoc-bien-cuong") == 1


def test_a_broken_entry_survives_a_lost_index(content_dir, data_dir):
    reindex(content_dir, data_dir)
    path = content_dir / "models" / "thap-sang-vung-bien.md"
    path.write_text(path.read_text(encoding="utf-8").replace("unit:", "unit: [", 1), encoding="utf-8")
    (index_dir(data_dir) / "CURRENT").unlink()
    report = reindex(content_dir, data_dir)
    assert report.full and report.skipped == 1
    assert search_slugs(data_dir, "thắp sáng vùng biên")[0] == "thap-sang-vung-bien"


def test_changing_the_fields_list_rebuilds_everything(content_dir, data_dir):
    reindex(content_dir, data_dir)
    fields = content_dir / "fields.yml"
    fields.write_text(fields.read_text(encoding="utf-8").replace("- Dân vận\n", ""), encoding="utf-8")
    report = reindex(content_dir, data_dir)
    assert report.full
    assert any("lĩnh vực 'Dân vận' không có" in str(p) for p in report.problems)


def test_a_province_under_its_former_name_is_filed_under_todays(content_dir, data_dir):
    (content_dir / "places.yml").write_text("merged:\n  Ninh Bình: [Ninh Bình, Nam Định]\n", encoding="utf-8")
    write_entry(content_dir, "nam-dinh", "x", title="Mô hình Nam Định", summary="x", unit="Đồn C",
                province="Nam Định", fields=["Y tế"])  # fmt: skip
    reindex(content_dir, data_dir)
    from kb.vocabulary import load_vocabulary

    vocab = load_vocabulary(content_dir)
    index = SearchIndex(index_dir(data_dir), vocab.thesaurus, vocab.regions)
    by_old_name = index.search("", filters={"province": ["Nam Định"]})
    assert {h.slug for h in by_old_name.hits} == {"nam-dinh", "thap-sang-vung-bien"}
    assert ("Ninh Bình", 2) in index.search("").facets["province"]
    assert "thap-sang-vung-bien" in [h.slug for h in index.search("Nam Định").hits]
    assert "nam-dinh" in [h.slug for h in index.search("Ninh Bình").hits]
