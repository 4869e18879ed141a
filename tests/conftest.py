"""Fixtures: content and data directories built in tmp_path, and an app over them."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from helpers import write_samples

from kb import create_app
from kb.catalog import reindex

ROOT = Path(__file__).resolve().parent.parent


def _reuse_werkzeug_url_builders() -> None:
    """Compile each URL rule's builder once per test process instead of once per app.

    Every test builds its own app, and Werkzeug compiles two small Python functions per URL rule
    (about 65 ms for this site's 34 rules, half the cost of a test's app). A builder depends only
    on the rule's parsed parts and defaults, and reads the rule's converters through its first
    argument when called, so one compiled builder serves the same rule in every app. Only speed
    changes; when Werkzeug's private method is not there or differs, nothing is patched.
    """
    from werkzeug.routing.rules import Rule

    compile_builder = getattr(Rule, "_compile_builder", None)
    if compile_builder is None or getattr(compile_builder, "reused", False):
        return
    compiled: dict = {}

    def reused_builder(self, append_unknown: bool = True):
        defaults = tuple(sorted((str(k), repr(v)) for k, v in (self.defaults or {}).items()))
        key = (self.rule, tuple(self._trace), defaults, append_unknown)
        if key not in compiled:
            compiled[key] = compile_builder(self, append_unknown)
        return compiled[key]

    reused_builder.reused = True
    Rule._compile_builder = reused_builder


_reuse_werkzeug_url_builders()


@pytest.fixture(autouse=True)
def cheap_password_hashing(request, monkeypatch):
    """Hash the tests' passwords with a cheap method (scrypt costs about 0.2 s per hash and per
    sign-in); tests marked real_password_hashing keep the product's scrypt."""
    if "real_password_hashing" not in request.keywords:
        from kb import accounts

        monkeypatch.setattr(accounts, "PASSWORD_METHOD", "pbkdf2:sha256:1000")


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    """Return a content directory holding the sample entries."""
    path = tmp_path / "content"
    write_samples(path)
    return path


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """Return an empty data directory."""
    return tmp_path / "instance"


@pytest.fixture
def usual_umask():
    """Run with the umask of most systems (022), under which a file is made readable by everyone."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.fixture(scope="session")
def indexed_samples(tmp_path_factory) -> Path:
    """Return a data directory with the sample content indexed, built once per test session."""
    base = tmp_path_factory.mktemp("samples")
    write_samples(base / "content")
    reindex(base / "content", base / "instance")
    return base / "instance"


@pytest.fixture
def app(content_dir: Path, data_dir: Path, indexed_samples: Path):
    """Return the app over the sample content, indexed (a copy of the session's index and
    database: the same files as a reindex of content_dir would write)."""
    shutil.copytree(indexed_samples, data_dir)
    return create_app({"TESTING": True, "KB_CONTENT_DIR": content_dir, "KB_DATA_DIR": data_dir})


@pytest.fixture
def client(app):
    """Return a test client."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """Return a CLI runner."""
    return app.test_cli_runner()


@pytest.fixture
def shipped_content(tmp_path: Path) -> Path:
    """Return a copy of the project's own content directory."""
    return Path(shutil.copytree(ROOT / "content", tmp_path / "shipped"))


@pytest.fixture
def write_locked(data_dir):
    """Hold the database's write lock from another connection, as another process would."""
    other = sqlite3.connect(data_dir / "kb.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    yield other
    if other.in_transaction:
        other.execute("ROLLBACK")
    other.close()
