"""The installed project: the hashed lock, the site folder, and the code importable from anywhere."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from kb import create_app

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", re.MULTILINE)


def _pins(*files: str) -> dict[str, str]:
    """Return the name -> version pins of requirement files, names normalised as PEP 503 says."""
    text = "\n".join((ROOT / name).read_text(encoding="utf-8") for name in files)
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in PIN.findall(text)}


def test_the_lock_holds_every_pin_of_the_requirement_files():
    locked = _pins("requirements.lock")
    pinned = _pins("requirements.txt", "requirements-dev.txt")
    assert {name: locked.get(name) for name in pinned} == pinned, "requirements changed: run make lock"


def test_every_locked_package_has_its_hashes():
    blocks = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / "requirements.lock").read_text(encoding="utf-8"))
    packages = [block for block in blocks if PIN.match(block)]
    assert len(packages) > 40
    assert [b.split()[0] for b in packages if "--hash=sha256:" not in b] == []


def test_templates_and_static_files_come_from_the_site_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # not the site folder: KB_SITE_DIR says where it is
    app = create_app(
        {"TESTING": True, "KB_SITE_DIR": ROOT, "KB_CONTENT_DIR": tmp_path / "c", "KB_DATA_DIR": tmp_path / "d"}
    )
    client = app.test_client()
    assert client.get("/").status_code == 200
    assert client.get("/static/css/site.css").status_code == 200


def test_the_folders_default_to_the_working_directory(tmp_path, monkeypatch):
    for name in ("KB_SITE_DIR", "KB_CONTENT_DIR", "KB_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    app = create_app({"TESTING": True})
    assert Path(app.root_path) == tmp_path
    assert (app.config["KB_CONTENT_DIR"], app.config["KB_DATA_DIR"]) == (tmp_path / "content", tmp_path / "instance")


def test_the_helper_processes_start_from_any_working_directory(tmp_path):
    """Background reindex and Markdown helpers run `python -m kb.…`: the installed project, not the checkout."""
    done = subprocess.run([sys.executable, "-c", "import kb.jobs, kb.render"], cwd=tmp_path, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
