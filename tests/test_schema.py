"""The SQLite schema: new databases, and databases made by every earlier version, opened by this one."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from kb import store
from kb.accounts import create_user
from kb.schema import MIGRATIONS
from kb.store import DB_NAME, get_entry, open_db

OLD = Path(__file__).resolve().parent / "old_databases"
OLD_SCHEMAS = sorted(OLD.glob("*.sql"))
LAST_BEFORE_MIGRATIONS = OLD / "2026-12-02-ab71361.sql"
NEWEST = OLD / "2026-12-02-c9efc82.sql"  # the newest version's database, before the migrations since
ALL_MIGRATIONS = [
    "m001_tables",
    "m002_proposal_reasons",
    "m003_entry_dates_from_history",
    "m004_attachments",
    "m005_ledger_files",
]


def _shape(path: Path, ordered: bool = True) -> dict[str, tuple]:
    """Return each table's columns (name, type, not null, default, key) and indexes, by table name."""
    conn = sqlite3.connect(path)
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    shape = {}
    for table in tables:
        if table.startswith("_sqlite"):
            continue
        columns = [tuple(r[1:]) for r in conn.execute(f'PRAGMA table_info("{table}")')]
        indexes = {
            (tuple(c[2] for c in conn.execute(f'PRAGMA index_info("{name}")')), unique)
            for _, name, unique, *_ in conn.execute(f'PRAGMA index_list("{table}")')
        }
        shape[table] = (columns if ordered else sorted(columns), indexes)
    conn.close()
    return shape


def _old_database(data_dir: Path, schema: Path) -> Path:
    """Make data_dir/kb.sqlite3 with an older version's tables and a few rows, as that version left it."""
    data_dir.mkdir()
    path = data_dir / DB_NAME
    conn = sqlite3.connect(path)
    conn.executescript(schema.read_text(encoding="utf-8"))
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.executemany(
        "INSERT INTO entries (slug, title, status, path, fields, tags, updated_at) VALUES (?, ?, ?, ?, '[]', '[]', ?)",
        [("tu-thuoc", "Tủ thuốc", "published", "models/tu-thuoc.md", "2026-11-01T00:00:00+00:00"),
         ("nhap", "Nháp", "draft", "models/nhap.md", "2026-11-02T00:00:00+00:00")],
    )  # fmt: skip
    if "published_at" in {r[1] for r in conn.execute("PRAGMA table_info(entries)")}:  # the versions that wrote it
        conn.execute("UPDATE entries SET published_at = updated_at WHERE status = 'published'")
    if "users" in tables:
        conn.execute(
            "INSERT INTO users (name, name_key, role, password_hash, disabled) VALUES ('cu', 'cu', 'admin', 'x', 0)"
        )
    if "audit" in tables:
        conn.execute("INSERT INTO audit (at, actor, action) VALUES ('2026-11-01T00:00:00+00:00', 'cu', 'login')")
    if "proposals" in tables:
        conn.execute(
            "INSERT INTO proposals (slug, created_at, author, text, state, decided_by) "
            "VALUES ('tu-thuoc', '2026-11-03T00:00:00+00:00', 'cu', 'x', 'rejected', 'cu')"
        )
    conn.commit()
    conn.close()
    store._READY.clear()  # a process of the new version that has not opened it yet
    return path


def test_a_new_database_has_exactly_the_tables_the_last_version_before_migrations_made(tmp_path):
    _old_database(tmp_path / "old", LAST_BEFORE_MIGRATIONS)
    _old_database(tmp_path / "newest", NEWEST)
    assert _shape(tmp_path / "newest" / DB_NAME) == _shape(tmp_path / "old" / DB_NAME)


def test_a_new_database_has_the_newest_versions_tables_and_what_later_migrations_add(tmp_path):
    open_db(tmp_path / "new")
    _old_database(tmp_path / "newest", NEWEST)
    expected = _shape(tmp_path / "newest" / DB_NAME)
    columns, indexes = expected["proposals"]
    expected["proposals"] = ([*columns, ("reason", "TEXT", 0, None, 0), ("reopened_from", "INTEGER", 0, None, 0)],
                             indexes)  # fmt: skip
    columns, indexes = expected["entries"]
    expected["entries"] = ([*columns, ("attachments", "TEXT", 0, None, 0)], indexes)
    columns, indexes = expected["replications"]  # the ledger as a copy of its files: each record's id
    expected["replications"] = ([*columns, ("key", "TEXT", 0, None, 0)], {*indexes, (("slug", "key"), 0)})
    expected["ledger_files"] = ([("path", "TEXT", 0, None, 1), ("content_hash", "TEXT", 0, None, 0)], {(("path",), 1)})
    assert _shape(tmp_path / "new" / DB_NAME) == expected


@pytest.mark.parametrize("schema", OLD_SCHEMAS, ids=[p.stem for p in OLD_SCHEMAS])
def test_a_database_made_by_an_earlier_version_is_brought_up_to_date(tmp_path, schema):
    open_db(tmp_path / "new")
    path = _old_database(tmp_path / "data", schema)
    db = open_db(tmp_path / "data")
    assert _shape(path, ordered=False) == _shape(tmp_path / "new" / DB_NAME, ordered=False)
    assert [m.name for m in MIGRATIONS.applied(db)] == ALL_MIGRATIONS
    # The rows it held are kept; a published entry is not new to the feed, a draft has no date.
    assert get_entry(db, "tu-thuoc")["published_at"] == "2026-11-01T00:00:00+00:00"
    assert get_entry(db, "nhap", ("draft",))["published_at"] is None
    assert [(r["session_version"]) for r in db["users"].rows] in ([], [0])
    assert [(r["repeats"], r["last_at"]) for r in db["audit"].rows] in ([], [(1, None)])
    # A proposal rejected before reasons were kept has none, and reopens nothing.
    assert [(r["state"], r["reason"], r["reopened_from"]) for r in db["proposals"].rows] in (
        [],
        [("rejected", None, None)],
    )
    create_user(db, "moi", "mat-khau-du-dai-1", "editor")  # and it takes new rows
    assert db["users"].count >= 1


def test_migrations_are_applied_once(tmp_path):
    open_db(tmp_path)
    store._READY.clear()
    db = open_db(tmp_path)
    assert [m.name for m in MIGRATIONS.applied(db)] == ALL_MIGRATIONS
    assert MIGRATIONS.pending(db) == []


def _open_at(barrier, data_dir: Path, failures) -> None:
    """Wait for the others, then open the database as a server worker's first request does."""
    barrier.wait()
    try:
        open_db(data_dir).conn.close()
    except sqlite3.Error as exc:
        failures.put(repr(exc))


def test_worker_processes_starting_together_migrate_an_old_database_once(tmp_path):
    _old_database(tmp_path / "data", OLD_SCHEMAS[0])
    fork = multiprocessing.get_context("fork")
    barrier, failures = fork.Barrier(4), fork.Queue()
    workers = [fork.Process(target=_open_at, args=(barrier, tmp_path / "data", failures)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0] * 4
    assert failures.empty(), failures.get()
    assert [m.name for m in MIGRATIONS.applied(open_db(tmp_path / "data"))] == ALL_MIGRATIONS
