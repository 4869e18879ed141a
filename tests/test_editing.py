"""Writing entries in the browser: form, preview, workflow, conflicts, history, restore, reindex."""

from __future__ import annotations

import difflib
import fcntl
import hashlib
import html
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from helpers import login, site_with_accounts, token

from kb.catalog import reindex
from kb.editing import atomic_write
from kb.jobs import get_job
from kb.store import open_db

ROOT = Path(__file__).resolve().parent.parent

FORM = {
    "title": "Góc đọc sách biên cương",
    "summary": "Tủ sách đặt tại đồn biên phòng cho học sinh và bà con mượn đọc.",
    "unit": "Đồn Biên phòng Thử Nghiệm",
    "province": "Hà Giang",
    "fields": ["Giáo dục - Huấn luyện", "Dân vận"],
    "tags": "tủ sách, đọc sách, thiếu nhi",
    "year": "2024",
    "source_title": "Ghi chép của đơn vị",
    "source_url": "https://example.org/bai-viet",
    "contact": "Ban Dân vận",
    "body": "## Cách làm\n\nMỗi tháng   đổi sách một lần.  \n\n- Sách thiếu nhi\n- Sách kỹ thuật nông nghiệp\n",
    "comment": "Bài mới",
}


@pytest.fixture
def site(content_dir, data_dir):
    """The app with CSRF on, indexed, with two editors and an admin."""
    return site_with_accounts(content_dir, data_dir, {"quantri": "admin", "bientap": "editor", "bientap2": "editor"})


def signed_in(app, name: str):
    """Return a test client signed in as name."""
    client = app.test_client()
    assert login(client, name).status_code == 302
    return client


def post_form(client, url: str, values: dict, action: str = "save"):
    """Open the form at url (GET), then post values with its CSRF token and version."""
    page = client.get(url).get_data(as_text=True)
    base = re.search(r'name="base_hash" type="hidden" value="([^"]*)"', page)
    data = {**values, "csrf_token": token(page), "action": action}
    data.setdefault("base_hash", base.group(1) if base else "")
    return client.post(url, data=data)


def create(client, values: dict = FORM, action: str = "save") -> str:
    """Create an entry through the form; return its slug."""
    response = post_form(client, "/edit/new", values, action)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[1]


def change_status(client, slug: str, to: str, confirm: bool = True):
    """Press a workflow button on the entry page (and Xác nhận, for the changes that ask first)."""
    page = client.get(f"/models/{slug}").get_data(as_text=True)
    found = re.search(r'name="base_hash" value="([^"]*)"', page)  # no buttons: nothing this role may do
    base = found.group(1) if found else ""
    data = {"csrf_token": token(page), "base_hash": base, "to": to} | ({"confirmed": "1"} if confirm else {})
    return client.post(f"/models/{slug}/status", data=data)


def public_slugs(client, query: str) -> list[str]:
    return [r["slug"] for r in client.get("/api/search", query_string={"q": query}).get_json()["results"]]


def textarea(page: str, name: str = "body") -> str:
    """Return what a textarea of the page holds, as the browser shows it."""
    found = re.search(rf'<textarea[^>]*name="{name}"[^>]*>\r?\n?(.*?)</textarea>', page, re.S)
    return html.unescape(found.group(1))


def test_a_new_entry_form_is_prefilled_with_the_sections_in_the_documented_order_and_no_guidance(site):
    page = signed_in(site, "bientap").get("/edit/new").get_data(as_text=True)
    body = textarea(page)
    headings = ["Bối cảnh", "Cách làm", "Kết quả", "Điều kiện nhân rộng", "Bài học kinh nghiệm"]
    assert [line[3:] for line in body.splitlines() if line.strip()] == headings  # headings only, nothing to keep
    guide = page[page.index('id="section-guide"') : page.index('name="body"')]
    assert "Đơn vị, địa bàn và vấn đề mà mô hình giải quyết." in guide  # the guidance sits beside the field
    assert 'aria-describedby="body-hint section-guide"' in page
    assert ('list="places"' in page and '<option value="Tuyên Quang"' in page) or '<option value="Nghệ An"' in page


GUIDED = {**FORM, "body": "## Bối cảnh\n\nĐơn vị, địa bàn và vấn đề mà mô hình giải quyết.\n\nĐồn A ở xã B.\n"}


def test_guidance_left_in_the_body_is_refused_on_submit_with_the_text_kept(site, content_dir):
    editor = signed_in(site, "bientap")
    response = post_form(editor, "/edit/new", GUIDED, action="submit")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "câu gợi ý của phần “Bối cảnh” vẫn còn trong nội dung" in page
    assert textarea(page) == GUIDED["body"]  # nothing typed is lost
    assert not (content_dir / "models" / "goc-doc-sach-bien-cuong.md").exists()


def test_a_draft_may_keep_guidance_while_written_but_never_goes_to_review(site, content_dir):
    editor = signed_in(site, "bientap")
    slug = create(editor, GUIDED)  # a draft, as one written from the old template
    saved = html.unescape(editor.get(f"/models/{slug}").get_data(as_text=True))
    assert "Đã lưu. Lưu ý: nội dung còn 1 câu gợi ý của mẫu (phần “Bối cảnh”)" in saved  # said at once
    page = editor.get(f"/models/{slug}/edit").get_data(as_text=True)
    assert "Nội dung còn 1 câu gợi ý của mẫu" in page and "dòng 3 của ô nội dung" in page
    before = (content_dir / "models" / f"{slug}.md").read_bytes()
    assert change_status(editor, slug, "review").status_code == 302  # the entry page's button
    assert (content_dir / "models" / f"{slug}.md").read_bytes() == before  # still a draft
    flashed = editor.get(f"/models/{slug}/edit").get_data(as_text=True)
    assert "Không đổi được trạng thái" in flashed and "câu gợi ý của phần “Bối cảnh”" in flashed


def test_an_editor_writes_a_draft_that_only_signed_in_people_see(site, content_dir):
    editor = signed_in(site, "bientap")
    slug = create(editor)
    assert slug == "goc-doc-sach-bien-cuong"
    text = (content_dir / "models" / f"{slug}.md").read_text(encoding="utf-8")
    assert "status: draft" in text and "title: Góc đọc sách biên cương" in text
    assert "Mỗi tháng   đổi sách một lần.  \n" in text  # the body exactly as typed
    page = editor.get(f"/models/{slug}").get_data(as_text=True)
    assert "Bản nháp" in page and "Gửi duyệt" in page
    anonymous = site.test_client()
    assert anonymous.get(f"/models/{slug}").status_code == 404
    assert anonymous.get(f"/api/models/{slug}").status_code == 404
    assert slug not in public_slugs(anonymous, "góc đọc sách")


def test_submit_then_publish_makes_the_entry_public_and_searchable_at_once(site, data_dir):
    editor = signed_in(site, "bientap")
    slug = create(editor, action="submit")  # "Lưu và gửi duyệt"
    anonymous = site.test_client()
    assert anonymous.get(f"/models/{slug}").status_code == 404
    assert change_status(editor, slug, "published").status_code == 403  # editors cannot publish
    admin = signed_in(site, "quantri")
    assert slug in admin.get("/admin").get_data(as_text=True)  # waiting for review
    assert change_status(admin, slug, "published").status_code == 302
    assert anonymous.get(f"/models/{slug}").status_code == 200
    assert public_slugs(anonymous, "goc doc sach bien cuong")[0] == slug
    assert public_slugs(anonymous, "Hà Giang tủ sách")[0] == slug
    actions = [r["action"] for r in open_db(data_dir)["audit"].rows_where("target = ?", [slug])]
    assert actions.count("status") == 2 and "create" in actions


def test_archiving_hides_a_published_entry_and_keeps_its_file(site, content_dir):
    admin = signed_in(site, "quantri")
    assert change_status(admin, "tu-thuoc-bien-cuong", "archived").status_code == 302
    anonymous = site.test_client()
    assert anonymous.get("/models/tu-thuoc-bien-cuong").status_code == 404
    assert "tu-thuoc-bien-cuong" not in public_slugs(anonymous, "tủ thuốc")
    assert "status: archived" in (content_dir / "models" / "tu-thuoc-bien-cuong.md").read_text(encoding="utf-8")


def test_invalid_input_gets_vietnamese_messages_beside_the_fields_and_keeps_every_value(site, content_dir):
    editor = signed_in(site, "bientap")
    bad = {**FORM, "title": "", "year": "20x4", "source_url": "javascript:alert(1)", "fields": []}
    response = post_form(editor, "/edit/new", bad)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Trường này không được để trống." in page
    assert "Hãy nhập một số nguyên." in page
    assert "http:// hoặc https://" in page
    assert "Chọn ít nhất một lĩnh vực." in page
    assert "Mỗi tháng   đổi sách một lần." in page and "Đồn Biên phòng Thử Nghiệm" in page
    assert not (content_dir / "models" / "goc-doc-sach-bien-cuong.md").exists()


def test_preview_renders_like_the_entry_page_and_saves_nothing(site, content_dir):
    editor = signed_in(site, "bientap")
    values = {**FORM, "body": "## Cách làm\n\n**Đậm** <script>alert(1)</script>"}
    page = post_form(editor, "/edit/new", values, action="preview").get_data(as_text=True)
    assert '<h2 id="cach-lam">Cách làm</h2>' in page and "<strong>Đậm</strong>" in page
    assert "<script>alert(1)" not in page
    assert not (content_dir / "models" / "goc-doc-sach-bien-cuong.md").exists()
    form_page = editor.get("/edit/new").get_data(as_text=True)
    live = editor.post("/edit/preview", data={**values, "csrf_token": token(form_page)})
    assert live.status_code == 200 and "<strong>Đậm</strong>" in live.get_data(as_text=True)


def test_a_title_already_taken_gets_a_numbered_slug_that_never_changes(site, content_dir):
    editor = signed_in(site, "bientap")
    slug = create(editor, {**FORM, "title": "Tủ thuốc biên cương"})
    assert slug == "tu-thuoc-bien-cuong-2"
    response = post_form(editor, f"/models/{slug}/edit", {**FORM, "title": "Tên khác hẳn"})
    assert response.headers["Location"].endswith(f"/models/{slug}")
    assert (content_dir / "models" / f"{slug}.md").exists()


def test_a_stale_save_is_refused_with_both_versions_and_nothing_is_overwritten(site, content_dir):
    first, second = signed_in(site, "bientap"), signed_in(site, "bientap2")
    url = "/models/ban-nhap-thu-nghiem/edit"
    stale = first.get(url).get_data(as_text=True)
    base = re.search(r'name="base_hash" type="hidden" value="([^"]*)"', stale).group(1)
    assert (
        post_form(second, url, {**FORM, "title": "Bản nháp thử nghiệm", "body": "Bản của người thứ hai."}).status_code
        == 302
    )
    mine = {**FORM, "title": "Bản nháp thử nghiệm", "body": "Bản của người thứ nhất.", "base_hash": base}
    response = first.post(url, data={**mine, "csrf_token": token(stale), "action": "save"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Bản của người thứ hai." in page and "Bản của người thứ nhất." in page
    assert "Bản của người thứ hai." in (content_dir / "models" / "ban-nhap-thu-nghiem.md").read_text(encoding="utf-8")
    # Saving again from the conflict page is a deliberate overwrite, and the other version stays in history.
    fresh = re.search(r'name="base_hash" value="([^"]*)"', page).group(1)
    again = first.post(url, data={**mine, "base_hash": fresh, "csrf_token": token(page), "action": "save"})
    assert again.status_code == 302
    assert "Bản của người thứ nhất." in (content_dir / "models" / "ban-nhap-thu-nghiem.md").read_text(encoding="utf-8")


def test_a_hand_edit_on_disk_while_the_form_is_open_is_a_conflict_too(site, content_dir):
    editor = signed_in(site, "bientap")
    url = "/models/thap-sang-vung-bien/edit"
    page = editor.get(url).get_data(as_text=True)
    base = re.search(r'name="base_hash" type="hidden" value="([^"]*)"', page).group(1)
    path = content_dir / "models" / "thap-sang-vung-bien.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nThêm bằng tay.\n", encoding="utf-8")
    values = {**FORM, "title": "Thắp sáng vùng biên", "base_hash": base, "csrf_token": token(page), "action": "save"}
    assert editor.post(url, data=values).status_code == 409
    assert path.read_text(encoding="utf-8").endswith("Thêm bằng tay.\n")


def test_unknown_front_matter_keys_and_the_source_date_survive_a_save(site, content_dir):
    path = content_dir / "models" / "thap-sang-vung-bien.md"
    text = path.read_text(encoding="utf-8").replace(
        "---\n\n", "source:\n  title: Báo cũ\n  date: 2021-05-01\nnoi_bo: giữ lại\n---\n\n", 1
    )
    path.write_text(text, encoding="utf-8")
    reindex(content_dir, site.config["KB_DATA_DIR"])
    editor = signed_in(site, "quantri")  # published: an admin saves it directly
    form = editor.get("/models/thap-sang-vung-bien/edit").get_data(as_text=True)
    assert 'value="01/05/2021"' in form  # the source's date, shown the Vietnamese way
    post_form(
        editor,
        "/models/thap-sang-vung-bien/edit",
        {**FORM, "title": "Thắp sáng vùng biên", "source_date": "01/05/2021"},
    )
    saved = path.read_text(encoding="utf-8")
    # The date was not changed: it stays as written (a YAML date, unquoted).
    assert "noi_bo: giữ lại" in saved and "  date: 2021-05-01\n" in saved
    assert "url: https://example.org/bai-viet" in saved


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("15/06/2024", "'2024-06-15'"), ("6/2024", "2024-06"), ("2024", "'2024'"), ("2024-06-15", "'2024-06-15'")],
)
def test_the_source_date_is_typed_the_vietnamese_way_and_kept_as_iso(site, content_dir, typed, stored):
    admin = signed_in(site, "quantri")
    post_form(admin, "/models/thap-sang-vung-bien/edit", {**FORM, "title": "Thắp sáng vùng biên", "source_date": typed})
    assert f"date: {stored}" in (content_dir / "models" / "thap-sang-vung-bien.md").read_text(encoding="utf-8")


def test_an_impossible_source_date_is_refused_with_a_clear_message(site, content_dir):
    admin = signed_in(site, "quantri")
    before = (content_dir / "models" / "thap-sang-vung-bien.md").read_text(encoding="utf-8")
    response = post_form(admin, "/models/thap-sang-vung-bien/edit", {**FORM, "source_date": "31/02/2024"})
    assert response.status_code == 422
    assert "Ngày 31/02/2024 không có thật: tháng 2 năm 2024 chỉ có 29 ngày." in response.get_data(as_text=True)
    assert (content_dir / "models" / "thap-sang-vung-bien.md").read_text(encoding="utf-8") == before


def test_history_shows_the_file_on_disk_only_when_it_differs_from_the_last_version(site, content_dir):
    admin = signed_in(site, "quantri")
    post_form(admin, "/models/to-tau-thuyen-doan-ket/edit", {**FORM, "title": "Tổ Tàu thuyền đoàn kết"})
    path = content_dir / "models" / "to-tau-thuyen-doan-ket.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nThêm bằng tay.\n", encoding="utf-8")
    history = admin.get("/models/to-tau-thuyen-doan-ket/history").get_data(as_text=True)
    assert "(tệp trên đĩa)" in history and "Đã sửa ngoài trình duyệt" in history
    assert "So sánh bản mới nhất với tệp hiện tại" in history
    assert 'name="to" value="current"' in history  # it can be picked for a comparison too


def test_history_lists_every_save_compares_two_and_an_admin_restores_one(site, content_dir, data_dir):
    editor, admin = signed_in(site, "bientap"), signed_in(site, "quantri")
    url = "/models/to-tau-thuyen-doan-ket/edit"
    original = (content_dir / "models" / "to-tau-thuyen-doan-ket.md").read_text(encoding="utf-8")
    post_form(admin, url, {**FORM, "title": "Tổ Tàu thuyền đoàn kết", "body": "Lần sửa thứ nhất.", "comment": "sửa 1"})
    post_form(admin, url, {**FORM, "title": "Tổ Tàu thuyền đoàn kết", "body": "Lần sửa thứ hai.", "comment": "sửa 2"})
    history = editor.get("/models/to-tau-thuyen-doan-ket/history").get_data(as_text=True)
    assert "sửa 1" in history and "sửa 2" in history and "Bản trên đĩa trước khi sửa" in history  # before any save
    # The file is the last version: no row for it, no link comparing it with itself.
    assert "(tệp trên đĩa)" not in history and "So sánh bản mới nhất với tệp hiện tại" not in history
    revs = [
        r["id"]
        for r in open_db(data_dir)["revisions"].rows_where("slug = ?", ["to-tau-thuyen-doan-ket"], order_by="id")
    ]
    assert len(revs) == 3
    diff = editor.get("/models/to-tau-thuyen-doan-ket/diff", query_string={"from": revs[1], "to": revs[2]})
    page = diff.get_data(as_text=True)
    assert "Lần sửa thứ nhất." in page and "Lần sửa thứ hai." in page and "diff-del" in page and "diff-add" in page
    history = admin.get("/models/to-tau-thuyen-doan-ket/history").get_data(as_text=True)
    base = re.search(
        rf'action="/models/to-tau-thuyen-doan-ket/revisions/{revs[0]}/restore"[^>]*>\s*<input[^>]*value="([^"]+)"[^>]*>\s*<input[^>]*value="([^"]*)"',
        history,
    )
    restored = admin.post(
        f"/models/to-tau-thuyen-doan-ket/revisions/{revs[0]}/restore",
        data={"csrf_token": base.group(1), "base_hash": base.group(2)},
    )
    assert restored.status_code == 302
    assert (content_dir / "models" / "to-tau-thuyen-doan-ket.md").read_text(encoding="utf-8") == original
    newest = next(open_db(data_dir)["revisions"].rows_where("slug = ?", ["to-tau-thuyen-doan-ket"], order_by="id DESC"))
    assert newest["comment"] == f"Khôi phục phiên bản #{revs[0]}" and newest["author"] == "quantri"
    assert "Lần sửa thứ hai." not in site.test_client().get("/models/to-tau-thuyen-doan-ket").get_data(as_text=True)


def test_an_atomic_write_leaves_the_old_file_whole_when_it_fails(tmp_path, monkeypatch):
    path = tmp_path / "models" / "a.md"
    atomic_write(path, b"old version\n")

    def crash(*_args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        atomic_write(path, b"new version\n" * 1000)
    assert path.read_bytes() == b"old version\n"
    assert [p.name for p in path.parent.iterdir()] == ["a.md"]  # no temporary file left behind


@pytest.mark.slow
def test_a_save_while_the_index_is_busy_is_kept_and_indexed_by_the_next_reindex(
    site, content_dir, data_dir, monkeypatch
):
    from kb import catalog

    monkeypatch.setattr(catalog.reindex_files, "__defaults__", (0.2,))  # wait 0.2 s for the lock, not 5
    editor = signed_in(site, "quantri")
    with open(data_dir / "index" / "write.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # another writer (a full reindex) holds the index
        response = post_form(
            editor,
            "/models/thap-sang-vung-bien/edit",
            {**FORM, "title": "Thắp sáng vùng biên", "body": "Từ khóa xqzmoi."},
        )
        assert response.status_code == 302
        assert "Chỉ mục đang bận" in editor.get(response.headers["Location"]).get_data(as_text=True)
    anonymous = site.test_client()
    assert "xqzmoi" in anonymous.get("/models/thap-sang-vung-bien").get_data(as_text=True)  # the page is current
    assert public_slugs(anonymous, "xqzmoi") == []
    assert "thap-sang-vung-bien" in signed_in(site, "quantri").get("/admin").get_data(as_text=True)  # listed as stale
    reindex(content_dir, data_dir)
    assert public_slugs(anonymous, "xqzmoi") == ["thap-sang-vung-bien"]


def test_the_admin_reindexes_in_the_background_and_watches_its_progress(site, data_dir):
    admin = signed_in(site, "quantri")
    page = admin.get("/admin").get_data(as_text=True)
    assert "Lập chỉ mục lại ngay" in page
    response = admin.post("/admin/reindex", data={"csrf_token": token(page)})
    assert response.status_code == 302
    job_url = response.headers["Location"]
    job_id = int(job_url.rsplit("/", 1)[1])
    deadline = time.monotonic() + 120
    while get_job(open_db(data_dir), job_id)["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.2)
    state = admin.get(job_url, query_string={"format": "json"}).get_json()
    assert state["status"] == "done", Path(data_dir / "logs" / f"job-{job_id}.log").read_text()
    assert state["done"] == state["total"] == 4 and "Lập chỉ mục toàn bộ" in state["summary"]
    page = admin.get(job_url).get_data(as_text=True)
    assert "<progress" in page and "Hoàn tất" in page
    assert "Lần lập chỉ mục gần nhất" in admin.get("/admin").get_data(as_text=True)


def test_the_admin_page_lists_every_content_problem_with_file_and_line(site, content_dir, data_dir):
    (content_dir / "models" / "hong.md").write_text("---\ntitle: [chưa đóng\n---\n\nx\n", encoding="utf-8")
    reindex(content_dir, data_dir)
    page = signed_in(site, "quantri").get("/admin").get_data(as_text=True)
    assert "models/hong.md:2" in page


def test_a_second_reindex_request_while_one_runs_shows_the_running_one(site, data_dir):
    db = open_db(data_dir)
    running = db["jobs"].insert(
        {"kind": "reindex", "status": "running", "phase": "Đang lập chỉ mục", "done": 3, "total": 9,
         "pid": os.getpid(), "started_at": "2026-01-01T00:00:00+00:00"}
    ).last_pk  # fmt: skip
    admin = signed_in(site, "quantri")
    page = admin.get("/admin").get_data(as_text=True)
    response = admin.post("/admin/reindex", data={"csrf_token": token(page)})
    assert response.headers["Location"].endswith(f"/admin/jobs/{running}")
    assert db["jobs"].count == 1
    shown = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "một lần lập chỉ mục đang chạy" in shown.lower() and 'value="3"' in shown


def test_an_editors_change_to_a_published_entry_waits_for_an_admin(site, content_dir, data_dir):
    path = content_dir / "models" / "thap-sang-vung-bien.md"
    before = path.read_text(encoding="utf-8")
    editor = signed_in(site, "bientap")
    page = editor.get("/models/thap-sang-vung-bien/edit").get_data(as_text=True)
    assert "Gửi bản sửa để duyệt" in page
    values = {**FORM, "title": "Thắp sáng vùng biên", "body": "Đề xuất xqzdexuat.", "comment": "bổ sung"}
    response = post_form(editor, "/models/thap-sang-vung-bien/edit", values)
    assert response.status_code == 302
    assert path.read_text(encoding="utf-8") == before  # nothing changes until an admin applies it
    anonymous = site.test_client()
    assert public_slugs(anonymous, "xqzdexuat") == []
    proposal_id = next(open_db(data_dir)["proposals"].rows)["id"]
    assert change_status(editor, "thap-sang-vung-bien", "archived").status_code == 403
    admin = signed_in(site, "quantri")
    assert f"/models/thap-sang-vung-bien/proposals/{proposal_id}" in admin.get("/admin").get_data(as_text=True)
    review = admin.get(f"/models/thap-sang-vung-bien/proposals/{proposal_id}").get_data(as_text=True)
    assert "Đề xuất xqzdexuat." in review and "diff-add" in review
    base = re.search(r'name="base_hash" value="([^"]+)"', review).group(1)
    applied = admin.post(
        f"/models/thap-sang-vung-bien/proposals/{proposal_id}/apply",
        data={"csrf_token": token(review), "base_hash": base},
    )
    assert applied.status_code == 302
    assert "Đề xuất xqzdexuat." in path.read_text(encoding="utf-8")
    assert public_slugs(anonymous, "xqzdexuat") == ["thap-sang-vung-bien"]
    newest = next(open_db(data_dir)["revisions"].rows_where("slug = ?", ["thap-sang-vung-bien"], order_by="id DESC"))
    assert newest["author"] == "quantri" and "bientap" in newest["comment"]


def test_a_rejected_proposal_changes_nothing(site, content_dir, data_dir):
    path = content_dir / "models" / "thap-sang-vung-bien.md"
    before = path.read_text(encoding="utf-8")
    post_form(signed_in(site, "bientap"), "/models/thap-sang-vung-bien/edit", {**FORM, "title": "Thắp sáng vùng biên"})
    proposal_id = next(open_db(data_dir)["proposals"].rows)["id"]
    admin = signed_in(site, "quantri")
    review = admin.get(f"/models/thap-sang-vung-bien/proposals/{proposal_id}").get_data(as_text=True)
    base = re.search(r'name="base_hash" value="([^"]+)"', review).group(1)
    admin.post(
        f"/models/thap-sang-vung-bien/proposals/{proposal_id}/reject",
        data={"csrf_token": token(review), "base_hash": base, "confirmed": "1"},
    )
    assert path.read_text(encoding="utf-8") == before
    assert next(open_db(data_dir)["proposals"].rows)["state"] == "rejected"


@pytest.mark.slow
def test_a_save_during_a_running_reindex_is_taken_by_that_reindex(site, content_dir, data_dir, monkeypatch):
    from kb import catalog

    monkeypatch.setattr(catalog.reindex_files, "__defaults__", (0.2,))
    editor = signed_in(site, "bientap")
    with catalog.run_lock(data_dir):  # a reindex is running
        slug = create(editor, {**FORM, "body": "Từ khóa xqzdangchay."}, action="save")
        admin = signed_in(site, "quantri")
        assert change_status(admin, slug, "published").status_code == 302
        assert public_slugs(site.test_client(), "xqzdangchay") == []  # queued, not lost
    report = reindex(content_dir, data_dir)  # the next (or the running) reindex takes it
    assert report.problems == [] or all(p.warning for p in report.problems)
    assert public_slugs(site.test_client(), "xqzdangchay") == [slug]
    assert open_db(data_dir)["pending"].count == 0


@pytest.mark.slow
def test_an_entry_taken_down_while_the_index_is_busy_disappears_from_public_pages_at_once(site, data_dir, monkeypatch):
    from kb import catalog

    monkeypatch.setattr(catalog.reindex_files, "__defaults__", (0.2,))
    admin = signed_in(site, "quantri")
    anonymous = site.test_client()
    assert "tu-thuoc-bien-cuong" in public_slugs(anonymous, "tủ thuốc")
    with catalog.run_lock(data_dir):
        assert change_status(admin, "tu-thuoc-bien-cuong", "archived").status_code == 302
        assert "tu-thuoc-bien-cuong" not in public_slugs(anonymous, "tủ thuốc")
        suggestions = anonymous.get("/api/suggest", query_string={"q": "tủ th"}).get_json()["suggestions"]
        assert "tu-thuoc-bien-cuong" not in [s["slug"] for s in suggestions]
        assert "tu-thuoc-bien-cuong" not in anonymous.get("/models/to-tau-thuyen-doan-ket").get_data(as_text=True)


def test_drafts_never_show_in_suggestions_or_related_models(site):
    editor = signed_in(site, "bientap")
    slug = create(editor, {**FORM, "title": "Tủ thuốc nháp mới", "fields": ["Y tế", "Dân vận"]})
    anonymous = site.test_client()
    suggestions = anonymous.get("/api/suggest", query_string={"q": "tủ thuốc"}).get_json()["suggestions"]
    assert slug not in [s["slug"] for s in suggestions]
    assert slug not in anonymous.get("/models/tu-thuoc-bien-cuong").get_data(as_text=True)


def test_saving_an_entry_unchanged_keeps_its_body_byte_for_byte(site, content_dir):
    path = content_dir / "models" / "ban-nhap-thu-nghiem.md"
    text = path.read_text(encoding="utf-8").replace(
        "Nội dung nháp về tủ thuốc.", "Dòng một  \n\n\n* sao   cách\n\t- tab\n"
    )
    path.write_text(text, encoding="utf-8")
    editor = signed_in(site, "bientap")
    body = textarea(editor.get("/models/ban-nhap-thu-nghiem/edit").get_data(as_text=True))
    values = {
        "title": "Bản nháp thử nghiệm", "summary": "Một mô hình còn đang viết dở về tủ thuốc.",
        "unit": "Bộ đội Biên phòng tỉnh Hà Tĩnh", "province": "Hà Tĩnh", "fields": ["Y tế"], "body": body,
    }  # fmt: skip
    assert post_form(editor, "/models/ban-nhap-thu-nghiem/edit", values).status_code == 302
    saved = path.read_text(encoding="utf-8")
    assert saved.split("---\n", 2)[2] == text.split("---\n", 2)[2]


def test_a_quoted_year_survives_a_status_change(site, content_dir):
    path = content_dir / "models" / "ban-nhap-thu-nghiem.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("status: draft", "status: draft\nyear: '2023'"), encoding="utf-8"
    )
    reindex(content_dir, site.config["KB_DATA_DIR"])
    assert change_status(signed_in(site, "bientap"), "ban-nhap-thu-nghiem", "review").status_code == 302
    saved = path.read_text(encoding="utf-8")
    assert "status: review" in saved and "year: '2023'" in saved  # the author's quotes stay


def test_an_expired_form_token_brings_the_form_back_with_everything_typed(site, content_dir):
    editor = signed_in(site, "bientap")
    editor.get("/edit/new")
    response = editor.post("/edit/new", data={**FORM, "csrf_token": "het-han", "action": "save"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "hết hạn" in page and "Mỗi tháng   đổi sách một lần." in page and "Đồn Biên phòng Thử Nghiệm" in page
    retry = editor.post("/edit/new", data={**FORM, "csrf_token": token(page), "action": "save"})
    assert retry.status_code == 302
    assert (content_dir / "models" / "goc-doc-sach-bien-cuong.md").exists()


def test_a_malformed_slug_is_a_404_not_an_error(site):
    editor = signed_in(site, "bientap")
    for url in ("/models/Hoa..Binh/edit", "/models/ABC/history", "/models/x%2F..%2Fy/edit"):
        assert editor.get(url).status_code == 404


def _saved_state(content_dir: Path, data_dir: Path, slug: str) -> tuple:
    """Return what a save touches: the file, its row's hash, the revisions and the audit lines."""
    path = content_dir / "models" / f"{slug}.md"
    db = open_db(data_dir)
    row = next(db["entries"].rows_where("slug = ?", [slug]), None)
    return (
        path.read_bytes() if path.exists() else None,
        row["content_hash"] if row else None,
        db["revisions"].count_where("slug = ?", [slug]),
        db["audit"].count_where("target = ? AND action != 'save_conflict'", [slug]),
    )


@pytest.mark.slow
def test_markdown_too_slow_to_render_is_refused_and_nothing_is_half_saved(site, content_dir, data_dir):
    editor = signed_in(site, "bientap")
    response = post_form(editor, "/edit/new", {**FORM, "body": "[" * 20_000})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "quá phức tạp để hiển thị" in page
    assert html.unescape(page).count("[" * 20_000) == 1  # what was typed comes back, once, in the form
    assert not (content_dir / "models" / "goc-doc-sach-bien-cuong.md").exists()
    assert _saved_state(content_dir, data_dir, "goc-doc-sach-bien-cuong") == (None, None, 0, 0)
    before = _saved_state(content_dir, data_dir, "ban-nhap-thu-nghiem")
    edited = {**FORM, "title": "Bản nháp thử nghiệm", "body": "![" * 10_000}
    assert post_form(editor, "/models/ban-nhap-thu-nghiem/edit", edited).status_code == 422
    assert _saved_state(content_dir, data_dir, "ban-nhap-thu-nghiem") == before
    retried = post_form(editor, "/edit/new", FORM)  # the same title again, now fine: no "-2"
    assert retried.headers["Location"].endswith("/models/goc-doc-sach-bien-cuong")


@pytest.mark.slow
def test_previews_of_pathological_markdown_say_so_and_do_not_hold_up_readers(site):
    editor = signed_in(site, "bientap")
    page = editor.get("/edit/new").get_data(as_text=True)
    data = {**FORM, "body": "[" * 20_000, "csrf_token": token(page)}
    with ThreadPoolExecutor(4) as pool:
        previews = [pool.submit(editor.post, "/edit/preview", data=data) for _ in range(3)]
        reader = pool.submit(site.test_client().get, "/search?q=tu+thuoc")
        # The three previews run in helper processes: a reader is answered while they run.
        assert reader.result(timeout=60).status_code == 200
        for preview in previews:
            assert "Không xem trước được nội dung" in preview.result(timeout=60).get_data(as_text=True)


@pytest.mark.slow
def test_a_save_while_the_database_is_locked_keeps_the_text_and_writes_nothing(site, content_dir, data_dir, request):
    editor = signed_in(site, "bientap")
    page = editor.get("/models/ban-nhap-thu-nghiem/edit").get_data(as_text=True)
    before = _saved_state(content_dir, data_dir, "ban-nhap-thu-nghiem")
    values = {**FORM, "title": "Bản nháp thử nghiệm", "body": "Nội dung mới xqzbandau.", "csrf_token": token(page)}
    values["base_hash"] = re.search(r'name="base_hash" type="hidden" value="([^"]*)"', page).group(1)
    request.getfixturevalue("write_locked")
    busy = editor.post("/models/ban-nhap-thu-nghiem/edit", data=values)
    text = html.unescape(busy.get_data(as_text=True))
    assert busy.status_code == 503 and busy.headers["Retry-After"]
    assert "Hệ thống đang bận" in text and "Nội dung mới xqzbandau." in text  # typed text comes back
    assert _saved_state(content_dir, data_dir, "ban-nhap-thu-nghiem") == before
    assert editor.post("/edit/new", data={**FORM, "csrf_token": token(page)}).status_code == 503
    assert not (content_dir / "models" / "goc-doc-sach-bien-cuong.md").exists()


@pytest.mark.slow
def test_a_save_after_the_lock_is_released_lands_whole(site, content_dir, data_dir, request):
    editor = signed_in(site, "bientap")
    page = editor.get("/edit/new").get_data(as_text=True)
    write_locked = request.getfixturevalue("write_locked")
    assert editor.post("/edit/new", data={**FORM, "csrf_token": token(page)}).status_code == 503
    write_locked.execute("ROLLBACK")
    slug = create(editor)
    file, row_hash, revisions, audits = _saved_state(content_dir, data_dir, slug)
    assert hashlib.sha256(file).hexdigest() == row_hash and revisions == 1 and audits == 1
    row = next(open_db(data_dir)["entries"].rows_where("slug = ?", [slug]))
    assert row["status"] == "draft" and slug not in public_slugs(site.test_client(), "góc đọc sách")


def _propose_then_archive(site, data_dir) -> tuple:
    """An editor proposes a change to a published entry; an admin archives the entry before deciding."""
    post_form(signed_in(site, "bientap"), "/models/thap-sang-vung-bien/edit",
              {**FORM, "title": "Thắp sáng vùng biên", "body": "Đề xuất xqzcu."})  # fmt: skip
    proposal_id = next(open_db(data_dir)["proposals"].rows)["id"]
    admin = signed_in(site, "quantri")
    assert change_status(admin, "thap-sang-vung-bien", "archived").status_code == 302
    return admin, proposal_id


def test_applying_an_old_proposal_changes_the_words_never_the_workflow(site, content_dir, data_dir):
    admin, proposal_id = _propose_then_archive(site, data_dir)
    review = admin.get(f"/models/thap-sang-vung-bien/proposals/{proposal_id}").get_data(as_text=True)
    assert "được viết trên một phiên bản cũ hơn" in review
    assert "Những gì người đề xuất đã sửa" in review and "Đề xuất xqzcu." in review
    applying = review[review.index('id="apply-title"') :]
    assert '<th scope="row">Trạng thái</th>' not in applying  # applying keeps the entry archived
    base = re.search(r'name="base_hash" value="([^"]+)"', review).group(1)
    applied = admin.post(f"/models/thap-sang-vung-bien/proposals/{proposal_id}/apply",
                         data={"csrf_token": token(review), "base_hash": base})  # fmt: skip
    assert applied.status_code == 302
    text = (content_dir / "models" / "thap-sang-vung-bien.md").read_text(encoding="utf-8")
    assert "Đề xuất xqzcu." in text and "status: archived" in text
    assert public_slugs(site.test_client(), "xqzcu") == []  # still archived: not public
    assert site.test_client().get("/models/thap-sang-vung-bien").status_code == 404
    db = open_db(data_dir)
    assert next(db["proposals"].rows)["state"] == "applied"
    assert db["audit"].count_where("action = 'proposal_apply' AND actor = 'quantri'") == 1


def test_a_save_whose_file_cannot_be_made_durable_is_undone_whole(site, content_dir, data_dir, monkeypatch):
    editor = signed_in(site, "bientap")
    page = editor.get("/models/ban-nhap-thu-nghiem/edit").get_data(as_text=True)
    values = {**FORM, "title": "Bản nháp thử nghiệm", "csrf_token": token(page)}
    values["base_hash"] = re.search(r'name="base_hash" type="hidden" value="([^"]*)"', page).group(1)
    before = _saved_state(content_dir, data_dir, "ban-nhap-thu-nghiem")
    real_fsync, calls = os.fsync, []

    def failing_fsync(fd):  # the file is renamed into place, then flushing its folder fails
        calls.append(fd)
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            raise OSError(5, "Input/output error")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    response = editor.post("/models/ban-nhap-thu-nghiem/edit", data=values)
    monkeypatch.undo()
    assert response.status_code == 500 and calls
    assert _saved_state(content_dir, data_dir, "ban-nhap-thu-nghiem") == before  # file put back, nothing recorded


def test_a_save_whose_index_update_fails_after_the_commit_is_saved_and_queued(site, content_dir, data_dir, monkeypatch):
    from indexer import SearchIndex

    def broken(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(SearchIndex, "update", broken)
    editor = signed_in(site, "bientap")
    response = post_form(editor, "/edit/new", FORM)
    assert response.status_code == 302  # saved: the index is derived, and catches up
    slug = response.headers["Location"].rsplit("/", 1)[1]
    assert "Chỉ mục đang bận" in editor.get(f"/models/{slug}").get_data(as_text=True)
    file, row_hash, revisions, audits = _saved_state(content_dir, data_dir, slug)
    assert hashlib.sha256(file).hexdigest() == row_hash and (revisions, audits) == (1, 1)
    assert [r["path"] for r in open_db(data_dir)["pending"].rows] == [f"models/{slug}.md"]
    monkeypatch.undo()
    reindex(content_dir, data_dir)
    assert open_db(data_dir)["pending"].count == 0


@pytest.mark.parametrize("field", ["title", "summary", "unit"])
def test_a_required_field_of_invisible_characters_comes_back_with_a_message(site, content_dir, field):
    values = {**FORM, field: "\u200b\ufeff"}
    response = post_form(signed_in(site, "bientap"), "/edit/new", values)
    said = "ít nhất một chữ cái hoặc chữ số" if field == "title" else "thiếu trường bắt buộc"
    assert response.status_code == 422 and said in response.get_data(as_text=True)
    assert html.unescape(response.get_data(as_text=True)).count(FORM["body"].split("\n")[2].strip()) >= 1
    assert not list((content_dir / "models").glob("goc-doc-sach*.md"))


def form_values(page: str) -> dict:
    """Return what the edit form would post as it was opened (every field, nothing changed)."""
    values = {
        name: html.unescape(value)
        for name, value in re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', page)
        if name not in ("csrf_token", "base_hash", "fields")
    }
    fields = re.findall(r'<input type="checkbox" name="fields" value="([^"]*)" checked>', page)
    return values | {"summary": textarea(page, "summary"), "body": textarea(page), "fields": fields}


HAND_EDITED = """---
# Viết tay: giữ nguyên
title:   "Thắp sáng vùng biên"     # tên
summary: >-
  Lắp đèn chiếu sáng đường giao thông
  ở các xã biên giới.
unit: 'Bộ đội Biên phòng tỉnh Ninh Bình'
fields: [kinh tế - xã hội]          # viết thường
tags:
- đèn   # đầu tiên
- 'năng lượng mặt trời'
year: "2021"
source: {title: Báo Ninh Bình, date: 2021-05-01}
noi_bo: giữ lại
contact: Chưa ghi nhận             # tùy chọn
---
## Cách làm

Lắp đèn năng lượng mặt trời dọc đường liên thôn.
"""


def test_a_hand_edited_file_saved_from_the_form_changes_only_the_changed_line(site, content_dir, data_dir):
    path = content_dir / "models" / "thap-sang-vung-bien.md"
    path.write_text(HAND_EDITED, encoding="utf-8")
    reindex(content_dir, data_dir)
    admin = signed_in(site, "quantri")
    values = form_values(admin.get("/models/thap-sang-vung-bien/edit").get_data(as_text=True))
    assert post_form(admin, "/models/thap-sang-vung-bien/edit", values).status_code == 302
    assert path.read_text(encoding="utf-8") == HAND_EDITED  # saved unchanged: byte for byte
    values["contact"] = "Đồn Biên phòng Thử Nghiệm"
    assert post_form(admin, "/models/thap-sang-vung-bien/edit", values).status_code == 302
    assert path.read_text(encoding="utf-8") == HAND_EDITED.replace(
        "contact: Chưa ghi nhận             # tùy chọn", "contact: Đồn Biên phòng Thử Nghiệm # tùy chọn"
    )


def propose_on_a_shipped_entry(site, content_dir, data_dir) -> tuple[str, str, str, int]:
    """Have an editor change one paragraph and the contact of the shipped Tủ thuốc biên cương."""
    path = content_dir / "models" / "tu-thuoc-bien-cuong.md"
    path.write_text((ROOT / "content" / "models" / "tu-thuoc-bien-cuong.md").read_text(encoding="utf-8"))
    reindex(content_dir, data_dir)
    before = path.read_text(encoding="utf-8")
    editor = signed_in(site, "bientap")
    values = form_values(editor.get("/models/tu-thuoc-bien-cuong/edit").get_data(as_text=True))
    old = "Chưa được ghi nhận — đơn vị cần bổ sung, dựa trên thực tế triển khai của chính đơn vị."
    values["body"] = values["body"].replace(old, "Cần có cán bộ quân y theo dõi hạn dùng của thuốc.")
    values["contact"] = "Ban Quân y, BĐBP Nghệ An"
    assert post_form(editor, "/models/tu-thuoc-bien-cuong/edit", values).status_code == 302
    proposal = next(open_db(data_dir)["proposals"].rows)
    return before, old, proposal["text"], proposal["id"]


def test_a_proposal_keeps_the_files_layout_and_its_review_shows_only_what_changed(site, content_dir, data_dir):
    before, old, proposed, proposal_id = propose_on_a_shipped_entry(site, content_dir, data_dir)
    diff = difflib.unified_diff(before.splitlines(), proposed.splitlines(), lineterm="", n=0)
    assert [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")] == [
        "-contact: Chưa ghi nhận",
        "+contact: Ban Quân y, BĐBP Nghệ An",
        f"-{old}",
        "+Cần có cán bộ quân y theo dõi hạn dùng của thuốc.",
    ]
    page = signed_in(site, "quantri").get(f"/models/tu-thuoc-bien-cuong/proposals/{proposal_id}").get_data(as_text=True)
    review = page[page.index('id="apply-title"') : page.index('class="raw-diff"')]
    rows = re.findall(
        r'<tr><th scope="row">(.*?)</th><td class="change-old"[^>]*>(.*?)</td><td class="change-new"[^>]*>(.*?)</td>',
        review,
    )
    assert [(label, re.sub("<[^>]+>", "", o), re.sub("<[^>]+>", "", n)) for label, o, n in rows] == [
        ("Liên hệ", "[bỏ: Chưa ghi nhận]", "[thêm: Ban Quân y, BĐBP Nghệ An]")
    ]
    assert review.count('class="body-hunk"') == 1 and "Phần “Bài học kinh nghiệm”" in review
    assert review.count("body-line body-del") == 1 and review.count("body-line body-add") == 1
    assert "Tóm tắt" not in review and "Từ khóa" not in review and "Tên nguồn" not in review


def test_history_compares_two_revisions_field_by_field(site, content_dir, data_dir):
    admin = signed_in(site, "quantri")
    url = "/models/to-tau-thuyen-doan-ket/edit"
    post_form(admin, url, {**FORM, "title": "Tổ Tàu thuyền đoàn kết", "contact": "Đồn A", "comment": "sửa 1"})
    post_form(admin, url, {**FORM, "title": "Tổ Tàu thuyền đoàn kết", "contact": "Đồn B", "comment": "sửa 2"})
    revs = [
        r["id"]
        for r in open_db(data_dir)["revisions"].rows_where("slug = ?", ["to-tau-thuyen-doan-ket"], order_by="id")
    ]
    page = admin.get("/models/to-tau-thuyen-doan-ket/diff", query_string={"from": revs[1], "to": revs[2]}).get_data(
        as_text=True
    )
    assert "Thông tin của mục (1 trường thay đổi)" in page and '<th scope="row">Liên hệ</th>' in page
    assert "Nội dung (" not in page  # the body did not change
