"""The SQLite schema as a list of migrations (sqlite-utils' Migrations), applied once per database.

A schema change is a new function at the end of this file, decorated with ``@MIGRATIONS()``:
sqlite-utils records each one applied in the ``_sqlite_migrations`` table, so it runs once per
database and needs no "if the column is missing" check. Never edit or rename one that has
shipped: databases in use have it recorded under its name.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

__all__ = ["ENTRY_COLUMNS", "MIGRATIONS", "migrate"]

MIGRATIONS = Migrations("kb")

ENTRY_COLUMNS = {
    "slug": str, "title": str, "summary": str, "unit": str, "province": str,
    "fields": str, "tags": str, "year": int, "status": str, "path": str,
    "content_hash": str, "updated_at": str, "indexed_at": str, "published_at": str,
    "source": str, "contact": str, "body_html": str, "body_text": str, "attachments": str,
}  # fmt: skip


def migrate(db: sqlite_utils.Database) -> None:
    """Apply the migrations this database has not had yet, each in its own transaction."""
    MIGRATIONS.apply(db)


@MIGRATIONS()
def m001_tables(db: sqlite_utils.Database) -> None:
    """Create the tables as of 2026-12-02, or bring a database made before migrations up to them."""
    _create_tables(db)
    _complete_older_tables(db)


def _create_tables(db: sqlite_utils.Database) -> None:
    """Create each table the database does not have yet."""
    names = set(db.table_names())
    if "entries" not in names:
        db["entries"].create(ENTRY_COLUMNS, pk="slug", not_null={"title", "path", "status"})
        db["entries"].create_index(["path"], unique=True)
        db["entries"].create_index(["status", "year"])
    if "meta" not in names:
        db["meta"].create({"key": str, "value": str}, pk="key")
    if "users" not in names:
        db["users"].create(
            {"id": int, "name": str, "name_key": str, "role": str, "password_hash": str,
             "disabled": int, "created_at": str, "updated_at": str, "session_version": int},
            pk="id", not_null={"name", "name_key", "role", "password_hash", "session_version"},
            defaults={"disabled": 0, "session_version": 0},
        )  # fmt: skip
        db["users"].create_index(["name_key"], unique=True)
    if "login_attempts" not in names:
        db["login_attempts"].create({"name_key": str, "address": str, "at": float, "ok": int})
        db["login_attempts"].create_index(["name_key", "at"])
        db["login_attempts"].create_index(["address", "at"])
    if "sessions" not in names:  # one row per signed-in browser; its cookie holds the token hashed into id
        db["sessions"].create({"id": str, "user_id": int, "version": int, "created": float, "seen": float}, pk="id")
        db["sessions"].create_index(["user_id"])
    if "audit" not in names:  # a repeated event (a paused sign-in) counts in one row: repeats, last_at
        db["audit"].create(
            {"id": int, "at": str, "actor": str, "action": str, "target": str, "detail": str, "address": str,
             "repeats": int, "last_at": str},
            pk="id", not_null={"repeats"}, defaults={"repeats": 1},
        )  # fmt: skip
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
    if "replications" not in names:  # units that adopted a model
        db["replications"].create(
            {"id": int, "slug": str, "unit": str, "province": str, "start_date": str, "status": str,
             "adapted": str, "result": str, "contact": str, "created_by": str, "created_at": str,
             "updated_by": str, "updated_at": str},
            pk="id", not_null={"slug", "unit", "status"},
        )  # fmt: skip
        db["replications"].create_index(["slug"])
    if "search_log" not in names:  # public searches, without who made them; corrected: searched instead
        db["search_log"].create(
            {"id": int, "at": str, "query": str, "filters": str, "results": int, "corrected": str}, pk="id"
        )
        db["search_log"].create_index(["query"])
        db["search_log"].create_index(["at"])  # pruning by age reads only what it deletes
    if "proposals" not in names:  # an editor's change to a published entry, waiting for an admin
        db["proposals"].create(
            {"id": int, "slug": str, "created_at": str, "author": str, "comment": str, "base_hash": str,
             "text": str, "state": str, "decided_by": str, "decided_at": str, "base_text": str},
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


def _complete_older_tables(db: sqlite_utils.Database) -> None:
    """Add what the tables of a database made before 2026-12-02 (before migrations were recorded) lack."""
    missing = [name for name in ENTRY_COLUMNS if name not in db["entries"].columns_dict]
    for name in missing:
        db["entries"].add_column(name, ENTRY_COLUMNS[name])
    if "published_at" in missing:  # the feed must not call every existing entry new
        db.execute("UPDATE entries SET published_at = updated_at WHERE status = 'published'")
    if "session_version" not in db["users"].columns_dict:  # sessions ended on the server
        db["users"].add_column("session_version", int, not_null_default=0)
    if "repeats" not in db["audit"].columns_dict:
        db["audit"].add_column("repeats", int, not_null_default=1)
        db["audit"].add_column("last_at", str)
    if "token" not in db["pending"].columns_dict:  # made before saves carried a token
        db["pending"].add_column("token", str)
    if "corrected" not in db["search_log"].columns_dict:
        db["search_log"].add_column("corrected", str)
    db["search_log"].create_index(["at"], if_not_exists=True)
    if "base_text" not in db["proposals"].columns_dict:  # the text a proposal was written against
        db["proposals"].add_column("base_text", str)


@MIGRATIONS()
def m002_proposal_reasons(db: sqlite_utils.Database) -> None:
    """Keep why a proposal was rejected, and which rejected proposal a new one reopens."""
    columns = db["proposals"].columns_dict  # a database whose migration records were lost has them already
    if "reason" not in columns:
        db["proposals"].add_column("reason", str)
    if "reopened_from" not in columns:
        db["proposals"].add_column("reopened_from", int)


@MIGRATIONS()
def m003_entry_dates_from_history(db: sqlite_utils.Database) -> None:
    """Date entries by their own history (last save, else source date or year), not by when they were indexed.

    Databases made before this dated every entry by its first indexing: the day of the install.
    """
    import json

    from .revisions import history_date  # the same rule as a reindex

    saved = {slug for (slug,) in db.execute("SELECT DISTINCT slug FROM revisions WHERE coalesce(author, '') != ''")}
    for slug, source, year, status in db.execute("SELECT slug, source, year, status FROM entries").fetchall():
        try:
            source_date = (json.loads(source) or {}).get("date") if source else None
        except (ValueError, AttributeError):
            source_date = None
        dated = history_date(db, slug, source_date, year)
        if not dated:  # nothing better known: keep what it had
            continue
        db.execute("UPDATE entries SET updated_at = ? WHERE slug = ?", [dated, slug])
        if status == "published" and slug not in saved:  # first published when its source says
            db.execute("UPDATE entries SET published_at = ? WHERE slug = ?", [dated, slug])


@MIGRATIONS()
def m004_attachments(db: sqlite_utils.Database) -> None:
    """Keep each entry's attachments (file, caption, credit) as JSON, as its front matter lists them."""
    if "attachments" not in db["entries"].columns_dict:
        db["entries"].add_column("attachments", str)


@MIGRATIONS()
def m005_ledger_files(db: sqlite_utils.Database) -> None:
    """Keep the replication ledger as a copy of the files in content/replications/.

    Each record gets the id it has in its file; records made before have none until the next
    reindex writes them to the files (kb.replications.export_rows). ledger_files remembers the
    hash of each file last taken, so that only changed files are read again.
    """
    if "key" not in db["replications"].columns_dict:
        db["replications"].add_column("key", str)
    db["replications"].create_index(["slug", "key"], if_not_exists=True)
    if "ledger_files" not in db.table_names():
        db["ledger_files"].create({"path": str, "content_hash": str}, pk="path")
