"""Faults: a reindex killed at any point, a save killed mid-write, saves at the same moment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers import PASSWORD, login, token

from indexer import SearchIndex
from kb import create_app
from kb.accounts import create_user
from kb.catalog import index_dir, reindex
from kb.store import open_db

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
    assert len(list(index_dir(data_dir).glob("gen-*"))) <= 2  # half-built generations are cleared


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
    reindex(content_dir, data_dir)
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
