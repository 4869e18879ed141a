"""Helpers for tests that go through the site's forms the way a browser does."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

PASSWORD = "mat-khau-du-dai-1"


def token(html: str) -> str:
    """Return the CSRF token of the first form in a page."""
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def login(client, name: str, password: str = PASSWORD, next_url: str | None = None):
    """Sign in through the login form."""
    page = client.get("/login").get_data(as_text=True)
    url = "/login" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"name": name, "password": password, "csrf_token": token(page)})


def write_entry(content_dir: Path, slug: str, body: str = "", folder: str = "", **meta) -> Path:
    """Write content_dir/models/[folder/]slug.md with front matter meta and a Markdown body."""
    path = content_dir / "models" / folder / f"{slug}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
    path.write_text(f"---\n{front}---\n\n{body}\n", encoding="utf-8")
    return path


def site_with_accounts(content_dir: Path, data_dir: Path, accounts: dict[str, str]):
    """Index content with the shipped province names and return the app, with accounts (name -> role)."""
    import shutil

    from kb import create_app
    from kb.accounts import create_user
    from kb.catalog import reindex
    from kb.store import open_db

    shutil.copy(Path(__file__).resolve().parent.parent / "content" / "places.yml", content_dir / "places.yml")
    reindex(content_dir, data_dir)
    app = create_app({"TESTING": True, "KB_CONTENT_DIR": content_dir, "KB_DATA_DIR": data_dir})
    db = open_db(data_dir)
    for name, role in accounts.items():
        create_user(db, name, PASSWORD, role)
    return app
