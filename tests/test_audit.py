"""The audit log as an admin reads it: Vietnamese words, entries by title, changes field by field, Vietnam's time."""

from __future__ import annotations

import re

import pytest
from helpers import login, site_with_accounts, token, write_entry

from kb.store import open_db

FORM = {
    "title": "Bếp ăn bán trú",
    "summary": "Bữa trưa cho học sinh.",
    "unit": "Đồn Biên phòng Thử Hai",
    "province": "Hà Giang",
    "fields": ["Dân vận"],
    "year": "2021",
    "body": "## Cách làm\n\nNấu ăn cho học sinh.\n",
}
RECORD = {"unit": "Đồn Biên phòng Thử Một", "province": "Quảng Bình", "start_date": "03/2024",
          "status": "đang triển khai", "adapted": "", "result": "", "contact": ""}  # fmt: skip


@pytest.fixture
def site(content_dir, data_dir):
    """The app with one published entry and an admin."""
    write_entry(
        content_dir, "bep-an-ban-tru", FORM["body"], title=FORM["title"], summary=FORM["summary"],
        unit=FORM["unit"], province="Hà Giang", fields=["Dân vận"], year=2021, status="published",
    )  # fmt: skip
    return site_with_accounts(content_dir, data_dir, {"quantri": "admin", "bientap": "editor"})


@pytest.fixture
def admin(site):
    client = site.test_client()
    assert login(client, "quantri").status_code == 302
    return client


def submit(client, url: str, values: dict):
    """Open the form at url, then post values with its CSRF token (and version, for an entry)."""
    page = client.get(url).get_data(as_text=True)
    base = re.search(r'name="base_hash" type="hidden" value="([^"]*)"', page)
    data = {**values, "csrf_token": token(page), "base_hash": base.group(1) if base else "", "action": "save"}
    response = client.post(url, data=data)
    assert response.status_code == 302, response.get_data(as_text=True)


def audit_page(client) -> str:
    html = client.get("/admin/audit").get_data(as_text=True)
    return re.sub(r"\s+", " ", html[html.index("<h1>") :])


def test_a_replication_is_told_field_by_field_in_vietnamese_not_as_json(admin, data_dir):
    submit(admin, "/models/bep-an-ban-tru/replications/new", RECORD)
    record_id = next(open_db(data_dir)["replications"].rows)["key"]
    url = f"/models/bep-an-ban-tru/replications/{record_id}/edit"
    submit(admin, url, {**RECORD, "status": "đã hoàn thành", "start_date": "15/03/2024"})
    page = audit_page(admin)
    assert "Ghi nhận nhân rộng" in page and "Sửa bản ghi nhân rộng" in page
    assert "Đơn vị áp dụng: Đồn Biên phòng Thử Một" in page and "Bắt đầu từ: 03/2024" in page
    assert 'Tình trạng: <span class="was">đang triển khai</span> → đã hoàn thành' in page
    assert 'Bắt đầu từ: <span class="was">03/2024</span> → 15/03/2024' in page
    assert '"unit"' not in page and "{" not in page and "trước:" not in page
    # The entry is named by its title, with a link, not by its slug alone.
    assert '<a href="/models/bep-an-ban-tru">Bếp ăn bán trú</a>' in page


def test_a_save_lists_the_fields_it_changed(admin):
    submit(admin, "/models/bep-an-ban-tru/edit", {**FORM, "title": "Bếp ăn bán trú cho em", "body": "Khác hẳn."})
    page = audit_page(admin)
    assert "Lưu mục" in page and '<a href="/models/bep-an-ban-tru">Bếp ăn bán trú cho em</a>' in page
    assert 'Tên mô hình: <span class="was">Bếp ăn bán trú</span> → Bếp ăn bán trú cho em' in page
    assert "Nội dung: đã sửa" in page and "Tóm tắt:" not in page  # only what changed


def test_a_proposed_change_and_its_rejection_list_the_fields_it_changes(site, admin):
    editor = site.test_client()
    assert login(editor, "bientap").status_code == 302
    change = {**FORM, "summary": "Bữa trưa nóng cho học sinh bán trú.", "contact": "Đồn Thử Hai, 0200 000 000"}
    submit(editor, "/models/bep-an-ban-tru/edit", {**change, "comment": "thêm liên hệ"})
    proposed = audit_page(admin)
    assert "Gửi bản sửa" in proposed and "Ghi chú: “thêm liên hệ”" in proposed
    assert 'Tóm tắt: <span class="was">Bữa trưa cho học sinh.</span> → Bữa trưa nóng cho học sinh bán trú.' in proposed
    assert "Liên hệ: (trống) → Đồn Thử Hai, 0200 000 000" in proposed
    assert "Tên mô hình:" not in proposed and "Nội dung:" not in proposed  # only what the editor changed
    assert '<a href="/models/bep-an-ban-tru/proposals/1">Xem bản sửa #1</a>' in proposed
    # The rejection names the same changes; the entry itself is unchanged.
    review = admin.get("/models/bep-an-ban-tru/proposals/1").get_data(as_text=True)
    base = re.search(r'name="base_hash" value="([^"]+)"', review).group(1)
    data = {"csrf_token": token(review), "base_hash": base, "confirmed": "1", "reason": "Chưa rõ nguồn."}
    assert admin.post("/models/bep-an-ban-tru/proposals/1/reject", data=data).status_code == 302
    rejected = audit_page(admin)
    line = rejected[rejected.index("Từ chối bản sửa") : rejected.index("Gửi bản sửa")]
    assert "Bản sửa #1 của bientap; lý do: Chưa rõ nguồn." in line
    assert "Liên hệ: (trống) → Đồn Thử Hai, 0200 000 000" in line


@pytest.mark.parametrize(
    ("action", "target", "detail", "shown"),
    [
        ("user_create", "tuan", "member", "Tạo tài khoản</td> <td data-label=\"Đối tượng\">tuan</td> "
         "<td data-label=\"Chi tiết\"><ul class=\"audit-detail\"><li>Vai trò: Thành viên</li>"),
        ("user_role", "tuan", "editor", "<li>Vai trò mới: Biên tập viên</li>"),
        ("reindex", "job 3", "", '<a href="/admin/jobs/3">Lần lập chỉ mục #3</a>'),
        ("proposal_reject", "bep-an-ban-tru", "#4 của bientap", "<li>Bản sửa #4 của bientap</li>"),
    ],
)  # fmt: skip
def test_lines_written_by_older_versions_and_the_command_line_read_in_vietnamese(
    admin, data_dir, action, target, detail, shown
):
    db = open_db(data_dir)
    db["audit"].insert({"at": "2026-06-15T17:30:00+00:00", "actor": "(dòng lệnh)", "action": action,
                        "target": target, "detail": detail, "address": ""})  # fmt: skip
    page = audit_page(admin)
    assert shown in page
    # Half past midnight the next day in Vietnam (UTC+7), not the UTC time.
    assert "16/06/2026 00:30" in page and "(UTC)" not in page


def test_an_account_made_with_the_kb_command_is_logged_with_its_role_in_vietnamese(site, data_dir, admin):
    result = site.test_cli_runner().invoke(
        args=["kb", "create-user", "haiquan", "--role", "editor", "--password-stdin"], input="mat-khau-du-dai-2\n"
    )
    assert result.exit_code == 0, result.output
    assert "Vai trò: Biên tập viên" in audit_page(admin)
    assert open_db(data_dir)["audit"].count_where("detail = 'editor'") == 0
