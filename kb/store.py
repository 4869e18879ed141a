"""Keep the metadata of indexed entries in SQLite, through sqlite-utils."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

import sqlite_utils

from indexer import normalize_text

from .entries import Entry

__all__ = [
    "DB_NAME",
    "decode_row",
    "delete_entries",
    "get_entry",
    "get_meta",
    "log_search",
    "newest_entries",
    "now_iso",
    "open_db",
    "published_only",
    "set_meta",
    "upsert_entries",
]

DB_NAME = "kb.sqlite3"

_ENTRY_COLUMNS = {
    "slug": str, "title": str, "summary": str, "unit": str, "province": str,
    "fields": str, "tags": str, "year": int, "status": str, "path": str,
    "content_hash": str, "updated_at": str, "indexed_at": str, "published_at": str,
    "source": str, "contact": str, "body_html": str, "body_text": str,
}  # fmt: skip


_READY: set[Path] = set()  # databases whose tables this process already checked
# The server runs requests in threads: the first requests of a fresh process must not check and
# migrate the tables at the same time (two threads adding one column: one of them fails).
_READY_LOCK = threading.Lock()


def open_db(data_dir: Path) -> sqlite_utils.Database:
    """Open (creating if needed) the SQLite database in data_dir, with its tables."""
    path = data_dir / DB_NAME
    if path in _READY and path.exists():
        return sqlite_utils.Database(path)
    with _READY_LOCK:
        if path in _READY and path.exists():  # another thread just did it
            return sqlite_utils.Database(path)
        return _prepare_db(data_dir, path)


def _prepare_db(data_dir: Path, path: Path) -> sqlite_utils.Database:
    """Open the database at path, creating or upgrading its tables."""
    data_dir.mkdir(parents=True, exist_ok=True)
    db = sqlite_utils.Database(path)
    # WAL lets the web workers read while a reindex writes.
    db.enable_wal()
    if "entries" not in db.table_names():
        db["entries"].create(_ENTRY_COLUMNS, pk="slug", not_null={"title", "path", "status"})
        db["entries"].create_index(["path"], unique=True)
        db["entries"].create_index(["status", "year"])
    missing = {k: v for k, v in _ENTRY_COLUMNS.items() if k not in db["entries"].columns_dict}
    for column, kind in missing.items():  # a database made by an older version
        db["entries"].add_column(column, kind)
    if "published_at" in missing:  # the feed must not call every existing entry new
        with db.conn:
            db.execute("UPDATE entries SET published_at = updated_at WHERE status = 'published'")
    if "meta" not in db.table_names():
        db["meta"].create({"key": str, "value": str}, pk="key")
    _create_tables(db)
    _READY.add(path)
    return db


def _create_tables(db: sqlite_utils.Database) -> None:
    """Create the tables of accounts, the audit log, revisions and background jobs."""
    names = set(db.table_names())
    if "users" not in names:
        db["users"].create(
            {"id": int, "name": str, "name_key": str, "role": str, "password_hash": str,
             "disabled": int, "created_at": str, "updated_at": str},
            pk="id", not_null={"name", "name_key", "role", "password_hash"}, defaults={"disabled": 0},
        )  # fmt: skip
        db["users"].create_index(["name_key"], unique=True)
    if "session_version" not in db["users"].columns_dict:
        db["users"].add_column("session_version", int, not_null_default=0)
    if "login_attempts" not in names:
        db["login_attempts"].create({"name_key": str, "address": str, "at": float, "ok": int})
        db["login_attempts"].create_index(["name_key", "at"])
        db["login_attempts"].create_index(["address", "at"])
    if "audit" not in names:
        db["audit"].create(
            {"id": int, "at": str, "actor": str, "action": str, "target": str, "detail": str, "address": str},
            pk="id",
        )
        db["audit"].create_index(["at"])
    if "revisions" not in names:
        db["revisions"].create(
            {"id": int, "slug": str, "created_at": str, "author": str, "comment": str, "status": str,
             "content_hash": str, "text": str},
            pk="id", not_null={"slug", "text", "content_hash"},
        )  # fmt: skip
        db["revisions"].create_index(["slug", "id"])
    if "problems" not in names:  # what `kb check` would say of each file, as last read
        db["problems"].create({"path": str, "line": int, "message": str, "warning": int})
        db["problems"].create_index(["path"])
    if "pending" not in names:  # files saved while the index was busy; a new token per save
        db["pending"].create({"path": str, "token": str}, pk="path")
    elif "token" not in db["pending"].columns_dict:  # made before saves carried a token
        db["pending"].add_column("token", str)
    if "replications" not in names:  # units that adopted a model
        db["replications"].create(
            {"id": int, "slug": str, "unit": str, "province": str, "start_date": str, "status": str,
             "adapted": str, "result": str, "contact": str, "created_by": str, "created_at": str,
             "updated_by": str, "updated_at": str},
            pk="id", not_null={"slug", "unit", "status"},
        )  # fmt: skip
        db["replications"].create_index(["slug"])
    if "search_log" not in names:  # public searches, without who made them
        db["search_log"].create({"id": int, "at": str, "query": str, "filters": str, "results": int}, pk="id")
        db["search_log"].create_index(["query"])
    if "proposals" not in names:  # an editor's change to a published entry, waiting for an admin
        db["proposals"].create(
            {"id": int, "slug": str, "created_at": str, "author": str, "comment": str, "base_hash": str,
             "text": str, "state": str, "decided_by": str, "decided_at": str},
            pk="id", not_null={"slug", "text", "state"},
        )  # fmt: skip
        db["proposals"].create_index(["state", "slug"])
    if "jobs" not in names:
        db["jobs"].create(
            {"id": int, "kind": str, "status": str, "phase": str, "done": int, "total": int, "pid": int,
             "requested_by": str, "started_at": str, "finished_at": str, "seconds": float, "summary": str,
             "problems": str},
            pk="id",
        )  # fmt: skip


def now_iso() -> str:
    """Return the current UTC time in ISO 8601, to the second."""
    return _now()


def get_meta(db: sqlite_utils.Database, key: str) -> str | None:
    """Return a stored setting, or None."""
    row = next(db["meta"].rows_where("key = ?", [key], limit=1), None)
    return row["value"] if row else None


def set_meta(db: sqlite_utils.Database, key: str, value: str) -> None:
    """Store a setting."""
    db["meta"].upsert({"key": key, "value": value}, pk="key")


def _now() -> str:
    """Return the current UTC time in ISO 8601, to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def upsert_entries(db: sqlite_utils.Database, entries: list[tuple[Entry, str, str]]) -> None:
    """Insert or replace rows for (entry, body HTML, body text) triples, keeping updated_at honest."""
    now = _now()
    table = db["entries"]
    with db.conn:
        for entry, body_html, body_text in entries:
            old = next(table.rows_where("slug = ?", [entry.slug], limit=1), None)
            changed = old is None or old["content_hash"] != entry.content_hash
            # A moved file keeps its slug; free its new path from any stale row first.
            table.delete_where("path = ? AND slug != ?", [entry.path, entry.slug])
            row = _row(entry, body_html, now if changed else old["updated_at"], now)
            # When it first went public (for the feed): kept while it stays published.
            was = (old.get("published_at") or old["updated_at"]) if old and old["status"] == "published" else None
            published_at = (was or now) if entry.status == "published" else None
            table.upsert({**row, "body_text": body_text, "published_at": published_at}, pk="slug")


def _row(entry: Entry, body_html: str, updated_at: str, indexed_at: str) -> dict[str, Any]:
    """Return the database row of an entry."""
    source = None
    if entry.source:
        source = json.dumps({k: v for k, v in vars(entry.source).items() if v}, ensure_ascii=False)
    return {
        "slug": entry.slug,
        "title": entry.title,
        "summary": entry.summary,
        "unit": entry.unit,
        "province": entry.province,
        "fields": json.dumps(list(entry.fields), ensure_ascii=False),
        "tags": json.dumps(list(entry.tags), ensure_ascii=False),
        "year": entry.year,
        "status": entry.status,
        "path": entry.path,
        "content_hash": entry.content_hash,
        "updated_at": updated_at,
        "indexed_at": indexed_at,
        "source": source,
        "contact": entry.contact,
        "body_html": body_html,
    }


def delete_entries(db: sqlite_utils.Database, slugs: set[str]) -> None:
    """Delete the rows of the given slugs."""
    with db.conn:
        for slug in slugs:
            db["entries"].delete_where("slug = ?", [slug])


def decode_row(row: dict[str, Any]) -> dict[str, Any]:
    """Turn the JSON columns of a row back into lists and mappings."""
    row = dict(row)
    row["fields"] = json.loads(row["fields"] or "[]")
    row["tags"] = json.loads(row["tags"] or "[]")
    row["source"] = json.loads(row["source"]) if row["source"] else None
    return row


def get_entry(db: sqlite_utils.Database, slug: str, statuses: tuple[str, ...] = ("published",)) -> dict | None:
    """Return the row of one entry with an allowed status, or None."""
    marks = ",".join("?" * len(statuses))
    row = next(db["entries"].rows_where(f"slug = ? AND status IN ({marks})", [slug, *statuses], limit=1), None)
    return decode_row(row) if row else None


def published_only(db: sqlite_utils.Database, slugs: list[str]) -> set[str]:
    """Return which of the slugs the database holds as published right now.

    The index can lag behind a status change for as long as a full reindex runs; public
    pages check their hits here so an entry taken down never shows in the meantime.
    """
    if not slugs:
        return set()
    marks = ",".join("?" * len(slugs))
    # By primary key, status checked here: with "status = 'published'" in the query SQLite walked
    # the status index over every published row (9 ms a search at 10 000 entries).
    rows = db.execute(f"SELECT slug, status FROM entries WHERE slug IN ({marks})", list(slugs))
    return {slug for slug, status in rows if status == "published"}


_LOG_CONNECTIONS: dict[Path, sqlite3.Connection] = {}
_LOG_LOCK = threading.Lock()


def _log_connection(data_dir: Path) -> sqlite3.Connection:
    """Return this process's connection for the search log.

    It commits without waiting for the disk (synchronous=NORMAL: in WAL mode the database stays
    consistent; a power cut may lose the last few log lines, never anything else). With the
    default, every search waited for an fsync, and the workers queued behind each other.
    """
    conn = _LOG_CONNECTIONS.get(data_dir)
    if conn is None:
        conn = sqlite3.connect(data_dir / DB_NAME, timeout=2.0, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA synchronous=NORMAL")
        _LOG_CONNECTIONS[data_dir] = conn
    return conn


def log_search(data_dir: Path, params: Any, found: Any) -> None:
    """Remember a public search: its normalised words, filters and result count, never who made it.

    Only first pages with words or filters count: paging through results is one search. A search
    answered only with entries having some of the words, or after correcting typos, counts as
    finding nothing: no entry had every word as typed, which is what the admin needs to know.
    """
    if params.page != 1 or not (params.q or params.filters):
        return
    results = 0 if found.relaxed or found.corrected else found.total
    query = " ".join(normalize_text(params.q).lower().split())[:200]
    filters = json.dumps(params.filters, ensure_ascii=False, sort_keys=True)[:500] if params.filters else ""
    try:
        with _LOG_LOCK:
            conn = _log_connection(data_dir)
            row_id = conn.execute(
                "INSERT INTO search_log (at, query, filters, results) VALUES (?, ?, ?, ?)",
                [_now(), query, filters, results],
            ).lastrowid
            if row_id % 1000 == 0:  # now and then, forget searches older than two years
                cutoff = (dt.datetime.now(dt.UTC) - dt.timedelta(days=730)).replace(microsecond=0).isoformat()
                conn.execute("DELETE FROM search_log WHERE at < ?", [cutoff])
    except sqlite3.Error:  # a busy database never costs a reader the results
        pass


def newest_entries(db: sqlite_utils.Database, limit: int = 6) -> list[dict]:
    """Return the most recently added or changed published entries."""
    rows = db["entries"].rows_where("status = 'published'", order_by="updated_at DESC, year DESC, title", limit=limit)
    return [decode_row(r) for r in rows]
