"""Faults: a reindex killed at any point, a save killed mid-write, saves at the same moment."""

from __future__ import annotations

import hashlib
import os
import random
import re
import signal
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import pytest
from helpers import PASSWORD, indexed, login, token

from indexer import SearchIndex
from kb import create_app
from kb.accounts import create_user
from kb.backup import make_backup
from kb.catalog import RECOVERED, index_dir, recover, reindex
from kb.editing import atomic_write
from kb.store import open_db

pytestmark = pytest.mark.slow  # kills processes mid-write

ROOT = Path(__file__).resolve().parent.parent
ENTRY = "---\ntitle: Mô hình số {i}\nsummary: Tóm tắt số {i}.\nunit: Đồn {i}\nfields: [Y tế]\n---\n\n{body}\n"


def _many(content_dir: Path, n: int, word: str) -> None:
    for i in range(n):
        body = f"Đồn biên phòng cùng bà con {word} làm mô hình số {i}. " * 20
        (content_dir / "models" / f"mo-hinh-so-{i}.md").write_text(ENTRY.format(i=i, body=body), encoding="utf-8")


@pytest.mark.parametrize("delay", [0.2, 0.8, 1.6, 3.0])
def test_a_reindex_killed_at_any_point_leaves_the_old_index_serving_and_the_next_one_succeeds(
    content_dir, data_dir, delay
):
    _many(content_dir, 120, "xqzcu")
    reindex(content_dir, data_dir)
    _many(content_dir, 120, "xqzmoi")  # every file changed: the next run has real work
    code = (
        "from pathlib import Path; from kb.catalog import reindex; "
        f"reindex(Path({str(content_dir)!r}), Path({str(data_dir)!r}), full=True)"
    )
    job = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, start_new_session=True)
    time.sleep(delay)
    os.killpg(job.pid, signal.SIGKILL)  # the reindex and every worker process it started
    job.wait()
    index = SearchIndex(index_dir(data_dir))
    assert index.search("xqzcu").total in (0, 120)  # the old index, or the new one if it had finished
    assert index.search("xqzcu").total + index.search("xqzmoi").total == 120
    report = reindex(content_dir, data_dir, full=True)
    assert report.problems == []
    assert SearchIndex(index_dir(data_dir)).search("xqzmoi").total == 120
    assert len(list(index_dir(data_dir).glob("gen-*"))) <= 2  # half-built builds are cleared


def test_a_save_killed_mid_write_leaves_the_old_or_the_new_file_never_a_torn_one(tmp_path):
    path = tmp_path / "models" / "muc.md"
    path.parent.mkdir()
    old, new = "cũ\n" * 200_000, "mới\n" * 400_000
    path.write_text(old, encoding="utf-8")
    (tmp_path / "old.txt").write_text(old, encoding="utf-8")
    (tmp_path / "new.txt").write_text(new, encoding="utf-8")
    code = (
        "from pathlib import Path; from kb.editing import atomic_write\n"
        f"p, here = Path({str(path)!r}), Path({str(tmp_path)!r})\n"
        "old, new = (here / 'old.txt').read_bytes(), (here / 'new.txt').read_bytes()\n"
        "while True:\n    atomic_write(p, new)\n    atomic_write(p, old)\n"
    )
    for delay in (0.05, 0.13, 0.31, 0.57, 0.9):
        writer = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
        time.sleep(delay)
        writer.kill()
        writer.wait()
        assert path.read_text(encoding="utf-8") in (old, new)
    leftovers = [p.name for p in path.parent.iterdir() if p.name != "muc.md"]
    assert all(name.startswith(".muc.md.") for name in leftovers)  # a killed write leaves only its temporary file


@pytest.fixture
def site(content_dir, data_dir):
    indexed(content_dir, data_dir)
    app = create_app({"TESTING": True, "KB_CONTENT_DIR": content_dir, "KB_DATA_DIR": data_dir})
    db = open_db(data_dir)
    for i in range(4):
        create_user(db, f"bientap{i}", PASSWORD, "admin")
    return app


def _editor(app, i: int):
    client = app.test_client()
    login(client, f"bientap{i}")
    return client


def _form(client, slug: str, body: str) -> dict:
    import re

    page = client.get(f"/models/{slug}/edit").get_data(as_text=True)
    base = re.search(r'name="base_hash" type="hidden" value="([^"]*)"', page).group(1)
    return {"title": f"Mô hình {slug}", "summary": "Tóm tắt.", "unit": "Đồn A", "fields": ["Y tế"], "body": body,
            "base_hash": base, "csrf_token": token(page), "action": "save"}  # fmt: skip


def test_concurrent_saves_of_different_entries_all_land(site, content_dir, data_dir):
    slugs = ["tu-thuoc-bien-cuong", "thap-sang-vung-bien", "to-tau-thuyen-doan-ket", "ban-nhap-thu-nghiem"]
    clients = [_editor(site, i) for i in range(4)]
    forms = [_form(c, s, f"Cùng lúc xqzcung{i}.") for i, (c, s) in enumerate(zip(clients, slugs, strict=True))]
    barrier, results = threading.Barrier(4), {}

    def save(i: int) -> None:
        barrier.wait()
        results[i] = clients[i].post(f"/models/{slugs[i]}/edit", data=forms[i]).status_code

    threads = [threading.Thread(target=save, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == [302] * 4
    for i, slug in enumerate(slugs):
        assert f"xqzcung{i}" in (content_dir / "models" / f"{slug}.md").read_text(encoding="utf-8")
    reader = site.test_client()
    found = {r["slug"] for i in range(3) for r in reader.get(f"/api/search?q=xqzcung{i}").get_json()["results"]}
    assert found == set(slugs[:3])  # the fourth is a draft: saved, but not public
    assert open_db(data_dir)["revisions"].count_where("comment = '' AND author LIKE 'bientap%'") == 4


def test_concurrent_saves_of_one_entry_give_one_save_and_one_conflict(site, content_dir):
    first, second = _editor(site, 0), _editor(site, 1)
    forms = [_form(first, "thap-sang-vung-bien", "Bản một."), _form(second, "thap-sang-vung-bien", "Bản hai.")]
    barrier, results = threading.Barrier(2), {}

    def save(i: int, client) -> None:
        barrier.wait()
        results[i] = client.post("/models/thap-sang-vung-bien/edit", data=forms[i]).status_code

    threads = [threading.Thread(target=save, args=(i, c)) for i, c in enumerate((first, second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == [302, 409]
    winner = "Bản một." if results[0] == 302 else "Bản hai."
    assert winner in (content_dir / "models" / "thap-sang-vung-bien.md").read_text(encoding="utf-8")


SAVER = """
import hashlib, sys
from pathlib import Path
from kb.drafts import read_draft
from kb.editing import save_text

content, data = Path(sys.argv[1]), Path(sys.argv[2])
path = content / "models" / "thap-sang-vung-bien.md"
n = 0
while True:
    raw = path.read_bytes()
    draft, _meta = read_draft(raw)
    word = "xqz" + "".join("abcdefghij"[int(d)] for d in str(n))
    text = raw.decode().split("\\n---\\n", 1)[0] + f"\\n---\\n\\nLần lưu {word}.\\n"
    from kb.store import open_db
    result = save_text(content, data, open_db(data), "thap-sang-vung-bien", text,
                       base_hash=hashlib.sha256(raw).hexdigest(), author="bientap", comment=word)
    assert result.outcome == "saved", result
    if n == 0:
        print("ready", flush=True)
    n += 1
"""


def test_saves_killed_at_random_points_are_repaired_at_the_next_start(content_dir, data_dir):
    reindex(content_dir, data_dir)
    path = content_dir / "models" / "thap-sang-vung-bien.md"
    rng = random.Random(8)
    for _ in range(8):
        saver = subprocess.Popen([sys.executable, "-c", SAVER, str(content_dir), str(data_dir)], cwd=ROOT,
                                 stdout=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip
        assert saver.stdout.readline().strip() == "ready"  # one whole save first: the model is loaded
        time.sleep(rng.uniform(0, 0.6))
        os.killpg(saver.pid, signal.SIGKILL)  # the saver and its Markdown helper
        saver.wait()
        recover(content_dir, data_dir)  # what every server process runs as it starts
        raw = path.read_bytes()
        digest = hashlib.sha256(raw).hexdigest()
        db = open_db(data_dir)
        assert not list(path.parent.glob(".*.tmp"))
        assert next(db["entries"].rows_where("slug = ?", ["thap-sang-vung-bien"]))["content_hash"] == digest
        assert db["revisions"].count_where("slug = ? AND content_hash = ?", ["thap-sang-vung-bien", digest]) >= 1
        assert db["pending"].count == 0
        word = re.search(r"Lần lưu (xqz[a-j]+)\.", raw.decode()).group(1)
        found = SearchIndex(index_dir(data_dir)).search(word)
        assert [h.slug for h in found.hits] == ["thap-sang-vung-bien"], word


def test_a_file_newer_than_its_row_is_repaired_when_its_entry_is_visited(content_dir, data_dir):
    reindex(content_dir, data_dir)
    app = create_app({"TESTING": True, "KB_CONTENT_DIR": content_dir, "KB_DATA_DIR": data_dir})
    path = content_dir / "models" / "thap-sang-vung-bien.md"
    # What a save killed between replacing the file and committing leaves: the new file only.
    atomic_write(path, path.read_bytes().replace(b"An ninh", b"Xqzsauvu an ninh"))
    reader = app.test_client()
    assert "Xqzsauvu" in reader.get("/models/thap-sang-vung-bien").get_data(as_text=True)
    assert [r["slug"] for r in reader.get("/api/search?q=xqzsauvu").get_json()["results"]] == ["thap-sang-vung-bien"]
    recovered = next(open_db(data_dir)["revisions"].rows_where("slug = ?", ["thap-sang-vung-bien"]))
    assert recovered["comment"] == RECOVERED and "Xqzsauvu" in recovered["text"]
    reader.get("/models/thap-sang-vung-bien")
    assert open_db(data_dir)["revisions"].count_where("slug = ?", ["thap-sang-vung-bien"]) == 1  # once


def test_temporary_files_of_killed_saves_are_cleaned_never_indexed_or_backed_up(content_dir, data_dir, tmp_path):
    stale = content_dir / "models" / ".thap-sang-vung-bien.md.k2j4.tmp"
    stale.write_text("---\ntitle: Nửa chừng\n", encoding="utf-8")
    reindex(content_dir, data_dir)
    assert not stale.exists()
    stale.write_text("---\ntitle: Nửa chừng\n", encoding="utf-8")
    archive, _manifest = make_backup(content_dir, data_dir, tmp_path / "saoluu")
    with tarfile.open(archive) as tar:
        assert not [name for name in tar.getnames() if name.endswith(".tmp")]
