"""Keep the metadata of indexed entries in SQLite, through sqlite-utils."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from indexer import normalize_text
from indexer.locks import file_lock

from .entries import Entry
from .revisions import history_date
from .schema import migrate

__all__ = [
    "DB_NAME",
    "StoreBusy",
    "content_lock",
    "decode_row",
    "delete_entry_rows",
    "editorial_rows",
    "entry_title",
    "get_entry",
    "get_meta",
    "house_state",
    "indexed_files",
    "log_search",
    "newest_entries",
    "now_iso",
    "open_db",
    "prune_logs",
    "published_only",
    "queue_files",
    "set_meta",
    "write_audit",
    "write_entry_rows",
    "write_transaction",
]

DB_NAME = "kb.sqlite3"

log = logging.getLogger(__name__)

# How long a request waits for another save to finish before it answers "busy" (seconds): well
# within the server's worker timeout (30 s), even when the save ahead waits for a busy index.
CONTENT_WAIT = 10.0


def content_lock(data_dir: Path, wait: float | None = CONTENT_WAIT) -> contextlib.AbstractContextManager[bool]:
    """Hold the lock under which content files are written (one save at a time, across processes).

    With wait, yield False instead of blocking longer: a request must answer "busy" well before
    the server's worker timeout.
    """
    return file_lock(data_dir / "content.lock", wait=wait)


# How long the audit log and the search log are kept, in days, unless configured (0: forever).
KEEP_DAYS = 730

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
    """Open the database at path, creating its tables or applying the migrations it lacks."""
    # The data folder holds the index (drafts' text too) and the database: for the site's owner only.
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    _owner_only(path)
    db = sqlite_utils.Database(path)
    # The server's workers start together: one process migrates, the others then find nothing to
    # do. Switching to WAL (which lets the web workers read while a reindex writes) is done under
    # the same lock: outside it, a switch meeting another process's migration can fail at once
    # with "database is locked" (SQLite gives up rather than deadlock).
    with file_lock(data_dir / "migrate.lock"):
        db.enable_wal()
        migrate(db)
    _READY.add(path)
    return db


def _owner_only(path: Path) -> None:
    """Create the database readable by its owner only, and take group and others' access from an older one.

    It holds password hashes and the audit log. SQLite creates the -wal and -shm files with the
    database's own mode, so a database made 0600 keeps them 0600 too; the umask may be stricter.
    """
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # SQLite takes an empty file
    for file in (path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")):
        # Missing, or owned by another account (not this process's to change): leave it.
        with contextlib.suppress(FileNotFoundError, PermissionError):
            mode = stat.S_IMODE(file.stat().st_mode)
            if mode & 0o077:  # made 0644 by an older version
                os.chmod(file, mode & 0o600)


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


class StoreBusy(RuntimeError):
    """Another process holds the database for writing longer than a request may wait."""


def _locked(exc: sqlite3.OperationalError) -> bool:
    """Return True if SQLite refused because another connection holds the write lock."""
    return "locked" in str(exc) or "busy" in str(exc)


@contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite3.Connection]:
    """Hold the database's write lock for the block: everything in it is committed together, or nothing.

    The lock is taken first (BEGIN IMMEDIATE, waiting as long as the connection's timeout), so
    a block that starts is never refused half-way for want of it. Raise StoreBusy if another
    process keeps the lock longer. Write with plain SQL on the connection inside the block:
    sqlite-utils' table methods commit on their own.
    """
    conn = db.conn
    if conn.in_transaction:  # something earlier left a transaction open: unknown work, not ours to keep
        log.warning("A write transaction was left open on %s; rolled back", db.conn)
        conn.rollback()
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if _locked(exc):
            raise StoreBusy(str(exc)) from None
        raise
    try:
        yield conn
        conn.commit()
    except BaseException as exc:
        if conn.in_transaction:
            conn.rollback()
        if isinstance(exc, sqlite3.OperationalError) and _locked(exc):
            raise StoreBusy(str(exc)) from None
        raise


def write_entry_rows(conn: sqlite3.Connection, entries: list[tuple[Entry, str, str]]) -> None:
    """Write the rows of (entry, body HTML, body text) triples in the caller's transaction."""
    now = _now()
    for entry, body_html, body_text in entries:
        old = conn.execute(
            "SELECT content_hash, updated_at, published_at, status FROM entries WHERE slug = ?", [entry.slug]
        ).fetchone()
        # A moved file keeps its slug; free its new path from any stale row first.
        conn.execute("DELETE FROM entries WHERE path = ? AND slug != ?", [entry.path, entry.slug])
        # Its own history dates it (last save, else its source's date or year), not the time it was indexed.
        dated = history_date(conn, entry.slug, entry.source.date if entry.source else None, entry.year)
        row = _row(entry, body_html, dated, now)
        # When it first went public (for the feed): kept while it stays published.
        was = (old[2] or old[1]) if old and old[3] == "published" else None
        row |= {"body_text": body_text, "published_at": (was or dated or now) if entry.status == "published" else None}
        names = ", ".join(row)
        updates = ", ".join(f"{name} = excluded.{name}" for name in row if name != "slug")
        conn.execute(
            f"INSERT INTO entries ({names}) VALUES ({', '.join('?' * len(row))}) "
            f"ON CONFLICT(slug) DO UPDATE SET {updates}",
            list(row.values()),
        )


def queue_files(conn: sqlite3.Connection, tokens: dict[str, str]) -> None:
    """Mark files as waiting for the index (path -> a new token), in the caller's transaction.

    The mark is written with the change that needs it, so a process killed before the index
    took the files leaves them queued: the next reindex (or server start) takes them.
    """
    conn.executemany("INSERT OR REPLACE INTO pending (path, token) VALUES (?, ?)", list(tokens.items()))


def write_audit(
    conn: sqlite3.Connection, actor: str | None, action: str, target: str = "", detail: str = "", address: str = ""
) -> None:
    """Append one line to the audit log, in the caller's transaction."""
    conn.execute(
        "INSERT INTO audit (at, actor, action, target, detail, address) VALUES (?, ?, ?, ?, ?, ?)",
        [_now(), actor or "", action, target, detail, address],
    )


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
        "attachments": json.dumps(
            [{k: v for k, v in vars(a).items() if v} for a in entry.attachments], ensure_ascii=False
        )
        if entry.attachments
        else None,
    }


def delete_entry_rows(conn: sqlite3.Connection, slugs: set[str]) -> None:
    """Delete the rows of the given slugs, in the caller's transaction."""
    conn.executemany("DELETE FROM entries WHERE slug = ?", [(slug,) for slug in slugs])


def decode_row(row: dict[str, Any]) -> dict[str, Any]:
    """Turn the JSON columns of a row back into lists and mappings."""
    row = dict(row)
    row["fields"] = json.loads(row["fields"] or "[]")
    row["tags"] = json.loads(row["tags"] or "[]")
    row["source"] = json.loads(row["source"]) if row["source"] else None
    row["attachments"] = json.loads(row.get("attachments") or "[]")
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
        # A reader never waits long for the log: while another process holds the database (a
        # backup, a save), the line is dropped after a quarter of a second, not the search delayed.
        conn = sqlite3.connect(data_dir / DB_NAME, timeout=0.25, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA synchronous=NORMAL")
        _LOG_CONNECTIONS[data_dir] = conn
    return conn


def _days_ago(days: int) -> str:
    """Return the time days ago as the logs write times."""
    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).replace(microsecond=0).isoformat()


def _prune(conn: sqlite3.Connection, table: str, days: int) -> int:
    """Delete the rows of a log older than days (0: keep them all); return how many."""
    return conn.execute(f"DELETE FROM {table} WHERE at < ?", [_days_ago(days)]).rowcount if days > 0 else 0


def prune_logs(conn: sqlite3.Connection, audit_days: int = KEEP_DAYS, search_days: int = KEEP_DAYS) -> int:
    """Forget audit lines older than audit_days and searches older than search_days (0: keep); return how many."""
    return _prune(conn, "audit", audit_days) + _prune(conn, "search_log", search_days)


def log_search(data_dir: Path, params: Any, found: Any, keep_days: int = KEEP_DAYS) -> None:
    """Remember a public search: its normalised words, filters and result count, never who made it.

    Only first pages with words or filters count: paging through results is one search. A search
    answered only with entries having some of the words counts as finding nothing: no entry had
    every word, which is what the admin needs to know. A search that found entries once a typo
    was corrected is kept with what was searched instead.
    """
    if params.page != 1 or not (params.q or params.filters):
        return
    results = 0 if found.relaxed else found.total
    searched = found.searched_for
    corrected = searched[:200] if searched and results else None
    query = " ".join(normalize_text(params.q).lower().split())[:200]
    filters = json.dumps(params.filters, ensure_ascii=False, sort_keys=True)[:500] if params.filters else ""
    try:
        with _LOG_LOCK:
            conn = _log_connection(data_dir)
            row_id = conn.execute(
                "INSERT INTO search_log (at, query, filters, results, corrected) VALUES (?, ?, ?, ?, ?)",
                [_now(), query, filters, results, corrected],
            ).lastrowid
            if row_id % 1000 == 0:  # now and then, forget searches older than keep_days
                _prune(conn, "search_log", keep_days)
    except sqlite3.Error:  # a busy database never costs a reader the results
        pass


def entry_title(db: sqlite_utils.Database, slug: str) -> str:
    """Return an entry's title (its slug if it has no row)."""
    row = next(db["entries"].rows_where("slug = ?", [slug], select="title", limit=1), None)
    return row["title"] if row else slug


def editorial_rows(db: sqlite_utils.Database) -> list[dict]:
    """Return the drafts, then the entries waiting for review, newest first (the editor's desk)."""
    return list(
        db.query(
            "SELECT slug, title, status, updated_at, unit FROM entries WHERE status IN ('draft', 'review') "
            "ORDER BY status DESC, updated_at DESC"
        )
    )


def house_state(db: sqlite_utils.Database) -> dict:
    """Return what the admin dashboard shows from the database: entries by status, the problems of
    the last reindex, and the entries waiting for review."""
    return {
        "by_status": dict(db.execute("SELECT status, count(*) FROM entries GROUP BY status").fetchall()),
        "problems": list(db.query("SELECT path, line, message, warning FROM problems ORDER BY warning, path, line")),
        "review": list(
            db.query("SELECT slug, title, updated_at FROM entries WHERE status = 'review' ORDER BY updated_at")
        ),
    }


def indexed_files(db: sqlite_utils.Database) -> tuple[dict[str, dict], set[str], set[str]]:
    """Return the indexed entry rows by path, the paths queued for indexing, and the broken paths."""
    rows = {r["path"]: r for r in db.query("SELECT path, slug, title, content_hash FROM entries")}
    pending = {r[0] for r in db.execute("SELECT path FROM pending")}
    broken = {r[0] for r in db.execute("SELECT DISTINCT path FROM problems WHERE warning = 0")}
    return rows, pending, broken


def newest_entries(db: sqlite_utils.Database, limit: int = 6) -> list[dict]:
    """Return the most recently added or changed published entries."""
    rows = db["entries"].rows_where("status = 'published'", order_by="updated_at DESC, year DESC, title", limit=limit)
    return [decode_row(r) for r in rows]


def known_units(db: sqlite_utils.Database, leave_out: str = "") -> list[tuple[str, str]]:
    """Return (unit, province) of the entries, most used first: what a drafted entry's unit is checked against."""
    rows = db.execute(
        "SELECT unit, coalesce(province, ''), count(*) AS n FROM entries WHERE unit != '' AND slug != ? "
        "GROUP BY unit, province ORDER BY n DESC, unit",
        [leave_out],
    )
    return [(unit, province) for unit, province, _n in rows.fetchall()]
