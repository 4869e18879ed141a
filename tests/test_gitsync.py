"""Sites that share content through a bare git repository: real git, real indexes, in temporary folders."""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from indexer import SearchIndex
from kb import gitsync
from kb.catalog import reindex
from kb.drafts import Draft, read_draft
from kb.editing import Who, save_entry
from kb.sharing import sync_site
from kb.store import open_db

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git không có trên máy này: bỏ qua đồng bộ")


class Site:
    """One site: its content folder (a git working tree once synced) and its data folder."""

    def __init__(self, base: Path, name: str, shipped: bool) -> None:
        self.content, self.data = base / name / "content", base / name / "data"
        self.content.mkdir(parents=True)
        if shipped:
            shutil.copytree(ROOT / "content", self.content, dirs_exist_ok=True)
            reindex(self.content, self.data)

    def sync(self) -> gitsync.SyncReport:
        return sync_site(self.content, self.data)

    def search(self, query: str) -> list[str]:
        return [h.slug for h in SearchIndex(self.data / "index").search(query, per_page=100).hits]

    def save(self, draft: Draft, slug: str | None = None, author: str = "bientap") -> str:
        base = ""
        if slug:
            import hashlib

            base = hashlib.sha256((self.content / "models" / f"{slug}.md").read_bytes()).hexdigest()
        result = save_entry(self.content, self.data, open_db(self.data), draft, slug=slug, base_hash=base,
                            author=Who(author))  # fmt: skip
        assert result.outcome == "saved", result
        return result.slug

    def draft(self, slug: str) -> Draft:
        return read_draft((self.content / "models" / f"{slug}.md").read_bytes())[0]


@pytest.fixture
def sites(tmp_path, monkeypatch):
    """A bare remote and three sites: A holds the shipped content and syncs first; B and C join empty."""
    remote = tmp_path / "kho-chung.git"
    subprocess.run(["git", "init", "--quiet", "--bare", "--initial-branch", gitsync.BRANCH, str(remote)], check=True)
    monkeypatch.setenv("KB_GIT_REMOTE", str(remote))
    a = Site(tmp_path, "a", shipped=True)
    assert a.sync().pushed  # an existing single site becomes the first synced one
    b, c = Site(tmp_path, "b", shipped=False), Site(tmp_path, "c", shipped=False)
    for site in (b, c):
        report = site.sync()  # a new site joins: it clones and indexes
        assert report.ok and "models/tu-thuoc-bien-cuong.md" in report.changed
    return a, b, c


NEW = Draft(
    title="Giếng nước sạch xqzgieng",
    summary="Đồn đào giếng cho bà con.",
    unit="Đồn Biên phòng Thử A",
    province="Nghệ An",
    fields=["Dân vận"],
    body="## Cách làm\n\nĐào giếng.\n",
    status="published",
)


def test_an_entry_created_on_one_site_is_found_on_the_others_after_one_sync_each(sites):
    a, b, c = sites
    assert b.search("tủ thuốc biên cương")[0] == "tu-thuoc-bien-cuong"  # joined with the shipped entries
    slug = a.save(NEW)
    log = subprocess.run(["git", "log", "-1", "--format=%an|%s"], cwd=a.content, capture_output=True, text=True)
    assert log.stdout.strip() == f"bientap|Lưu “{NEW.title}”"  # the save is a commit by its author
    assert a.sync().pushed
    for site in (b, c):
        assert site.search("xqzgieng") == []
        assert f"models/{slug}.md" in site.sync().changed
        assert site.search("xqzgieng") == [slug]
        # Its history there names who wrote it and with which save.
        [revision] = open_db(site.data)["revisions"].rows_where("slug = ?", [slug])
        assert revision["author"] == "bientap" and revision["comment"].startswith(f"Qua đồng bộ: Lưu “{NEW.title}”")


def test_two_sites_editing_one_entry_lose_neither_text(sites):
    a, b, _c = sites
    slug = "tu-thuoc-bien-cuong"
    mine, theirs = a.draft(slug), b.draft(slug)
    mine.contact = "Trạm A: 0200 000 001"  # a different line on each site: git merges them
    theirs.body = theirs.body.rstrip("\n") + "\n\nBổ sung của trạm B xqzbosungb.\n"
    a.save(mine, slug)
    b.save(theirs, slug, author="bientap2")
    assert a.sync().pushed and b.sync().pushed
    merged = b.draft(slug)
    assert merged.contact == "Trạm A: 0200 000 001" and "xqzbosungb" in merged.body
    assert a.sync().ok and a.draft(slug).contact == "Trạm A: 0200 000 001" and "xqzbosungb" in a.draft(slug).body
    assert a.search("xqzbosungb") == [slug]
    # The same line on both: the remote's version is served, this site's waits as a proposal.
    mine, theirs = a.draft(slug), b.draft(slug)
    mine.summary, theirs.summary = "Tóm tắt của trạm A.", "Tóm tắt của trạm B."
    a.save(mine, slug)
    b.save(theirs, slug)
    assert a.sync().pushed
    report = b.sync()
    assert report.ok and report.conflicts == [f"models/{slug}.md"] and report.pushed
    served = (b.content / "models" / f"{slug}.md").read_text(encoding="utf-8")
    assert "Tóm tắt của trạm A." in served and "<<<<<<<" not in served
    proposal = next(open_db(b.data)["proposals"].rows_where("slug = ? AND state = 'open'", [slug]))
    assert "Tóm tắt của trạm B." in proposal["text"] and "Tóm tắt của trạm A." in proposal["base_text"]


def test_a_site_offline_for_fifty_edits_catches_up_in_one_sync(sites, monkeypatch, tmp_path):
    a, b, _c = sites
    monkeypatch.setenv("KB_GIT_REMOTE", str(tmp_path / "khong-toi-duoc.git"))  # the link is down
    made = []
    for n in range(50):
        made.append(a.save(Draft(title=f"Mô hình ngoại tuyến {n} xqzoffline", summary="Thử.", unit="Đồn A",
                                 fields=["Dân vận"], body="## Cách làm\n\nLàm.\n", status="published")))  # fmt: skip
    offline = a.sync()
    assert not offline.ok and offline.last_success  # it says it failed, and since when it last worked
    monkeypatch.setenv("KB_GIT_REMOTE", str(tmp_path / "kho-chung.git"))  # the link is back
    assert a.sync().pushed
    report = b.sync()
    assert len([r for r in report.changed if "ngoai-tuyen" in r]) == 50
    assert sorted(b.search("xqzoffline")) == sorted(made)


def test_two_syncs_started_at_once_on_one_site_run_one_after_the_other(sites):
    a, _b, _c = sites
    a.save(NEW)
    reports: list[gitsync.SyncReport] = []
    threads = [threading.Thread(target=lambda: reports.append(a.sync())) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r.ok for r in reports) and sum(r.pushed for r in reports) == 2


def test_without_a_remote_nothing_is_committed_and_kb_sync_says_why(tmp_path, monkeypatch):
    monkeypatch.delenv("KB_GIT_REMOTE", raising=False)
    site = Site(tmp_path, "mot", shipped=True)
    site.save(NEW)
    assert not (site.content / ".git").exists()  # a single site stays as it was
    from kb import create_app

    app = create_app({"TESTING": True, "KB_CONTENT_DIR": site.content, "KB_DATA_DIR": site.data})
    result = app.test_cli_runner().invoke(args=["kb", "sync"])
    assert result.exit_code == 1 and "Chưa đặt KB_GIT_REMOTE" in result.output


def test_the_admin_page_shows_the_last_sync_and_syncs_now(sites):
    import re

    from helpers import login, token

    from kb import create_app
    from kb.accounts import create_user

    a, b, _c = sites
    a.save(NEW)
    a.sync()
    create_user(open_db(b.data), "quantri", "mat-khau-du-dai-1", "admin")
    app = create_app({"TESTING": True, "KB_CONTENT_DIR": b.content, "KB_DATA_DIR": b.data})
    admin = app.test_client()
    assert login(admin, "quantri").status_code == 302
    page = admin.get("/admin").get_data(as_text=True)
    assert "Đồng bộ với kho chung" in page and "Đồng bộ thành công gần nhất" in page and "chưa tới 1 giờ" in page
    before = gitsync.last_report(b.data).at
    response = admin.post("/admin/sync", data={"csrf_token": token(page)})
    assert response.status_code == 302  # the sync runs in a process of its own: the page answers at once
    assert "Đã bắt đầu đồng bộ" in admin.get("/admin").get_data(as_text=True)
    import time

    deadline = time.monotonic() + 60
    while (gitsync.running(b.data) or gitsync.last_report(b.data).at == before) and time.monotonic() < deadline:
        time.sleep(0.2)
    after = admin.get("/admin").get_data(as_text=True)
    assert re.search(r"Đồng bộ xong: 1 tệp thay đổi, đã gửi đi\.", after)
    assert "Đang đồng bộ" not in after
    assert b.search("xqzgieng")
    syncs = admin.get("/admin/audit?action=sync").get_data(as_text=True)  # the log keeps what each sync did
    assert "Bắt đầu đồng bộ" in syncs and "Thay đổi: models/gieng-nuoc-sach-xqzgieng.md" in syncs


@pytest.mark.slow  # a real server and its background sync: some 20 s
def test_the_server_syncs_in_the_background_and_keeps_serving_when_the_remote_is_gone(sites, tmp_path):
    import json
    import os
    import signal
    import socket
    import sys
    import time
    import urllib.request

    a, b, _c = sites
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "KB_CONTENT_DIR": str(b.content), "KB_DATA_DIR": str(b.data), "SECRET_KEY": "x",
           "WORKERS": "1", "KB_ACCESS_LOG": "", "KB_SYNC_INTERVAL": "10", "KB_PRELOAD_SEGMENTER": "0"}  # fmt: skip
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
         "app:app"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip

    def found(query: str) -> list[str]:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/search?q={query}", timeout=5) as answer:
            return [r["slug"] for r in json.load(answer)["results"]]

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                found("x")
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "server.log").read_text()
                time.sleep(0.2)
        slug = a.save(NEW)
        assert a.sync().pushed
        deadline = time.monotonic() + 60
        while found("xqzgieng") != [slug]:
            assert time.monotonic() < deadline, "the background sync never brought the entry"
            time.sleep(0.5)
        shutil.rmtree(tmp_path / "kho-chung.git")  # the remote is gone: the site keeps serving what it has
        time.sleep(12)
        assert found("xqzgieng") == [slug]
        assert not gitsync.last_report(b.data).ok
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
        log.close()


def test_a_malformed_entry_from_the_remote_is_reported_with_its_author_and_the_old_version_serves(sites):
    a, b, _c = sites
    path = a.content / "models" / "tu-thuoc-bien-cuong.md"
    path.write_text("---\ntitle: [Tủ thuốc hỏng\n---\nNội dung xqzhong.\n", encoding="utf-8")  # a hand edit on A
    gitsync.commit_all(a.content, "Sửa tay", author="nguoi-sua-tay")
    assert a.sync().pushed
    report = b.sync()
    assert [(r["path"], r["author"]) for r in report.rejected] == [("models/tu-thuoc-bien-cuong.md", "nguoi-sua-tay")]
    assert "YAML" in report.rejected[0]["message"] and report.rejected[0]["commit"]
    assert "có lỗi, vẫn dùng bản tốt trước đó" in report.summary()
    assert b.search("tủ thuốc biên cương")[0] == "tu-thuoc-bien-cuong" and b.search("xqzhong") == []


def test_an_entry_deleted_on_one_site_and_edited_on_another_is_kept_edited(sites):
    a, b, _c = sites
    slug = "to-tau-thuyen-doan-ket"
    (a.content / "models" / f"{slug}.md").unlink()
    gitsync.commit_all(a.content, "Xóa mục", author="quantri")
    assert a.sync().pushed
    edited = b.draft(slug)
    edited.contact = "Trạm B vẫn dùng mục này"
    b.save(edited, slug)
    report = b.sync()
    assert report.ok and report.conflicts == [] and report.pushed  # no proposal: the edit is what serves
    assert report.notes == [f"models/{slug}.md: đã bị xóa ở nơi khác nhưng được sửa ở đây: giữ bản sửa"]
    assert b.draft(slug).contact == "Trạm B vẫn dùng mục này"
    assert a.sync().ok and a.draft(slug).contact == "Trạm B vẫn dùng mục này"  # and it comes back everywhere


def test_a_second_site_with_content_of_its_own_joins_and_keeps_it(sites, tmp_path):
    a, _b, _c = sites
    slug = a.save(NEW)
    assert a.sync().pushed
    d = Site(tmp_path, "d", shipped=True)  # an existing single site: the shipped entries and one of its own
    own = d.save(Draft(title="Mô hình riêng của trạm D xqzrieng", summary="Thử.", unit="Đồn D", fields=["Dân vận"],
                       body="## Cách làm\n\nLàm.\n", status="published"))  # fmt: skip
    report = d.sync()
    assert report.ok and report.pushed and report.conflicts == []
    assert d.search("xqzgieng") == [slug] and d.search("xqzrieng") == [own]
    assert a.sync().ok and a.search("xqzrieng") == [own]


def test_the_same_photo_name_added_on_two_sites_serves_the_remotes_bytes_without_breaking_the_sync(sites):
    a, b, _c = sites
    for site, colour in ((a, b"\xff\xd8\xff\xe0A"), (b, b"\xff\xd8\xff\xe0B\x00\x81")):  # bytes, not text
        folder = site.content / "media" / "tu-thuoc-bien-cuong"
        folder.mkdir(parents=True)
        (folder / "anh.jpg").write_bytes(colour + bytes(range(256)))
        gitsync.commit_all(site.content, "Ảnh", author="bientap")
    assert a.sync().pushed
    report = b.sync()
    assert report.ok and report.conflicts == [] and report.pushed
    assert report.notes == ["media/tu-thuoc-bien-cuong/anh.jpg: sửa ở cả hai nơi: dùng bản của kho chung "
                            "(bản ở đây còn trong lịch sử git)"]  # fmt: skip
    assert (b.content / "media" / "tu-thuoc-bien-cuong" / "anh.jpg").read_bytes().startswith(b"\xff\xd8\xff\xe0A")


def _one_line_edited_on_both(a: Site, b: Site) -> str:
    """Give one entry a different summary on A and B, and sync A: B's next merge meets a conflict."""
    slug = "tu-thuoc-bien-cuong"
    mine, theirs = a.draft(slug), b.draft(slug)
    mine.summary, theirs.summary = "Tóm tắt A.", "Tóm tắt B."
    a.save(mine, slug)
    b.save(theirs, slug)
    assert a.sync().pushed
    return slug


def test_a_conflict_that_cannot_be_recorded_undoes_the_merge_and_serves_no_conflict_marker(sites):
    a, b, _c = sites
    slug = _one_line_edited_on_both(a, b)

    def refuse(*_args):
        raise RuntimeError("cơ sở dữ liệu đang bận")

    report = gitsync.sync(b.content, b.data, on_conflict=refuse)
    assert not report.ok and "lần đồng bộ sau sẽ làm lại" in report.message
    served = (b.content / "models" / f"{slug}.md").read_text(encoding="utf-8")
    assert "<<<<<<<" not in served and "Tóm tắt B." in served  # as it was before the sync
    assert b.sync().ok and "Tóm tắt A." in (b.content / "models" / f"{slug}.md").read_text(encoding="utf-8")


def _record(site: Site, slug: str, unit: str, status: str = "đang triển khai", author: str = "thanhvien") -> str:
    """Record a replication on a site as the entry page does (file, rows, audit), and index the entry."""
    from kb.catalog import reindex_files
    from kb.replications import Change, Replication, add_replication

    path = f"models/{slug}.md"
    key = add_replication(site.content, site.data, open_db(site.data), slug, Replication(unit=unit, status=status),
                          Change(author, path=path))  # fmt: skip
    reindex_files(site.content, site.data, [path])
    return key


def _level(site: Site, slug: str) -> tuple[str, int]:
    title = open_db(site.data)["entries"].get(slug)["title"]
    hit = next(h for h in SearchIndex(site.data / "index").search(title, per_page=100).hits if h.slug == slug)
    return hit.level, hit.adopted


def test_a_replication_recorded_on_one_site_changes_the_evidence_level_on_another(sites):
    a, _b, c = sites
    slug = "tu-thuoc-bien-cuong"
    assert _level(a, slug) == ("Mới đề xuất", 0)
    for unit, status in [("Đồn Biên phòng Thử Một", "đã hoàn thành"), ("Đồn Biên phòng Thử Hai", "dự kiến"),
                         ("Đồn Biên phòng Thử Ba", "đang triển khai")]:  # fmt: skip
        _record(c, slug, unit, status)
    assert _level(c, slug) == ("Điển hình", 3)
    log = subprocess.run(["git", "log", "-1", "--format=%an|%s"], cwd=c.content, capture_output=True, text=True)
    assert log.stdout.strip() == "thanhvien|Ghi nhận nhân rộng: Đồn Biên phòng Thử Ba"  # a commit by its author
    assert c.sync().pushed
    report = a.sync()
    assert report.ok and f"replications/{slug}.yml" in report.changed
    assert _level(a, slug) == ("Điển hình", 3)  # the same records, the same level, on the other site
    units = [r["unit"] for r in open_db(a.data).query("SELECT unit FROM replications WHERE slug = ?", [slug])]
    assert sorted(units) == ["Đồn Biên phòng Thử Ba", "Đồn Biên phòng Thử Hai", "Đồn Biên phòng Thử Một"]


def test_records_of_one_model_made_on_two_sites_are_all_kept(sites):
    from kb.replications import Change, Replication, delete_replication, update_replication

    a, b, _c = sites
    slug = "thap-sang-vung-bien"
    _record(a, slug, "Đồn A1")
    _record(b, slug, "Đồn B1")  # both sites create the model's ledger file: git cannot merge the two
    assert a.sync().pushed
    report = b.sync()
    assert report.ok and report.pushed and not report.conflicts
    assert _level(b, slug) == ("Đã nhân rộng", 2)
    assert a.sync().ok and _level(a, slug) == ("Đã nhân rộng", 2)
    # One record corrected on A and removed on B: the correction stays. Another corrected on both:
    # the remote's correction is served and the sync says so.
    keys = {r["unit"]: r["key"] for r in open_db(a.data).query("SELECT unit, key FROM replications")}
    change = Change("bientap")
    update_replication(a.content, a.data, open_db(a.data), slug, keys["Đồn A1"], Replication("Đồn A1 (sửa ở A)"),
                       change)  # fmt: skip
    delete_replication(b.content, b.data, open_db(b.data), slug, keys["Đồn A1"], change)
    update_replication(a.content, a.data, open_db(a.data), slug, keys["Đồn B1"], Replication("Đồn B1 theo A"), change)
    update_replication(b.content, b.data, open_db(b.data), slug, keys["Đồn B1"], Replication("Đồn B1 theo B"), change)
    assert a.sync().pushed
    report = b.sync()
    assert report.ok and len(report.notes) == 1 and "1 tệp khác cần xem" in report.summary()
    assert report.notes[0].startswith(f"replications/{slug}.yml: bản ghi {keys['Đồn B1']} sửa ở cả hai nơi")
    units = sorted(r["unit"] for r in open_db(b.data).query("SELECT unit FROM replications"))
    assert units == ["Đồn A1 (sửa ở A)", "Đồn B1 theo A"]
    assert "<<<<<<<" not in (b.content / "replications" / f"{slug}.yml").read_text(encoding="utf-8")


def test_an_installation_with_a_ledger_kept_only_in_its_database_brings_it_along(sites, tmp_path):
    _a, b, _c = sites
    old = Site(tmp_path, "cu", shipped=True)
    with open_db(old.data).conn as conn:  # recorded before the ledger was kept in files: no id, no file
        conn.execute("INSERT INTO replications (slug, unit, status, created_by) VALUES "
                     "('to-tau-thuyen-doan-ket', 'Đồn Biên phòng Cũ', 'đã hoàn thành', 'thanhvien')")  # fmt: skip
    assert old.sync().pushed
    assert (old.content / "replications" / "to-tau-thuyen-doan-ket.yml").is_file()
    assert b.sync().ok and _level(b, "to-tau-thuyen-doan-ket") == ("Đã nhân rộng", 1)


def test_a_broken_vocabulary_file_from_the_remote_is_held_back_and_reported(sites):
    a, b, _c = sites
    good = (b.content / "places.yml").read_bytes()
    (a.content / "places.yml").write_text("merged: [không: đúng\n", encoding="utf-8")
    gitsync.commit_all(a.content, "Sửa tên tỉnh", author="nguoi-sua-tay")
    assert a.sync().pushed
    report = b.sync()
    assert report.ok and (b.content / "places.yml").read_bytes() == good  # the last good version serves
    [rejected] = report.rejected
    assert rejected["path"] == "places.yml" and rejected["author"] == "nguoi-sua-tay" and rejected["commit"]
    assert "YAML" in rejected["message"] and "có lỗi" in report.summary()
    assert b.search("tủ thuốc biên cương")[0] == "tu-thuoc-bien-cuong"
    assert a.sync().ok and (a.content / "places.yml").read_bytes() == good  # and goes back to the others


def _git(site: Site, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=site.content, capture_output=True, text=True, check=False)


def test_a_merge_left_half_done_by_a_crash_is_undone_and_never_committed(sites):
    a, b, _c = sites
    slug = _one_line_edited_on_both(a, b)
    _git(b, "fetch", "--quiet", "origin")
    assert _git(b, "merge", "origin/main").returncode != 0  # what a sync killed mid-merge leaves
    assert "<<<<<<<" in (b.content / "models" / f"{slug}.md").read_text(encoding="utf-8")
    b.save(NEW)  # a save meanwhile is not committed with the markers
    assert "<<<<<<<" not in _git(b, "show", "HEAD", "--", f"models/{slug}.md").stdout
    # kb check and a reindex refuse the file with the markers: the last good version serves.
    assert any("dấu xung đột" in p.message for p in reindex(b.content, b.data).problems)
    report = b.sync()
    assert report.ok and report.conflicts == [f"models/{slug}.md"]
    for site in (b, a):
        site.sync()
        text = (site.content / "models" / f"{slug}.md").read_text(encoding="utf-8")
        assert "<<<<<<<" not in text and "Tóm tắt A." in text
    assert "<<<<<<<" not in _git(a, "log", "-p", "--all").stdout  # never in any commit


def test_a_link_from_another_site_is_a_plain_file_there_and_never_served(sites):
    from kb import create_app

    a, b, _c = sites
    folder = a.content / "media" / "tu-thuoc-bien-cuong"
    folder.mkdir(parents=True)
    (folder / "anh.jpg").symlink_to(b.data / "kb.sqlite3")  # would point a photo at the other site's database
    gitsync.commit_all(a.content, "Ảnh", author="ke-xau")
    assert a.sync().pushed
    assert b.sync().ok
    served = b.content / "media" / "tu-thuoc-bien-cuong" / "anh.jpg"
    assert not served.is_symlink() and served.read_text() == str(b.data / "kb.sqlite3")
    # A link made by hand on this site is refused too, and `kb check` says so.
    served.unlink()
    served.symlink_to(b.data / "kb.sqlite3")
    text = (b.content / "models" / "tu-thuoc-bien-cuong.md").read_text(encoding="utf-8")
    (b.content / "models" / "tu-thuoc-bien-cuong.md").write_text(
        text.replace("\n---\n", "\nattachments:\n  - file: anh.jpg\n---\n", 1), encoding="utf-8"
    )
    reindex(b.content, b.data)
    app = create_app({"TESTING": True, "KB_CONTENT_DIR": b.content, "KB_DATA_DIR": b.data})
    assert app.test_client().get("/media/tu-thuoc-bien-cuong/anh.jpg").status_code == 404
    result = app.test_cli_runner().invoke(args=["kb", "check"])
    assert "media/tu-thuoc-bien-cuong/anh.jpg" in result.output and "liên kết (symlink)" in result.output


def test_a_broken_ledger_from_the_remote_never_replaces_a_good_one_here(sites):
    a, b, _c = sites
    slug = "thap-sang-vung-bien"
    _record(a, slug, "Đồn A1")
    assert a.sync().pushed and b.sync().ok
    _record(b, slug, "Đồn B quan trọng", "đã hoàn thành")
    path = a.content / "replications" / f"{slug}.yml"
    path.write_text(path.read_text(encoding="utf-8") + "- id: abcdefabcdef\n  unit: Đồn X\n  status: xong\n",
                    encoding="utf-8")  # fmt: skip
    gitsync.commit_all(a.content, "Sửa tay", author="nguoi-sua-tay")
    assert a.sync().pushed
    report = b.sync()
    assert report.ok and [r["path"] for r in report.rejected] == [f"replications/{slug}.yml"]
    assert report.rejected[0]["author"] == "nguoi-sua-tay" and "'status'" in report.rejected[0]["message"]
    kept = (b.content / "replications" / f"{slug}.yml").read_text(encoding="utf-8")
    assert "Đồn B quan trọng" in kept and "Đồn A1" in kept and "Đồn X" not in kept
    assert _level(b, slug) == ("Đã nhân rộng", 2)


def test_a_push_the_remote_refuses_is_a_failed_sync_with_gits_reason(sites, tmp_path):
    a, _b, _c = sites
    hook = tmp_path / "kho-chung.git" / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'kho chỉ đọc' >&2\nexit 1\n")
    hook.chmod(0o755)
    success = gitsync.last_report(a.data).last_success
    a.save(NEW)
    report = a.sync()
    assert not report.ok and not report.pushed and "không gửi được lên kho chung" in report.message
    assert "kho chỉ đọc" in report.message and report.last_success == success  # not counted as a success
    hook.unlink()
    assert a.sync().ok


def test_a_hand_edit_is_indexed_by_its_own_sites_sync(sites):
    a, b, _c = sites
    slug = "thap-sang-vung-bien"
    _record(a, slug, "Đồn A1")
    assert a.sync().pushed and b.sync().ok
    path = b.content / "replications" / f"{slug}.yml"
    more = "".join(f"- id: a{n:011x}\n  unit: Đồn thêm {n}\n  status: đã hoàn thành\n" for n in (1, 2))
    path.write_text(path.read_text(encoding="utf-8") + more, encoding="utf-8")
    report = b.sync()
    assert report.ok and f"replications/{slug}.yml" in report.changed
    assert _level(b, slug) == ("Điển hình", 3)  # here, at once
    assert a.sync().ok and _level(a, slug) == ("Điển hình", 3)  # and there
    log = _git(b, "log", "-1", "--format=%an|%s", "--", f"replications/{slug}.yml").stdout.strip()
    assert log.startswith("Kho mô hình hay (") and "Sửa trực tiếp trên đĩa ở" in log  # says which site


def test_sites_with_nothing_new_settle_on_one_commit(sites, tmp_path):
    a, b, c = sites
    a.save(NEW)
    for site in (a, b, c, a, b, c):
        assert site.sync().ok
    count = _git(a, "rev-list", "--count", "origin/main").stdout
    for site in (a, b, c, a, b, c):
        assert site.sync().ok
    assert _git(a, "rev-list", "--count", "origin/main").stdout == count  # no empty merge commits
    heads = {_git(site, "rev-parse", "HEAD").stdout for site in (a, b, c)}
    assert len(heads) == 1


def test_a_save_commits_its_own_files_only(sites):
    a, _b, _c = sites
    (a.content / "synonyms.yml").write_text(
        (a.content / "synonyms.yml").read_text(encoding="utf-8") + "- [TKCN, tìm kiếm cứu nạn]\n", encoding="utf-8"
    )
    slug = a.save(NEW)
    files = _git(a, "show", "--name-only", "--format=%an", "HEAD").stdout.split()
    assert files == ["bientap", f"models/{slug}.md"]  # the hand edit waits for the next sync
    a.sync()
    assert _git(a, "log", "-1", "--format=%an", "--", "synonyms.yml").stdout.startswith("Kho mô hình hay (")


def test_a_field_taken_out_while_entries_use_it_is_held_back(sites):
    a, b, _c = sites
    fields = (a.content / "fields.yml").read_text(encoding="utf-8")
    assert "- Y tế\n" in fields
    (a.content / "fields.yml").write_text(fields.replace("- Y tế\n", ""), encoding="utf-8")
    report = a.sync()  # the site that changed it holds it back: its own entries use the field
    assert report.ok and [r["path"] for r in report.rejected] == ["fields.yml"]
    assert "thiếu lĩnh vực 'Y tế' mà 1 mục đang dùng (như tu-thuoc-bien-cuong)" in report.rejected[0]["message"]
    assert (a.content / "fields.yml").read_text(encoding="utf-8") == fields
    assert b.sync().ok and (b.content / "fields.yml").read_text(encoding="utf-8") == fields
    assert b.search("tủ thuốc biên cương")[0] == "tu-thuoc-bien-cuong"


def test_a_field_taken_out_with_the_entries_that_used_it_travels(sites):
    a, b, _c = sites
    fields = (a.content / "fields.yml").read_text(encoding="utf-8")
    (a.content / "fields.yml").write_text(fields.replace("- Y tế\n", ""), encoding="utf-8")
    entry = a.content / "models" / "tu-thuoc-bien-cuong.md"
    text = entry.read_text(encoding="utf-8")
    assert "fields:\n  - Y tế\n  - Dân vận\n" in text
    entry.write_text(text.replace("fields:\n  - Y tế\n", "fields:\n"), encoding="utf-8")  # the entry moves on too
    report = a.sync()
    assert report.ok and report.rejected == [] and "Y tế" not in (a.content / "fields.yml").read_text()
    assert b.sync().ok and "Y tế" not in (b.content / "fields.yml").read_text(encoding="utf-8")


def test_a_half_done_merge_with_a_file_saved_since_is_undone_keeping_the_save(sites):
    a, b, _c = sites
    slug = _one_line_edited_on_both(a, b)  # and A also changed another entry, which merges cleanly
    other = "to-do-doan-ket"
    changed = a.draft(other)
    changed.contact = "Liên hệ do trạm A ghi"
    a.save(changed, other)
    assert a.sync().pushed
    _git(b, "fetch", "--quiet", "origin")
    assert _git(b, "merge", "origin/main").returncode != 0
    _git(b, "checkout", "--theirs", "--", f"models/{slug}.md")
    _git(b, "add", "--", f"models/{slug}.md")  # settled, not committed: a crash right here
    mine = b.draft(other)  # the merge wrote A's contact into it; an editor saves it again meanwhile
    assert mine.contact == "Liên hệ do trạm A ghi"
    mine.body = mine.body.rstrip("\n") + "\n\nThêm của trạm B xqzgiuaquang.\n"
    b.save(mine, other)
    report = b.sync()
    assert report.ok and report.pushed and not (b.content / ".git" / "MERGE_HEAD").exists()
    for site in (b, a):
        site.sync()
        kept = site.draft(other)
        assert kept.contact == "Liên hệ do trạm A ghi" and "xqzgiuaquang" in kept.body
        assert "Tóm tắt A." in (site.content / "models" / f"{slug}.md").read_text(encoding="utf-8")
    assert b.save(NEW) and _git(b, "log", "-1", "--format=%an").stdout.strip() == "bientap"  # saves commit again


def test_a_ledger_broken_by_a_clean_merge_is_put_back_and_blamed_on_its_author(sites):
    a, b, _c = sites
    slug = "thap-sang-vung-bien"
    for unit in ("Đồn 1", "Đồn 2", "Đồn 3"):
        _record(a, slug, unit)
    assert a.sync().pushed and b.sync().ok
    path = b.content / "replications" / f"{slug}.yml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = "  province: [oops\n"  # a line far from the end, where A adds its record
    path.write_text("".join(lines), encoding="utf-8")
    gitsync.commit_all(b.content, "Sửa tay", author="nguoi-sua-tay")
    assert b.sync().pushed
    _record(a, slug, "Đồn 4")
    report = a.sync()
    assert report.ok and [(r["path"], r["author"]) for r in report.rejected] == [
        (f"replications/{slug}.yml", "nguoi-sua-tay")
    ]
    kept = (a.content / "replications" / f"{slug}.yml").read_text(encoding="utf-8")
    assert "[oops" not in kept and "Đồn 4" in kept and _level(a, slug) == ("Đã nhân rộng", 4)
    assert b.sync().ok and "[oops" not in path.read_text(encoding="utf-8")  # the good version goes back
