"""What the knowledge base hands to other programs: the newest models for the feed, and the export."""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

from .replications import evidence_level, ledger_stats
from .store import decode_row
from .vocabulary import Vocabulary

__all__ = ["published_export", "recently_published"]

ENTRY_KEYS = ("slug", "title", "summary", "unit", "province", "fields", "tags", "year", "source", "contact",
              "body_html", "body_text", "updated_at", "published_at")  # fmt: skip
REPLICATION_KEYS = ("unit", "province", "start_date", "status", "adapted", "result", "contact", "created_at",
                    "updated_at")  # fmt: skip


def recently_published(db: sqlite_utils.Database, limit: int) -> list[dict]:
    """Return the models most recently published (or changed, if never dated), newest first."""
    rows = db.query(
        "SELECT * FROM entries WHERE status = 'published' ORDER BY coalesce(published_at, updated_at) DESC, "
        "title LIMIT ?",
        [limit],
    )
    return [decode_row(r) for r in rows]


def published_export(
    db: sqlite_utils.Database, vocab: Vocabulary, entry_url: Callable[[str], str],
    media_url: Callable[[str, str], str] | None = None,
) -> list[dict]:  # fmt: skip
    """Return every published entry with its evidence level, replications and attachments, by slug."""
    ledger = ledger_stats(db)
    records: dict[str, list[dict]] = {}
    for r in db.query("SELECT * FROM replications ORDER BY slug, start_date = '', start_date DESC, id DESC"):
        records.setdefault(r["slug"], []).append({k: r[k] for k in REPLICATION_KEYS})
    entries = []
    for row in db.query("SELECT * FROM entries WHERE status = 'published' ORDER BY slug"):
        row = decode_row(row)
        units, completed = ledger.get(row["slug"], (0, False))
        entries.append(
            {
                **{k: row[k] for k in ENTRY_KEYS},
                "url": entry_url(row["slug"]),
                "region": vocab.region(row["province"]),
                "evidence_level": evidence_level(units, completed),
                "units_adopted": units,
                "replications": records.get(row["slug"], []),
                "attachments": [
                    {**a, "url": media_url(row["slug"], a["file"])} if media_url else a for a in row["attachments"]
                ],
            }
        )
    return entries
