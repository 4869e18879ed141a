"""The installed project: the site folder."""

from __future__ import annotations

from pathlib import Path

from kb import create_app

ROOT = Path(__file__).resolve().parent.parent


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
