"""Photos and documents attached from the edit form: stored without metadata, listed in the file, served privately."""

from __future__ import annotations

import html
import io
import re

import pytest
import yaml
from helpers import site_with_accounts, token
from PIL import Image
from test_editing import FORM, change_status, post_form, signed_in
from test_uploads import docx, jpeg_with_gps, pdf

from kb.store import open_db

SLUG = "goc-doc-sach-bien-cuong"  # FORM's title


@pytest.fixture
def site(content_dir, data_dir):
    return site_with_accounts(content_dir, data_dir, {"quantri": "admin", "bientap": "editor"})


def upload(client, url: str, values: dict, files: list[tuple[bytes, str]], action: str = "save", **extra):
    """Open the form at url, then post values and files (multipart) with its CSRF token and version."""
    page = client.get(url).get_data(as_text=True)
    base = re.search(r'name="base_hash" type="hidden" value="([^"]*)"', page)
    data = {**values, "csrf_token": token(page), "action": action, "base_hash": base.group(1) if base else ""}
    data["files"] = [(io.BytesIO(content), name) for content, name in files]
    return client.post(url, data={**data, **extra}, content_type="multipart/form-data")


def front_matter(content_dir, slug: str = SLUG) -> dict:
    text = (content_dir / "models" / f"{slug}.md").read_text(encoding="utf-8")
    return yaml.safe_load(text.split("---\n")[1])


def test_a_photo_and_a_report_attached_to_a_new_entry_are_stored_listed_and_shown(site, content_dir):
    editor = signed_in(site, "bientap")
    report = pdf(["Bao cao tong ket mo hinh doc sach"])
    response = upload(editor, "/edit/new", FORM, [(jpeg_with_gps(), "IMG_2041.JPG"), (report, "Báo cáo 2023.pdf")])
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    listed = front_matter(content_dir)["attachments"]
    assert [a["file"] for a in listed] == ["img-2041.jpg", "bao-cao-2023.pdf"]
    folder = content_dir / "media" / SLUG
    stored = (folder / "img-2041.jpg").read_bytes()
    assert b"Model X" not in stored and b"Exif" not in stored  # no camera, no GPS position
    with Image.open(folder / "thumbs" / "img-2041.jpg") as thumb:
        assert max(thumb.size) == 480
    assert (folder / "bao-cao-2023.pdf").read_bytes() == report  # a document is kept as sent
    page = html.unescape(editor.get(f"/models/{SLUG}").get_data(as_text=True))
    assert f'src="/media/{SLUG}/thumbs/img-2041.jpg"' in page and "Hình ảnh" in page
    assert "Tài liệu đính kèm" in page and f'href="/media/{SLUG}/bao-cao-2023.pdf"' in page and "PDF ·" in page


def test_files_are_served_from_the_site_with_safe_headers_and_a_drafts_files_stay_private(site, content_dir):
    editor = signed_in(site, "bientap")
    assert upload(editor, "/edit/new", FORM, [(jpeg_with_gps(), "anh.jpg"), (pdf(["x"]), "bc.pdf")]).status_code == 302
    photo, document = editor.get(f"/media/{SLUG}/anh.jpg"), editor.get(f"/media/{SLUG}/bc.pdf")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert (
        photo.headers["X-Content-Type-Options"] == "nosniff"
        and "default-src" in photo.headers["Content-Security-Policy"]
    )
    assert photo.headers["Content-Disposition"].startswith("inline")
    assert document.headers["Content-Disposition"].startswith("attachment") and document.mimetype == "application/pdf"
    assert "no-store" in photo.headers["Cache-Control"]  # a draft's photo is in no shared cache
    reader = site.test_client()
    assert reader.get(f"/media/{SLUG}/anh.jpg").status_code == 404  # as private as the draft
    assert reader.get(f"/media/{SLUG}/thumbs/anh.jpg").status_code == 404
    assert editor.get(f"/media/{SLUG}/..%2F..%2Ffields.yml").status_code == 404
    admin = signed_in(site, "quantri")
    assert change_status(admin, SLUG, "published").status_code == 302
    assert reader.get(f"/media/{SLUG}/anh.jpg").status_code == 200
    exported = next(e for e in reader.get("/api/export").get_json()["entries"] if e["slug"] == SLUG)
    assert [(a["file"], a["url"]) for a in exported["attachments"]] == [
        ("anh.jpg", f"http://localhost/media/{SLUG}/anh.jpg"), ("bc.pdf", f"http://localhost/media/{SLUG}/bc.pdf"),
    ]  # fmt: skip


def test_a_refused_file_is_named_nothing_is_saved_and_the_good_files_wait_for_the_next_save(
    site, content_dir, data_dir
):
    editor = signed_in(site, "bientap")
    fake = b"<!doctype html><html><script>alert(1)</script></html>"
    response = upload(editor, "/edit/new", FORM, [(jpeg_with_gps(), "anh-tot.jpg"), (fake, "anh-xau.jpg")])
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "Tệp “anh-xau.jpg” không phải loại được nhận (nội dung là" not in page  # html has no magic number
    assert "Tệp “anh-xau.jpg” không phải loại được nhận" in page
    assert not (content_dir / "models" / f"{SLUG}.md").exists() and not (content_dir / "media").exists()
    staged = re.findall(r'name="staged" value="([0-9a-f]{32})"', page)
    assert len(staged) == 1 and "anh-tot.jpg" in page and "mới, chưa lưu" in page
    # Sent again without the bad file, with the kept one's token: saved with it.
    again = upload(editor, "/edit/new", FORM, [], staged=staged[0], **{f"staged_caption-{staged[0]}": "Tủ sách"})
    assert again.status_code == 302
    assert front_matter(content_dir)["attachments"] == [{"file": "anh-tot.jpg", "caption": "Tủ sách"}]
    assert not (data_dir / "uploads" / staged[0]).exists()  # the staging area is emptied


def test_a_form_in_error_keeps_its_files_too(site, content_dir):
    editor = signed_in(site, "bientap")
    response = upload(editor, "/edit/new", {**FORM, "title": ""}, [(pdf(["x"]), "bc.pdf")])
    assert response.status_code == 422
    assert re.search(r'name="staged" value="[0-9a-f]{32}"', response.get_data(as_text=True))
    assert not (content_dir / "media").exists()


def test_removing_a_file_takes_it_off_the_list_and_out_of_the_content_folder(site, content_dir, data_dir):
    editor = signed_in(site, "bientap")
    assert upload(editor, "/edit/new", FORM, [(jpeg_with_gps(), "anh.jpg"), (pdf(["x"]), "bc.pdf")]).status_code == 302
    values = {**FORM, "att_file": ["anh.jpg", "bc.pdf"], "att_caption": ["Ảnh", "Báo cáo"], "att_credit": ["", ""],
              "att_remove": ["bc.pdf"]}  # fmt: skip
    assert upload(editor, f"/models/{SLUG}/edit", values, []).status_code == 302
    assert front_matter(content_dir)["attachments"] == [{"file": "anh.jpg", "caption": "Ảnh"}]
    assert not (content_dir / "media" / SLUG / "bc.pdf").exists()
    assert [p.name[-7:] for p in (data_dir / "media-removed" / SLUG).rglob("*.pdf")] == ["-bc.pdf"]
    # The history keeps the list: restoring the first revision lists the report again and brings it back.
    admin = signed_in(site, "quantri")
    history = admin.get(f"/models/{SLUG}/history").get_data(as_text=True)
    first = min(int(n) for n in re.findall(r'/revisions/(\d+)/restore"', history))
    data = {"csrf_token": token(history), "confirmed": "1"}
    base = re.search(r'name="base_hash" (?:type="hidden" )?value="([^"]+)"', history)
    if base:
        data["base_hash"] = base.group(1)
    assert admin.post(f"/models/{SLUG}/revisions/{first}/restore", data=data).status_code == 302
    assert [a["file"] for a in front_matter(content_dir)["attachments"]] == ["anh.jpg", "bc.pdf"]
    assert (content_dir / "media" / SLUG / "bc.pdf").exists()


def test_a_form_cannot_list_a_file_the_entry_does_not_have(site, content_dir):
    editor = signed_in(site, "bientap")
    assert post_form(editor, "/edit/new", FORM).status_code == 302
    values = {**FORM, "att_file": ["khong-co.pdf"], "att_caption": ["x"], "att_credit": [""]}
    assert upload(editor, f"/models/{SLUG}/edit", values, []).status_code == 302
    assert "attachments" not in front_matter(content_dir)


def test_a_zip_bomb_and_a_decompression_bomb_are_refused_with_nothing_stored(site, content_dir, data_dir):
    from test_uploads import png_header_only

    editor = signed_in(site, "bientap")
    bomb = docx([("Normal", "Báo cáo")], {"word/media/zeros.bin": b"\0" * (150 * 1024 * 1024)})
    response = upload(editor, "/edit/new", FORM, [(bomb, "bao-cao.docx"), (png_header_only(50_000, 50_000), "a.png")])
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422 and "bao-cao.docx" in page and "“a.png” quá lớn" in page
    assert not (content_dir / "media").exists() and not list((data_dir / "uploads").glob("*"))


class _Endless(io.RawIOBase):
    """A request body of a given length whose bytes are made only as they are read."""

    def __init__(self, size: int) -> None:
        self.size, self.position, self.read_so_far = size, 0, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = {0: offset, 1: self.position + offset, 2: self.size + offset}[whence]
        return self.position

    def readinto(self, buffer) -> int:
        n = max(0, min(len(buffer), self.size - self.position))
        buffer[:n] = b"\0" * n
        self.position += n
        self.read_so_far += n
        return n


def test_a_200_mb_upload_is_refused_before_it_is_read(site, content_dir, data_dir):
    editor = signed_in(site, "bientap")
    page = editor.get("/edit/new").get_data(as_text=True)
    body = _Endless(200 * 1024 * 1024)
    response = editor.post(
        f"/edit/new?csrf_token={token(page)}", input_stream=body, content_type="multipart/form-data; boundary=xyz",
    )  # fmt: skip
    assert response.status_code == 413 and "quá lớn" in response.get_data(as_text=True)
    assert body.read_so_far < 1024 * 1024  # refused from its announced size, not after reading it
    assert not (content_dir / "media").exists()


def test_an_editors_new_photo_for_a_published_entry_waits_with_the_proposal(site, content_dir):
    admin = signed_in(site, "quantri")
    assert post_form(admin, "/edit/new", FORM, action="publish").status_code == 302
    editor = signed_in(site, "bientap")
    assert upload(editor, f"/models/{SLUG}/edit", FORM, [(jpeg_with_gps(), "anh-moi.jpg")]).status_code == 302
    assert "attachments" not in front_matter(content_dir)  # the published file is unchanged
    reader = site.test_client()
    assert reader.get(f"/media/{SLUG}/anh-moi.jpg").status_code == 404  # not public before it is applied
    assert editor.get(f"/media/{SLUG}/anh-moi.jpg").status_code == 200  # the reviewers see it
    proposal = max(r["id"] for r in open_db(site.config["KB_DATA_DIR"])["proposals"].rows)
    review = admin.get(f"/models/{SLUG}/proposals/{proposal}").get_data(as_text=True)
    base = re.search(r'name="base_hash" value="([^"]+)"', review).group(1)
    data = {"csrf_token": token(review), "base_hash": base}
    assert admin.post(f"/models/{SLUG}/proposals/{proposal}/apply", data=data).status_code == 302
    assert front_matter(content_dir)["attachments"] == [{"file": "anh-moi.jpg"}]
    assert reader.get(f"/media/{SLUG}/anh-moi.jpg").status_code == 200


def test_words_inside_attached_documents_are_found_and_the_result_says_where(site, content_dir, data_dir):
    editor = signed_in(site, "bientap")
    report = pdf(["Bao cao so ket xqzbaocao nam 2023"])
    word = docx([("Heading 1", "Kết quả"), ("Normal", "Bà con trồng rau xqzvuonrau quanh đồn.")])
    files = [(report, "bao-cao-2023.pdf"), (word, "ke-hoach.docx")]
    assert upload(editor, "/edit/new", FORM, files, action="submit").status_code == 302
    admin = signed_in(site, "quantri")
    assert change_status(admin, SLUG, "published").status_code == 302
    reader = site.test_client()
    for query, name, quoted in (("xqzbaocao", "bao-cao-2023.pdf", "xqzbaocao"), ("xqzvuonrau", "ke-hoach.docx", "rau")):
        found = reader.get(f"/api/search?q={query}").get_json()["results"]
        assert [r["slug"] for r in found] == [SLUG], query
        assert found[0]["found_in"] == name and "<mark>" in found[0]["snippet"] and quoted in found[0]["snippet"]
        page = html.unescape(reader.get(f"/search?q={query}").get_data(as_text=True))
        assert f'Trong tệp đính kèm: <a href="/media/{SLUG}/{name}" download>{name}</a>' in page
    # Words of the entry's own text are quoted from it, with no mention of a file.
    own = reader.get("/api/search?q=đổi sách").get_json()["results"]
    assert own[0]["slug"] == SLUG and own[0]["found_in"] is None
    # A word in no entry and no document still finds nothing.
    assert reader.get("/api/search?q=xqzkhongdauca").get_json()["results"] == []
    # A full reindex (the words come back from the cache of extracted text) keeps them searchable.
    result = site.test_cli_runner().invoke(args=["kb", "reindex", "--full"])
    assert result.exit_code == 0, result.output
    assert [r["slug"] for r in reader.get("/api/search?q=xqzbaocao").get_json()["results"]] == [SLUG]
    assert list((data_dir / "extracted").glob("*.txt"))


def test_the_review_and_the_audit_log_name_the_files_a_change_adds(site, content_dir):
    admin = signed_in(site, "quantri")
    assert post_form(admin, "/edit/new", FORM, action="publish").status_code == 302
    editor = signed_in(site, "bientap")
    assert upload(editor, f"/models/{SLUG}/edit", FORM, [(jpeg_with_gps(), "anh-moi.jpg")]).status_code == 302
    proposal = max(r["id"] for r in open_db(site.config["KB_DATA_DIR"])["proposals"].rows)
    page = admin.get(f"/models/{SLUG}/proposals/{proposal}").get_data(as_text=True)
    review = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert "Ảnh và tệp đính kèm" in review and "anh-moi.jpg" in review and "{'file'" not in review
    audit = html.unescape(admin.get("/admin/audit").get_data(as_text=True))
    assert "Ảnh và tệp đính kèm: (trống) → anh-moi.jpg" in audit


def test_a_photo_sent_with_a_save_that_meets_a_conflict_comes_along_when_saving_again(site, content_dir):
    editor = signed_in(site, "bientap")
    assert post_form(editor, "/edit/new", FORM).status_code == 302
    url = f"/models/{SLUG}/edit"
    stale = editor.get(url).get_data(as_text=True)
    base = re.search(r'name="base_hash" type="hidden" value="([^"]*)"', stale).group(1)
    path = content_dir / "models" / f"{SLUG}.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nThêm bằng tay.\n", encoding="utf-8")
    data = {**FORM, "csrf_token": token(stale), "action": "save", "base_hash": base,
            "files": [(io.BytesIO(jpeg_with_gps()), "anh.jpg")]}  # fmt: skip
    conflict = editor.post(url, data=data, content_type="multipart/form-data")
    page = conflict.get_data(as_text=True)
    assert conflict.status_code == 409 and "Kèm 1 tệp bạn vừa tải lên: anh.jpg." in page
    form = page[page.index('<form method="post" action="' + url) :]
    form = form[: form.index("</form>")]
    values: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form):
        values.setdefault(html.unescape(name), []).append(html.unescape(value))
    values["csrf_token"] = [token(form)]
    assert editor.post(url, data={**values, "action": "save"}).status_code == 302
    assert front_matter(content_dir)["attachments"] == [{"file": "anh.jpg"}]
    assert (content_dir / "media" / SLUG / "anh.jpg").exists()


@pytest.mark.slow  # 195 000 characters rendered and analysed: 26 s on a loaded 2-core VM (2026-12-03)
def test_the_longest_body_the_form_takes_saves_in_a_form_sent_with_files(site, content_dir):
    editor = signed_in(site, "bientap")
    # Letters with two marks, dashes and ellipses take three bytes each in UTF-8 (pasted tables, lists).
    body = "## Cách làm\n\n" + "Ệ—Ở… " * 39_000  # 195 013 characters, 507 013 bytes
    assert len(body) < 200_000 and len(body.encode()) > 500_000  # more bytes than Flask's default field bound
    response = upload(editor, "/edit/new", {**FORM, "body": body}, [(pdf(["x"]), "bc.pdf")])
    assert response.status_code == 302, response.status_code
    assert (content_dir / "models" / f"{SLUG}.md").read_text(encoding="utf-8").count("Ệ—Ở…") == 39_000


def test_a_new_upload_never_takes_the_name_of_a_removed_file_the_history_may_bring_back(site, content_dir):
    editor = signed_in(site, "bientap")
    assert upload(editor, "/edit/new", FORM, [(jpeg_with_gps(), "camera.jpg")]).status_code == 302
    values = {**FORM, "att_file": ["camera.jpg"], "att_caption": ["Khám bệnh"], "att_credit": [""],
              "att_remove": ["camera.jpg"]}  # fmt: skip
    assert upload(editor, f"/models/{SLUG}/edit", values, []).status_code == 302
    other = Image.new("RGB", (800, 600), (0, 160, 0))
    out = io.BytesIO()
    other.save(out, "JPEG")
    assert upload(editor, f"/models/{SLUG}/edit", FORM, [(out.getvalue(), "camera.jpg")]).status_code == 302
    assert front_matter(content_dir)["attachments"] == [{"file": "camera-2.jpg"}]


def test_a_rejected_proposals_files_leave_the_content_folder_and_come_back_if_it_is_reopened(site, content_dir):
    admin = signed_in(site, "quantri")
    assert post_form(admin, "/edit/new", FORM, action="publish").status_code == 302
    editor = signed_in(site, "bientap")
    assert upload(editor, f"/models/{SLUG}/edit", FORM, [(jpeg_with_gps(), "anh-de-xuat.jpg")]).status_code == 302
    folder = content_dir / "media" / SLUG
    proposal = max(r["id"] for r in open_db(site.config["KB_DATA_DIR"])["proposals"].rows)
    review = admin.get(f"/models/{SLUG}/proposals/{proposal}").get_data(as_text=True)
    assert "Ảnh và tệp bản sửa thêm vào" in review and f'src="/media/{SLUG}/thumbs/anh-de-xuat.jpg"' in review
    assert "no-store" in editor.get(f"/media/{SLUG}/anh-de-xuat.jpg").headers["Cache-Control"]  # not public yet
    base = re.search(r'name="base_hash" value="([^"]+)"', review).group(1)
    data = {"csrf_token": token(review), "base_hash": base, "confirmed": "1", "reason": "Ảnh mờ."}
    assert admin.post(f"/models/{SLUG}/proposals/{proposal}/reject", data=data).status_code == 302
    assert not (folder / "anh-de-xuat.jpg").exists() and not (folder / "thumbs" / "anh-de-xuat.jpg").exists()
    # Reopened and sent again, the proposal has its photo back.
    page = editor.get(f"/models/{SLUG}/edit?reopen={proposal}").get_data(as_text=True)
    assert 'name="att_file" value="anh-de-xuat.jpg"' in page
    values = {**FORM, "att_file": ["anh-de-xuat.jpg"], "att_caption": ["Ảnh rõ hơn"], "att_credit": [""],
              "reopens": str(proposal)}  # fmt: skip
    assert upload(editor, f"/models/{SLUG}/edit", values, []).status_code == 302
    assert (folder / "anh-de-xuat.jpg").exists() and (folder / "thumbs" / "anh-de-xuat.jpg").exists()


def test_an_upload_kept_for_one_account_is_not_anothers_and_a_lost_one_is_said(site, content_dir, data_dir):
    first = signed_in(site, "bientap")
    kept = upload(first, "/edit/new", {**FORM, "title": ""}, [(pdf(["x"]), "tai-lieu.pdf")])
    token_ = re.search(r'name="staged" value="([0-9a-f]{32})"', kept.get_data(as_text=True)).group(1)
    other = signed_in(site, "quantri")
    stolen = upload(other, "/edit/new", FORM, [], staged=token_, **{f"staged_name-{token_}": "tai-lieu.pdf"})
    said = html.unescape(stolen.get_data(as_text=True))
    assert stolen.status_code == 422 and "Tệp đã tải lên trước đó (tai-lieu.pdf) không còn được giữ" in said
    assert (data_dir / "uploads" / token_).exists()  # still the first editor's
    assert upload(first, "/edit/new", FORM, [], staged=token_).status_code == 302
    assert front_matter(content_dir)["attachments"] == [{"file": "tai-lieu.pdf"}]


def test_a_file_over_the_limit_is_refused_with_its_real_size(site, content_dir, monkeypatch):
    monkeypatch.setenv("KB_UPLOAD_FILE_MB", "1")
    editor = signed_in(site, "bientap")
    big = b"%PDF-1.4\n" + b"0" * (3 * 1024 * 1024)
    response = upload(editor, "/edit/new", FORM, [(big, "lon.pdf")])
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422 and "Tệp “lon.pdf” nặng 3,0 MB, quá giới hạn 1,0 MB cho một tệp." in page


def test_a_preview_without_javascript_keeps_the_files_chosen(site, content_dir):
    editor = signed_in(site, "bientap")
    response = upload(editor, "/edit/new", FORM, [(pdf(["x"]), "bc.pdf")], action="preview")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "bc.pdf" in page
    kept = re.search(r'name="staged" value="([0-9a-f]{32})"', page).group(1)
    assert upload(editor, "/edit/new", FORM, [], staged=kept).status_code == 302
    assert front_matter(content_dir)["attachments"] == [{"file": "bc.pdf"}]


def test_an_entry_with_the_words_in_its_own_text_ranks_above_one_with_them_only_in_a_document(site):
    admin = signed_in(site, "quantri")
    report = docx([("Normal", "Giếng xqzgieng. " * 200)])  # the word two hundred times, in a document only
    other = {**FORM, "title": "Bể chứa nước mưa", "body": "## Cách làm\n\nXây bể chứa nước mưa.\n"}
    assert upload(admin, "/edit/new", other, [(report, "bao-cao.docx")], action="publish").status_code == 302
    # Written second (a tie would put it second too), the word once in its body.
    own = {**FORM, "title": "Nước sạch cho bản", "body": "## Cách làm\n\nĐào giếng xqzgieng cho bà con.\n"}
    assert post_form(admin, "/edit/new", own, action="publish").status_code == 302
    found = site.test_client().get("/api/search?q=xqzgieng").get_json()["results"]
    assert [r["title"] for r in found] == ["Nước sạch cho bản", "Bể chứa nước mưa"]  # once in the body wins
    assert [r["found_in"] for r in found] == [None, "bao-cao.docx"]
