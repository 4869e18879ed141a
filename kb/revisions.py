"""An entry's revisions: the list, one of them, what an old proposal was written against, line diffs."""

from __future__ import annotations

import datetime as dt
import difflib

import sqlite_utils

from .dates import start_of

__all__ = [
    "audit_moments",
    "diff_lines",
    "get_revision",
    "history_date",
    "list_revisions",
    "revision_text",
    "saved_texts",
]


def list_revisions(db: sqlite_utils.Database, slug: str) -> list[dict]:
    """Return an entry's revisions, newest first, without their text."""
    return list(
        db.query(
            "SELECT id, slug, created_at, author, comment, status, content_hash, length(text) AS size "
            "FROM revisions WHERE slug = ? ORDER BY id DESC",
            [slug],
        )
    )


def get_revision(db: sqlite_utils.Database, slug: str, revision_id: int) -> dict | None:
    """Return one revision of an entry, with its text."""
    return next(db["revisions"].rows_where("slug = ? AND id = ?", [slug, revision_id], limit=1), None)


def diff_lines(old: str, new: str) -> list[tuple[str, str]]:
    """Return a line diff as (kind, line) pairs: ' ' same, '-' removed, '+' added, '@' a hunk."""
    out = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=3):
        if line.startswith(("---", "+++")):
            continue
        out.append(("@" if line.startswith("@@") else line[0], line[1:] if not line.startswith("@@") else line))
    return out


def revision_text(db: sqlite_utils.Database, slug: str, content_hash: str) -> str | None:
    """Return the text of an entry's revision with this hash (what an old proposal was written against)."""
    row = db.execute(
        "SELECT text FROM revisions WHERE slug = ? AND content_hash = ? ORDER BY id DESC LIMIT 1", [slug, content_hash]
    ).fetchone()
    return row[0] if row else None


def audit_moments(at: str) -> list[str] | None:
    """Return the times a change logged at `at` was recorded with: the audit line is written in the
    change's transaction, at most a second after the row it names. None for a time that is not one."""
    try:
        moment = dt.datetime.fromisoformat(at)
    except ValueError:
        return None
    return [at, (moment - dt.timedelta(seconds=1)).isoformat()]


def saved_texts(db: sqlite_utils.Database, slug: str, author: str, at: str) -> tuple[str | None, str] | None:
    """Return (the text before, the text saved) of the revision an author saved at this time (audit line), or None."""
    times = audit_moments(at)
    if times is None:
        return None
    row = db.execute(
        "SELECT id, text FROM revisions WHERE slug = ? AND author = ? AND created_at IN (?, ?) "
        "ORDER BY id DESC LIMIT 1",
        [slug, author, *times],
    ).fetchone()
    if row is None:
        return None
    before = db.execute(
        "SELECT text FROM revisions WHERE slug = ? AND id < ? ORDER BY id DESC LIMIT 1", [slug, row[0]]
    ).fetchone()
    return (before[0] if before else None), row[1]


def history_date(conn, slug: str, source_date: str | None, year: int | None) -> str | None:
    """Return when an entry last changed by its own history: its last save from the browser, else its source's date
    or its year (ISO); None if it tells nothing. Never the file's time: a clone or a copy resets that.
    """
    row = conn.execute(
        "SELECT created_at FROM revisions WHERE slug = ? AND coalesce(author, '') != '' ORDER BY id DESC LIMIT 1",
        [slug],
    ).fetchone()
    if row:
        return row[0]
    if source_date and start_of(source_date):  # an ISO date (2022-09-20, 2022-09, 2022), not free text
        return str(source_date)
    return str(year) if year else None
