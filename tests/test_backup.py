"""Backup and restore, end to end: the restored site serves the same entries, history, people and ledger."""

from __future__ import annotations

import gzip
import io
import re
import stat
import tarfile
from pathlib import Path

import pytest
from helpers import login, site_with_accounts, token, write_samples
from test_uploads import jpeg_with_gps

from kb import create_app
from kb.backup import BackupError, make_backup, restore_backup
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
              "csrf_token": token(page), "action": "save", "files": [(io.BytesIO(jpeg_with_gps()), "den.jpg")]},
        content_type="multipart/form-data",
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
    assert "content/media/thap-sang-vung-bien/den.jpg" in names  # photos travel with their entries

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
    entry = reader.get("/models/thap-sang-vung-bien").get_data(as_text=True)
    assert "Đồn Biên phòng Sao Lưu" in entry and 'src="/media/thap-sang-vung-bien/thumbs/den.jpg"' in entry
    assert reader.get("/media/thap-sang-vung-bien/thumbs/den.jpg").status_code == 200
    again = restored.test_client()
    assert login(again, "quantri").status_code == 302  # the same accounts
    history = again.get("/models/thap-sang-vung-bien/history").get_data(as_text=True)
    assert "quantri" in history and "Bản trên đĩa trước khi sửa" in history  # the same revisions


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


def _archive_with(tmp_path: Path, *extra: tuple[tarfile.TarInfo, bytes | None]) -> Path:
    """Return a real backup of the sample site, with extra members appended (data None: header only)."""
    content, data = tmp_path / "site" / "content", tmp_path / "site" / "data"
    write_samples(content)
    reindex(content, data)
    archive, _manifest = make_backup(content, data, tmp_path / "that.tar.gz")
    with tarfile.open(archive) as tar:
        members = [(m, tar.extractfile(m).read() if m.isfile() else None) for m in tar.getmembers()]
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for info, data_bytes in [*members, *extra]:
            if data_bytes is None and info.isfile():  # a header that claims more than the archive holds
                raw.write(info.tobuf(tarfile.GNU_FORMAT))
            else:
                tar.addfile(info, io.BytesIO(data_bytes) if data_bytes is not None else None)
    crafted = tmp_path / "crafted.tar.gz"
    crafted.write_bytes(gzip.compress(raw.getvalue()))
    return crafted


def _member(name: str, kind: bytes = tarfile.REGTYPE, size: int = 0, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.linkname, info.mode = kind, size, link, 0o644
    return info


def _restore(tmp_path: Path, archive: Path, *options: str):
    """Run `kb restore` into fresh folders; return the result and the two folders."""
    content, data = tmp_path / "fresh" / "content", tmp_path / "fresh" / "data"
    app = create_app({"TESTING": True, "KB_CONTENT_DIR": content, "KB_DATA_DIR": data})
    return app.test_cli_runner().invoke(args=["kb", "restore", str(archive), *options]), content, data


def _left_empty(content: Path, data: Path) -> bool:
    """Return True if nothing was restored: the data folder holds at most the key the app made on start."""
    return {p.name for p in content.rglob("*")} | {p.name for p in data.rglob("*")} <= {"secret_key"}


@pytest.mark.parametrize(
    ("member", "named"),
    [(_member("content/models", tarfile.SYMTYPE, link="../instance"), "content/models → ../instance"),
     (_member("content/models/chep.md", tarfile.LNKTYPE, link="data/kb.sqlite3"),
      "content/models/chep.md → data/kb.sqlite3"),
     (_member("content/fifo", tarfile.FIFOTYPE), "content/fifo, không phải tệp hay thư mục thường")],
    ids=["symlink", "hardlink", "fifo"],
)  # fmt: skip
def test_restore_refuses_any_link_and_writes_nothing(tmp_path, member, named):
    # A link within the archive passes tarfile's "data" filter; once moved into content/, a
    # `models` link to ../instance would let the next save write into the data folder.
    archive = _archive_with(tmp_path, (member, None if member.issym() or member.islnk() else b""))
    result, content, data = _restore(tmp_path, archive)
    assert result.exit_code != 0 and named in result.output
    assert "không khôi phục" in result.output
    assert _left_empty(content, data)


def test_restore_refuses_an_archive_that_unpacks_past_the_bound_before_unpacking_it(tmp_path):
    # A 9 GiB member in a few hundred bytes of header: refused from the header alone.
    huge = _archive_with(tmp_path, (_member("content/models/bom.md", size=9 * 1024**3), None))
    assert huge.stat().st_size < 1024 * 1024
    result, content, data = _restore(tmp_path, huge)
    assert result.exit_code != 0 and "hơn 4 GiB (đến content/models/bom.md)" in result.output
    assert "--max-size" in result.output and _left_empty(content, data)


def test_restore_bounds_unpacked_size_and_member_count(tmp_path):
    zeros = _archive_with(tmp_path, (_member("content/models/khong.md", size=3 * 1024 * 1024), bytes(3 * 1024 * 1024)))
    assert zeros.stat().st_size < 200 * 1024  # zeros compress a thousandfold
    content, data = tmp_path / "c", tmp_path / "d"
    with pytest.raises(BackupError, match=r"đến content/models/khong\.md"):
        restore_backup(zeros, content, data, max_bytes=2 * 1024 * 1024)
    with pytest.raises(BackupError, match=r"hơn 5 tệp và thư mục \(đến "):
        restore_backup(zeros, content, data, max_members=5)
    assert _left_empty(content, data)
    result, content, data = _restore(tmp_path, zeros, "--max-size", "1")  # the same archive, within bounds
    assert result.exit_code == 0, result.output
    assert (content / "models" / "khong.md").stat().st_size == 3 * 1024 * 1024


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_backups_and_a_restored_database_are_readable_by_their_owner_only(content_dir, data_dir, tmp_path, usual_umask):
    reindex(content_dir, data_dir)
    app = create_app({"TESTING": True, "KB_CONTENT_DIR": content_dir, "KB_DATA_DIR": data_dir})
    assert app.test_cli_runner().invoke(args=["kb", "backup"]).exit_code == 0
    archive = next((data_dir / "backups").glob("*.tar.gz"))
    assert _mode(data_dir / "backups") == 0o700 and _mode(archive) == 0o600
    elsewhere, _manifest = make_backup(content_dir, data_dir, tmp_path / "bk")
    assert _mode(elsewhere) == 0o600
    with tarfile.open(elsewhere) as tar:
        assert tar.getmember("data/kb.sqlite3").mode == 0o600
        members = [(m, tar.extractfile(m).read() if m.isfile() else None) for m in tar.getmembers()]
    older = tmp_path / "cu.tar.gz"  # as an older version made them: the database stored 0644
    with tarfile.open(older, "w:gz") as tar:
        for info, payload in members:
            info.mode = 0o644 if info.isfile() else info.mode
            tar.addfile(info, io.BytesIO(payload) if payload is not None else None)
    result, _content, data = _restore(tmp_path, older)
    assert result.exit_code == 0, result.output
    assert _mode(data / "kb.sqlite3") == 0o600
