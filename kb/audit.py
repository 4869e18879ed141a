"""The audit log: who did what, when and from where, kept in SQLite."""

from __future__ import annotations

import datetime as dt

import sqlite_utils

from .store import write_audit, write_transaction

__all__ = ["audit", "audit_page", "audit_repeat"]


def audit(
    db: sqlite_utils.Database, actor: str | None, action: str, target: str = "", detail: str = "", address: str = ""
) -> None:
    """Append one line to the audit log (StoreBusy if the database stays locked)."""
    with write_transaction(db) as conn:
        write_audit(conn, actor, action, target, detail, address)


def _iso(seconds: float) -> str:
    """Return a Unix time as the audit log writes times (UTC, ISO 8601, to the second)."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).replace(microsecond=0).isoformat()


def audit_repeat(
    db: sqlite_utils.Database,
    actor: str,
    action: str,
    target: str,
    detail: str,
    address: str,
    now: float,
    window: float,
) -> None:
    """Count an event in the audit row that started it within window seconds, or start one (in a transaction)."""
    found = db.execute(
        "SELECT id FROM audit WHERE at > ? AND action = ? AND target = ? AND address = ? ORDER BY id DESC LIMIT 1",
        [_iso(now - window), action, target, address],
    ).fetchone()
    if found:
        db.execute(
            "UPDATE audit SET repeats = repeats + 1, last_at = ?, detail = ? WHERE id = ?",
            [_iso(now), detail, found[0]],
        )
    else:
        db.execute(
            "INSERT INTO audit (at, actor, action, target, detail, address, repeats, last_at) "
            "VALUES (?, ?, ?, ?, ?, ?, 1, ?)",
            [_iso(now), actor, action, target, detail, address, _iso(now)],
        )


def audit_page(db: sqlite_utils.Database, page: int, size: int) -> tuple[list[dict], bool]:
    """Return one page of the audit log, newest first, and whether older lines follow."""
    rows = list(db.query("SELECT * FROM audit ORDER BY id DESC LIMIT ? OFFSET ?", [size + 1, (page - 1) * size]))
    return rows[:size], len(rows) > size
