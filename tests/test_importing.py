"""Bulk import from a spreadsheet: the dry run, the drafts it creates, re-runs, hostile files, the CLI and the page."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from helpers import login, site_with_accounts, token

from indexer import SearchIndex
from kb.catalog import index_dir
from kb.editing import Who
from kb.importing import COLUMNS, LABELS, LENGTHS, apply_import, plan_import
from kb.spreadsheets import MAX_ROWS, SheetRefused, read_sheet, template_csv
from kb.store import open_db
from kb.uploads import Limits

HEADERS = [LABELS[c] for c in COLUMNS]
# Title, summary, unit, province, fields, tags, year, source title, URL and date, contact, body.
GOOD = [
    ["Bếp ăn tình thương", "Bữa trưa miễn phí cho học sinh vùng biên.", "Đồn Biên phòng Sín Thầu", "Điện Biên",
     "Giáo dục - Huấn luyện; Dân vận", "bếp ăn, học sinh", "2023", "Báo Biên phòng", "https://bienphong.vn/a",
     "15/06/2024", "Đại úy Lò Văn A", "## Cách làm\n\nMỗi trưa đồn nấu cơm cho các em."],
    ["Con nuôi đồn Biên phòng", "Cán bộ nhận đỡ đầu học sinh nghèo.", "Đồn Biên phòng Thanh Thủy", "Hà Giang",
     "Phòng, chống tội phạm, An sinh xã hội", "", "2022", "", "", "06/2024", "", ""],
]  # fmt: skip


def xlsx(rows: list[list], headers: list[str] = HEADERS) -> bytes:
    """Return a workbook whose first sheet holds headers and rows."""
    book = openpyxl.Workbook()
    for row in [headers, *rows]:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list], delimiter: str = ",", bom: bool = True, headers: list[str] = HEADERS) -> bytes:
    """Return a CSV file (UTF-8) of headers and rows."""
    import csv

    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows([headers, *rows])
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


@pytest.fixture
def site(content_dir, data_dir):
    """The app over the samples (with the shipped province names), one admin, one editor."""
    return site_with_accounts(content_dir, data_dir, {"quantri": "admin", "bientap": "editor"})


def plan(site, data: bytes, name: str = "bang.xlsx"):
    """Return the dry run of a file against the site's knowledge base."""
    sheet = read_sheet(data, name, Limits())
    return plan_import(sheet, site.config["KB_CONTENT_DIR"], open_db(site.config["KB_DATA_DIR"]))


def run(site, data: bytes, name: str = "bang.xlsx"):
    """Check a file, then save its rows as the admin would on confirming."""
    config = site.config
    done = apply_import(plan(site, data, name), config["KB_CONTENT_DIR"], config["KB_DATA_DIR"],
                        open_db(config["KB_DATA_DIR"]), Who("quantri"))  # fmt: skip
    return done


def state(content_dir: Path, data_dir: Path) -> dict:
    """Return everything an import may write: the files, and the rows of every table it touches."""
    db = open_db(data_dir)
    return {
        "files": {p.name: p.read_bytes() for p in (content_dir / "models").rglob("*.md")},
        **{t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("entries", "revisions", "audit")},
    }


def drafts_in_index(data_dir: Path, words: str) -> set[str]:
    """Return the slugs the search index finds among drafts."""
    return {h.slug for h in SearchIndex(index_dir(data_dir)).search(words, statuses=("draft",)).hits}


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (xlsx(GOOD), "bang.xlsx"),
        (csv_bytes(GOOD), "bang.csv"),
        (csv_bytes(GOOD, delimiter=";"), "bang.csv"),
        (csv_bytes(GOOD, delimiter=";", bom=False), "bang.csv"),
        (csv_bytes(GOOD, bom=False), "khong-duoi"),
    ],
    ids=["xlsx", "csv-comma-bom", "csv-semicolon-bom", "csv-semicolon", "csv-without-extension"],
)
def test_a_dry_run_of_xlsx_or_csv_lists_every_row_and_changes_nothing(site, content_dir, data_dir, data, name):
    before = state(content_dir, data_dir)
    checked = plan(site, data, name)
    assert [(r.row, r.title, r.action, r.messages) for r in checked.rows] == [
        (2, "Bếp ăn tình thương", "create", []),
        (3, "Con nuôi đồn Biên phòng", "create",
         ["Dòng 3, cột “Tỉnh, thành phố”: “Hà Giang” là tên trước năm 2025, nay thuộc Tuyên Quang; tên được giữ như "
          "đã ghi"]),
    ]  # fmt: skip
    second = checked.rows[1].draft
    # A field holding a comma stays whole; a former province name is kept as written; dates become ISO.
    assert second.fields == ["Phòng, chống tội phạm", "An sinh xã hội"]
    assert (second.province, second.source_date, second.year) == ("Hà Giang", "2024-06", 2022)
    assert checked.summary() == "tạo mới 2, cập nhật 0, không đổi 0, lỗi 0"
    assert state(content_dir, data_dir) == before


def test_headers_are_matched_without_accents_case_or_hints(site):
    headers = ["TEN MO HINH", "tom tat", "Don vi *", "tinh, thanh pho", "Linh vuc (chọn trong danh sách)", "nam",
               "Ghi chú nội bộ"]  # fmt: skip
    rows = [["Bếp ăn tình thương", "Tóm tắt.", "Đồn A", "dien bien", "giao duc huan luyen", "2023", "x"]]
    checked = plan(site, xlsx(rows, headers))
    draft = checked.rows[0].draft
    assert (draft.title, draft.unit, draft.province, draft.fields, draft.year) == (
        "Bếp ăn tình thương", "Đồn A", "Điện Biên", ["Giáo dục - Huấn luyện"], 2023,
    )  # fmt: skip
    assert checked.notes == ["Cột “Ghi chú nội bộ” (dòng 1) không thuộc mẫu nên được bỏ qua."]


def test_excel_dates_and_numbers_are_read_as_typed(site):
    import datetime as dt

    row = [*GOOD[0][:6], 2023.0, "", "", dt.datetime(2024, 6, 15), "", ""]
    draft = plan(site, xlsx([row])).rows[0].draft
    assert (draft.year, draft.source_date) == (2023, "2024-06-15")


def test_errors_name_the_row_and_the_column_and_only_those_rows_are_skipped(site, content_dir, data_dir):
    bad = [
        ["Năm sai", "Tóm tắt.", "Đồn A", "", "Y tế", "", "20x", "", "", "", "", ""],
        ["Ngày sai", "Tóm tắt.", "Đồn A", "", "Y tế", "", "", "", "", "31/02/2024", "", ""],
        ["Lĩnh vực sai", "Tóm tắt.", "Đồn A", "", "Y tếê", "", "", "", "", "", "", ""],
        ["Địa chỉ sai", "Tóm tắt.", "Đồn A", "", "Y tế", "", "", "", "javascript:alert(1)", "", "", ""],
        ["Thiếu tóm tắt", "", "Đồn A", "", "Y tế", "", "", "", "", "", "", ""],
        ["Tỉnh sai", "Tóm tắt.", "Đồn A", "Tỉnh Xyz", "Y tế", "", "", "", "", "", "", ""],
        ["Năm xa", "Tóm tắt.", "Đồn A", "", "Y tế", "", "1900", "", "", "", "", ""],
        ["Bếp ăn tình thương", "Tóm tắt dài. " * 60, "Đồn A", "", "Y tế", "", "", "", "", "", "", ""],
    ]
    checked = plan(site, xlsx([GOOD[0], *bad]))
    messages = {r.row: r.messages for r in checked.rows}
    assert messages[3] == ["Dòng 3, cột “Năm”: “20x” không phải một năm; hãy ghi bốn chữ số, ví dụ 2022"]
    assert messages[4] == ["Dòng 4, cột “Ngày của nguồn”: Ngày 31/02/2024 không có thật: tháng 2 năm 2024 chỉ có 29 "
                           "ngày."]  # fmt: skip
    assert messages[5] == ["Dòng 5, cột “Lĩnh vực”: Lĩnh vực 'Y tếê' không có trong content/fields.yml; có phải là "
                           "'Y tế'?"]  # fmt: skip
    assert messages[6] == ["Dòng 6, cột “Địa chỉ nguồn”: 'source.url' phải là địa chỉ bắt đầu bằng http:// hoặc "
                           "https://"]  # fmt: skip
    assert messages[7] == ["Dòng 7, cột “Tóm tắt”: Thiếu trường bắt buộc 'summary' (tóm tắt)"]
    assert messages[8][0].startswith("Dòng 8, cột “Tỉnh, thành phố”: “Tỉnh Xyz” không phải tên tỉnh")
    assert messages[9] == ["Dòng 9, cột “Năm”: Năm 1900 không hợp lệ"]
    assert messages[10] == ["Dòng 10, cột “Tóm tắt”: 'summary' dài 779 ký tự, tối đa 600"]
    assert [r.action for r in checked.rows] == ["create"] + ["error"] * len(bad)
    done = run(site, xlsx([GOOD[0], *bad]))
    assert done.summary(done=True) == "đã tạo 1, đã cập nhật 0, không đổi 0, lỗi 8"
    assert {p.stem for p in (content_dir / "models").glob("*.md")} == {
        "tu-thuoc-bien-cuong", "thap-sang-vung-bien", "to-tau-thuyen-doan-ket", "ban-nhap-thu-nghiem",
        "bep-an-tinh-thuong",
    }  # fmt: skip


def test_confirmed_rows_become_drafts_in_files_database_index_and_audit(site, content_dir, data_dir):
    done = run(site, xlsx(GOOD), "mo-hinh.xlsx")
    assert [(r.action, r.slug) for r in done.rows] == [("created", "bep-an-tinh-thuong"),
                                                       ("created", "con-nuoi-don-bien-phong")]  # fmt: skip
    text = (content_dir / "models" / "bep-an-tinh-thuong.md").read_text(encoding="utf-8")
    assert "status: draft" in text and "date: '2024-06-15'" in text and "Mỗi trưa đồn nấu cơm" in text
    # No body in the sheet: the draft starts from the recommended sections, as the form does.
    assert "## " in (content_dir / "models" / "con-nuoi-don-bien-phong.md").read_text(encoding="utf-8")
    db = open_db(data_dir)
    rows = {r["slug"]: r["status"] for r in db.query("SELECT slug, status FROM entries")}
    assert rows["bep-an-tinh-thuong"] == rows["con-nuoi-don-bien-phong"] == "draft"
    assert drafts_in_index(data_dir, "bếp ăn tình thương") == {"bep-an-tinh-thuong"}
    audit = list(db.query("SELECT action, target, detail FROM audit WHERE action IN ('create', 'import') ORDER BY id"))
    assert audit == [
        {"action": "create", "target": "bep-an-tinh-thuong", "detail": "Nhập từ bảng tính “mo-hinh.xlsx”, dòng 2"},
        {"action": "create", "target": "con-nuoi-don-bien-phong",
         "detail": "Nhập từ bảng tính “mo-hinh.xlsx”, dòng 3"},
        {"action": "import", "target": "mo-hinh.xlsx", "detail": "đã tạo 2, đã cập nhật 0, không đổi 0, lỗi 0"},
    ]  # fmt: skip


def test_running_a_file_again_updates_its_drafts_instead_of_duplicating_them(site, content_dir, data_dir):
    run(site, xlsx(GOOD))
    db = open_db(data_dir)
    revisions = db.execute("SELECT count(*) FROM revisions").fetchone()[0]
    assert plan(site, xlsx(GOOD)).summary() == "tạo mới 0, cập nhật 0, không đổi 2, lỗi 0"
    # Another spelling of the same title and unit: case, spaces, decomposed Unicode, the old tone place.
    changed = [list(GOOD[0]), list(GOOD[1])]
    changed[0][0] = "  BẾP  ĂN tình thương "
    changed[0][1] = "Bữa trưa và bữa tối miễn phí cho học sinh."
    changed[1][2] = "Đồn biên phòng thanh thủy".replace("ủ", "u\u0309")
    done = run(site, xlsx(changed))
    assert [(r.action, r.slug) for r in done.rows] == [("updated", "bep-an-tinh-thuong"),
                                                       ("unchanged", "con-nuoi-don-bien-phong")]  # fmt: skip
    assert db.execute("SELECT count(*) FROM entries WHERE status = 'draft'").fetchone()[0] == 3  # the sample too
    assert db.execute("SELECT count(*) FROM revisions").fetchone()[0] == revisions + 1
    text = (content_dir / "models" / "bep-an-tinh-thuong.md").read_text(encoding="utf-8")
    assert "Bữa trưa và bữa tối" in text and "title: Bếp ăn tình thương" in text  # the title is not respelled
    assert not (content_dir / "models" / "bep-an-tinh-thuong-2.md").exists()


def test_tone_placement_hoa_and_hoa_match_the_same_draft(site):
    rows = [["Mô hình hòa giải", "Tóm tắt.", "Đồn Hòa Bình", "", "Dân vận", "", "", "", "", "", "", ""]]
    run(site, xlsx(rows))
    rows[0][0], rows[0][2] = "Mô hình hoà giải", "Đồn Hoà Bình"
    assert [r.action for r in plan(site, xlsx(rows)).rows] == ["unchanged"]


def test_a_published_entry_that_matches_is_reported_and_left_untouched(site, content_dir):
    path = content_dir / "models" / "tu-thuoc-bien-cuong.md"
    before = path.read_bytes()
    rows = [["Tủ thuốc biên cương", "Tóm tắt khác.", "Bộ đội Biên phòng tỉnh Nghệ An", "", "Y tế", "", "", "", "",
             "", "", ""]]  # fmt: skip
    done = run(site, xlsx(rows))
    assert [(r.action, r.messages) for r in done.rows] == [("kept", ["Dòng 2: đã xuất bản, không ghi đè"])]
    assert path.read_bytes() == before


def test_a_matching_draft_whose_file_was_broken_by_hand_is_an_error_not_a_crash(site, content_dir):
    run(site, xlsx(GOOD[:1]))
    (content_dir / "models" / "bep-an-tinh-thuong.md").write_text("---\ntitle: [unclosed\n---\n", encoding="utf-8")
    checked = plan(site, xlsx(GOOD[:1]))
    assert [r.action for r in checked.rows] == ["error"]
    assert "(“bep-an-tinh-thuong”) không còn hoặc có lỗi" in checked.rows[0].messages[0]


def test_the_same_title_and_unit_twice_in_one_file_is_an_error_on_the_second_row(site):
    checked = plan(site, xlsx([GOOD[0], GOOD[0]]))
    assert [r.action for r in checked.rows] == ["create", "error"]
    assert checked.rows[1].messages == ["Dòng 3, cột “Tên mô hình”: Trùng tên mô hình và đơn vị với dòng 2; dòng "
                                        "này bị bỏ qua"]  # fmt: skip


def _zip_bomb() -> bytes:
    """Return a workbook-shaped zip whose one member inflates from a few KB to 50 MB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<a>" + b" " * (50 * 1024 * 1024) + b"</a>")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "name", "said"),
    [
        (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "bang.xlsx", "không phải loại được nhận"),
        (_zip_bomb(), "bang.xlsx", "bom nén"),
        ("Tên mô hình;Tóm tắt\nA;B\n".encode("cp1258", "replace"), "bang.csv", "không được lưu bằng bảng mã UTF-8"),
        ("Tên mô hình,Tóm tắt\n".encode().decode("cp1252").encode(), "bang.csv", "bị sai bảng mã"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "bang.xlsx", "không phải bảng tính"),
        (csv_bytes([], headers=["Tên", "Ghi chú"]), "bang.csv", "thiếu cột bắt buộc “Tóm tắt”, “Đơn vị”, “Lĩnh vực”"),
        (csv_bytes([], headers=["Mã", "Ghi chú"]), "bang.csv", "không tìm thấy dòng tiêu đề"),
        (template_csv(HEADERS), "bang.csv", "không có dòng dữ liệu nào"),
        (csv_bytes([["x"] * 4] * (MAX_ROWS + 10)), "bang.csv", "có hơn 2 000 dòng"),
    ],
    ids=["html-as-xlsx", "zip-bomb", "cp1258", "mojibake", "pdf", "missing-columns", "no-header", "empty", "too-long"],
)
def test_a_file_that_cannot_be_imported_is_refused_whole_with_a_clear_message(site, content_dir, data_dir, data, name,
                                                                               said):  # fmt: skip
    before = state(content_dir, data_dir)
    with pytest.raises(SheetRefused, match=re.escape(said)):
        plan(site, data, name)
    assert state(content_dir, data_dir) == before


def test_the_length_limits_are_the_edit_forms(site):
    from kb.web.forms import EntryForm

    with site.test_request_context():
        form = EntryForm(meta={"csrf": False})
        for column, limit in LENGTHS.items():
            lengths = [v.max for v in getattr(form, column).validators if hasattr(v, "max") and v.max > 0]
            assert lengths == [limit], column


def test_the_cli_lists_the_dry_run_then_creates_and_summarises(site, content_dir, data_dir, tmp_path):
    runner = site.test_cli_runner()
    sheet = tmp_path / "bang.xlsx"
    sheet.write_bytes(xlsx([*GOOD, ["Lỗi", "", "Đồn A", "", "Y tế", "", "", "", "", "", "", ""]]))
    before = state(content_dir, data_dir)
    result = runner.invoke(args=["kb", "import", str(sheet), "--dry-run"])
    assert result.exit_code == 1  # a row has an error
    assert "Dòng 2: Bếp ăn tình thương — Tạo bản nháp mới" in result.stdout
    assert f"{sheet}: Dòng 4, cột “Tóm tắt”: Thiếu trường bắt buộc 'summary' (tóm tắt)" in result.stderr
    assert "Chạy thử, chưa ghi gì: tạo mới 2, cập nhật 0, không đổi 0, lỗi 1." in result.stdout
    assert state(content_dir, data_dir) == before
    declined = runner.invoke(args=["kb", "import", str(sheet)], input="n\n")
    assert "Tạo hoặc cập nhật 2 bản nháp?" in declined.stdout and state(content_dir, data_dir) == before
    result = runner.invoke(args=["kb", "import", str(sheet)], input="y\n")
    assert "Đã nhập “bang.xlsx”: đã tạo 2, đã cập nhật 0, không đổi 0, lỗi 1." in result.stdout
    again = runner.invoke(args=["kb", "import", str(sheet), "--yes"])
    assert "Không có dòng nào cần tạo hay cập nhật: tạo mới 0, cập nhật 0, không đổi 2, lỗi 1." in again.stdout
    assert open_db(data_dir).execute("SELECT count(*) FROM entries").fetchone()[0] == 6


def test_the_cli_refuses_a_hostile_file_with_one_message(site, tmp_path):
    fake = tmp_path / "bang.xlsx"
    fake.write_bytes(b"<html><body>not a workbook</body></html>")
    result = site.test_cli_runner().invoke(args=["kb", "import", str(fake)])
    assert result.exit_code == 1 and "không phải loại được nhận" in result.stderr


def signed_in(site, name: str):
    client = site.test_client()
    assert login(client, name).status_code == 302
    return client


def upload(client, data: bytes, name: str):
    page = client.get("/admin/import").get_data(as_text=True)
    return client.post("/admin/import", data={"csrf_token": token(page), "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")  # fmt: skip


def test_the_page_is_for_admins_only(site):
    assert site.test_client().get("/admin/import").status_code == 302  # to sign in
    editor = signed_in(site, "bientap")
    assert editor.get("/admin/import").status_code == 403
    assert editor.get("/admin/import/mau-nhap-mo-hinh.xlsx").status_code == 403
    assert editor.post("/admin/import", data={}).status_code in (400, 403)
    form = token(editor.get("/edit").get_data(as_text=True))
    assert editor.post("/admin/import", data={"csrf_token": form}).status_code == 403
    assert editor.post("/admin/import/" + "x" * 32, data={"csrf_token": form}).status_code == 403


def test_the_template_downloads_and_its_headers_are_recognised(site):
    admin = signed_in(site, "quantri")
    page = admin.get("/admin/import").get_data(as_text=True)
    assert "mau-nhap-mo-hinh.xlsx" in page and "Tỉnh, thành phố" in page
    book = admin.get("/admin/import/mau-nhap-mo-hinh.xlsx")
    assert book.status_code == 200 and book.data[:2] == b"PK"
    filled = openpyxl.load_workbook(io.BytesIO(book.data))
    assert [c.value for c in filled.worksheets[0][1]] == HEADERS
    assert filled.sheetnames == ["Mô hình", "Hướng dẫn"]
    filled.worksheets[0].append(GOOD[0])
    out = io.BytesIO()
    filled.save(out)
    assert [r.action for r in plan(site, out.getvalue()).rows] == ["create"]
    text = admin.get("/admin/import/mau-nhap-mo-hinh.csv").data.decode("utf-8-sig")
    assert text.startswith('Tên mô hình,Tóm tắt,Đơn vị,"Tỉnh, thành phố",Lĩnh vực')


def test_upload_shows_the_dry_run_then_confirming_creates_the_drafts(site, content_dir, data_dir):
    admin = signed_in(site, "quantri")
    before = state(content_dir, data_dir)
    bad = ["Năm sai", "Tóm tắt.", "Đồn A", "", "Y tế", "", "20x", "", "", "", "", ""]
    response = upload(admin, xlsx([*GOOD, bad]), "bang.xlsx")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Kết quả chạy thử" in page and 'data-label="Kết quả"' in page
    assert "Dòng 4, cột “Năm”: “20x” không phải một năm" in page
    assert "Tạo mới 2, cập nhật 0, không đổi 0, lỗi 1" in page
    assert {k: v for k, v in state(content_dir, data_dir).items() if k != "audit"} == {
        k: v for k, v in before.items() if k != "audit"
    }  # the sign-in wrote to the audit log; the dry run wrote nothing
    action = re.search(r'action="(/admin/import/[^"]+)"', page).group(1)
    done = admin.post(action, data={"csrf_token": token(page)})
    result = done.get_data(as_text=True)
    assert done.status_code == 200 and "Kết quả nhập" in result and "Đã tạo bản nháp" in result
    desk = admin.get("/edit").get_data(as_text=True)
    assert "Bếp ăn tình thương" in desk and "Con nuôi đồn Biên phòng" in desk
    audit = admin.get("/admin/audit").get_data(as_text=True)
    assert "Nhập từ bảng tính" in audit and "đã tạo 2, đã cập nhật 0, không đổi 0, lỗi 1" in audit
    # The kept file is gone: confirming twice creates nothing more.
    again = admin.post(action, data={"csrf_token": token(page)})
    assert again.status_code == 302 and open_db(data_dir).execute("SELECT count(*) FROM entries").fetchone()[0] == 6
    assert list((data_dir / "imports").iterdir()) == []


def test_a_long_import_stops_in_time_and_goes_on_where_it_stopped(site, data_dir, monkeypatch):
    from kb.web import importing

    monkeypatch.setattr(importing, "SAVE_BUDGET", 0.0)  # one row a confirmation
    admin = signed_in(site, "quantri")
    page = upload(admin, xlsx(GOOD), "bang.xlsx").get_data(as_text=True)
    action = re.search(r'action="(/admin/import/[^"]+)"', page).group(1)
    first = admin.post(action, data={"csrf_token": token(page)}).get_data(as_text=True)
    assert "Đã tạo 1, đã cập nhật 0, không đổi 0, lỗi 0, chưa nhập 1" in first and "Nhập tiếp" in first
    second = admin.post(action, data={"csrf_token": token(first)}).get_data(as_text=True)
    assert "Đã tạo 1, đã cập nhật 0, không đổi 1, lỗi 0" in second and "Nhập tiếp" not in second
    assert open_db(data_dir).execute("SELECT count(*) FROM entries").fetchone()[0] == 6


def test_a_hostile_upload_gets_a_vietnamese_message_and_nothing_is_kept(site, data_dir):
    admin = signed_in(site, "quantri")
    response = upload(admin, b"<html><script>alert(1)</script></html>", "bang.xlsx")
    assert response.status_code == 422
    assert "không phải loại được nhận" in response.get_data(as_text=True)
    assert not (data_dir / "imports").exists() or list((data_dir / "imports").iterdir()) == []
    empty = admin.post("/admin/import", data={"csrf_token": token(admin.get("/admin/import").get_data(as_text=True))})
    assert empty.status_code == 422 and "Hãy chọn một tệp" in empty.get_data(as_text=True)


def test_another_admins_token_or_a_made_up_one_confirms_nothing(site, data_dir):
    from kb.accounts import create_user
    from kb.spreadsheets import keep_upload

    create_user(open_db(data_dir), "quantri2", "mat-khau-du-dai-1", "admin")
    kept = keep_upload(data_dir, xlsx(GOOD), "bang.xlsx", "quantri2")
    admin = signed_in(site, "quantri")
    form = token(admin.get("/admin/import").get_data(as_text=True))
    for made_up in (kept, "x" * 32, "..%2F..%2Fkb.sqlite3"):
        response = admin.post(f"/admin/import/{made_up}", data={"csrf_token": form})
        assert response.status_code in (302, 404)
    assert open_db(data_dir).execute("SELECT count(*) FROM entries").fetchone()[0] == 4
