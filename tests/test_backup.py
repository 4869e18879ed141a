"""Backup and restore, end to end: the restored site serves the same entries, history, people and ledger."""

from __future__ import annotations

import re
import tarfile
from pathlib import Path

from helpers import login, site_with_accounts, token

from kb import create_app
from kb.catalog import reindex
from kb.store import open_db

ROOT = Path(__file__).resolve().parent.parent


def test_a_backup_restored_on_a_fresh_machine_serves_the_same_site(content_dir, data_dir, tmp_path):
    app = site_with_accounts(content_dir, data_dir, {"quantri": "admin"})
    admin = app.test_client()
    login(admin, "quantri")
    page = admin.get("/models/thap-sang-vung-bien/edit").get_data(as_text=True)
    base = re.search(r'name="base_hash" type="hidden" value="([^"]*)"', page).group(1)
    saved = admin.post(
        "/models/thap-sang-vung-bien/edit",
        data={"title": "Thắp sáng vùng biên", "summary": "Đèn cho đường biên giới.", "unit": "Đồn A",
              "fields": ["Kinh tế - Xã hội"], "body": "Bản đã sửa xqzsaoluu.", "base_hash": base,
              "csrf_token": token(page), "action": "save"},
    )  # fmt: skip
    assert saved.status_code == 302
    form = admin.get("/models/thap-sang-vung-bien/replications/new").get_data(as_text=True)
    record = {"unit": "Đồn Biên phòng Sao Lưu", "status": "đã hoàn thành", "csrf_token": token(form)}
    admin.post("/models/thap-sang-vung-bien/replications/new", data=record)

    result = app.test_cli_runner().invoke(args=["kb", "backup", "--to", str(tmp_path / "bk")])
    assert result.exit_code == 0, result.output
    archive = next((tmp_path / "bk").glob("*.tar.gz"))
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "data/kb.sqlite3" in names and "content/models/thap-sang-vung-bien.md" in names

    fresh_content, fresh_data = tmp_path / "moi" / "content", tmp_path / "moi" / "data"
    restored = create_app({"TESTING": True, "KB_CONTENT_DIR": fresh_content, "KB_DATA_DIR": fresh_data})
    result = restored.test_cli_runner().invoke(args=["kb", "restore", str(archive)])
    assert result.exit_code == 0, result.output
    counts = {t: open_db(fresh_data)[t].count for t in ("revisions", "replications", "users", "audit")}
    assert counts == {t: open_db(data_dir)[t].count for t in counts}
    restored = create_app({"TESTING": True, "KB_CONTENT_DIR": fresh_content, "KB_DATA_DIR": fresh_data})
    reader = restored.test_client()
    slugs = [r["slug"] for r in reader.get("/api/search").get_json()["results"]]
    assert sorted(slugs) == ["thap-sang-vung-bien", "to-tau-thuyen-doan-ket", "tu-thuoc-bien-cuong"]
    assert [r["slug"] for r in reader.get("/api/search?q=xqzsaoluu").get_json()["results"]] == ["thap-sang-vung-bien"]
    assert "Đồn Biên phòng Sao Lưu" in reader.get("/models/thap-sang-vung-bien").get_data(as_text=True)
    again = restored.test_client()
    assert login(again, "quantri").status_code == 302  # the same accounts
    history = again.get("/models/thap-sang-vung-bien/history").get_data(as_text=True)
    assert "quantri" in history and "(tệp trên đĩa)" in history  # the same revisions


def test_restore_refuses_a_folder_in_use_and_a_file_that_is_not_a_backup(content_dir, data_dir, tmp_path):
    reindex(content_dir, data_dir)
    app = create_app({"TESTING": True, "KB_CONTENT_DIR": content_dir, "KB_DATA_DIR": data_dir})
    archive = tmp_path / "x.tar.gz"
    app.test_cli_runner().invoke(args=["kb", "backup", "--to", str(archive)])
    result = app.test_cli_runner().invoke(args=["kb", "restore", str(archive)])
    assert result.exit_code != 0 and "không trống" in result.output  # nothing overwritten
    bogus = tmp_path / "bogus.tar.gz"
    bogus.write_bytes(b"not an archive")
    empty = create_app({"TESTING": True, "KB_CONTENT_DIR": tmp_path / "c2", "KB_DATA_DIR": tmp_path / "d2"})
    result = empty.test_cli_runner().invoke(args=["kb", "restore", str(bogus)])
    assert result.exit_code != 0 and "Không đọc được tệp sao lưu" in result.output


def test_an_incomplete_archive_is_refused_and_leaves_the_folders_empty(tmp_path):
    broken = tmp_path / "thieu.tar.gz"
    manifest = tmp_path / "kho-mo-hinh-hay.json"
    manifest.write_text('{"format": 1, "created_at": "2026-01-01T00:00:00+00:00"}', encoding="utf-8")
    (tmp_path / "content" / "models").mkdir(parents=True)
    (tmp_path / "content" / "models" / "a.md").write_text("---\ntitle: A\n---\n", encoding="utf-8")
    with tarfile.open(broken, "w:gz") as tar:
        tar.add(manifest, arcname="kho-mo-hinh-hay.json")
        tar.add(tmp_path / "content", arcname="content")  # but no database
    content, data = tmp_path / "c", tmp_path / "d"
    app = create_app({"TESTING": True, "KB_CONTENT_DIR": content, "KB_DATA_DIR": data})
    result = app.test_cli_runner().invoke(args=["kb", "restore", str(broken)])
    assert result.exit_code != 0 and "thiếu thư mục nội dung hoặc cơ sở dữ liệu" in result.output
    assert not content.exists() or not any(content.iterdir())
    assert not (data / "kb.sqlite3").exists()
