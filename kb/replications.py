"""The replication ledger: which units adopted a model, how it went, and the evidence it gives."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass

import sqlite_utils

from indexer import normalize_text

from .dates import DateError, parse_date
from .store import now_iso, queue_files, write_audit, write_transaction

__all__ = [
    "STATUSES",
    "Change",
    "Replication",
    "add_replication",
    "adopted_by_same_units",
    "delete_replication",
    "evidence_level",
    "get_replication",
    "ledger_stats",
    "list_replications",
    "update_replication",
]

STATUSES = ("dự kiến", "đang triển khai", "đã hoàn thành", "tạm dừng")
COMPLETED = "đã hoàn thành"
NEW, SPREAD, MODEL = "Mới đề xuất", "Đã nhân rộng", "Điển hình"
MODEL_FROM = 3  # units that adopted a model before it counts as "điển hình" (one of them completed)


def evidence_level(units: int, completed: bool) -> str:
    """Return the evidence level: no unit yet, one or two units, or three or more with one completed."""
    if units >= MODEL_FROM and completed:
        return MODEL
    return SPREAD if units >= 1 else NEW


@dataclass(frozen=True)
class Replication:
    """One unit's adoption of a model, as typed."""

    unit: str
    province: str = ""
    start_date: str = ""  # as typed: 15/03/2024, 03/2024, 2024 or ISO; stored as ISO
    status: str = "dự kiến"
    adapted: str = ""
    result: str = ""
    contact: str = ""


def _clean(text: str | None) -> str:
    return " ".join(normalize_text(text or "").split())


def _unit_key(unit: str) -> str:
    """Return what makes two names one unit (case, spacing and tone style aside)."""
    return _clean(unit).casefold()


def check(rep: Replication) -> dict[str, str]:
    """Return the problems of a record, by field, in Vietnamese."""
    problems = {}
    if not _clean(rep.unit):
        problems["unit"] = "Hãy nhập tên đơn vị áp dụng."
    if rep.status not in STATUSES:
        problems["status"] = "Trạng thái phải là một trong: " + ", ".join(STATUSES) + "."
    if rep.start_date and rep.start_date.strip():
        try:
            _parse_start(rep.start_date)
        except DateError as exc:
            problems["start_date"] = str(exc)
    return problems


def _parse_start(value: str) -> str:
    """Return a typed start date as zero-padded ISO (15/3/2024 -> 2024-03-15), so dates sort as text."""
    return parse_date(value, latest_year=dt.date.today().year + 5)  # a start may be planned years ahead


def _canonical_date(value: str) -> str | None:
    """Return a start date as ISO, or None if it is empty or invalid."""
    try:
        return _parse_start(value) if value and value.strip() else None
    except DateError:
        return None


def _row(rep: Replication) -> dict:
    return {
        "unit": _clean(rep.unit),
        "province": _clean(rep.province),
        "start_date": _canonical_date(rep.start_date) or "",
        "status": rep.status,
        "adapted": (rep.adapted or "").strip(),
        "result": (rep.result or "").strip(),
        "contact": _clean(rep.contact),
    }


def add_replication(db: sqlite_utils.Database, slug: str, rep: Replication, change: Change) -> int:
    """Record that a unit adopted the model slug; return the record's id."""
    now, author = now_iso(), change.actor
    row = {"slug": slug, **_row(rep), "created_by": author, "created_at": now, "updated_by": author, "updated_at": now}
    with write_transaction(db) as conn:
        record_id = conn.execute(
            f"INSERT INTO replications ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values())
        ).lastrowid
        _log(conn, slug, change, "replication_add", as_json(_get(conn, record_id)))
    return record_id


def update_replication(db: sqlite_utils.Database, record_id: int, rep: Replication, change: Change) -> dict:
    """Correct a record; return it as it was before."""
    with write_transaction(db) as conn:
        before = _get(conn, record_id) or {}
        values = {**_row(rep), "updated_by": change.actor, "updated_at": now_iso()}
        sets = ", ".join(f"{name} = ?" for name in values)
        conn.execute(f"UPDATE replications SET {sets} WHERE id = ?", [*values.values(), record_id])
        detail = f"trước: {as_json(before)} — sau: {as_json(_get(conn, record_id))}"
        _log(conn, before.get("slug", ""), change, "replication_edit", detail)
    return before


def delete_replication(db: sqlite_utils.Database, record_id: int, change: Change) -> dict:
    """Remove a record; return it (the audit log keeps it whole)."""
    with write_transaction(db) as conn:
        before = _get(conn, record_id) or {}
        conn.execute("DELETE FROM replications WHERE id = ?", [record_id])
        _log(conn, before.get("slug", ""), change, "replication_delete", as_json(before))
    return before


@dataclass(frozen=True)
class Change:
    """Who changes the ledger, from where, and which entry file must reach the index again."""

    actor: str
    address: str = ""
    path: str = ""  # the entry's file: its evidence level and count are indexed with it


def _log(conn, slug: str, change: Change, action: str, detail: str) -> None:
    """Write the audit line and queue the entry for the index, in the ledger change's transaction."""
    write_audit(conn, change.actor, action, slug, detail, change.address)
    if change.path:
        queue_files(conn, {change.path: secrets.token_hex(8)})


def _get(conn, record_id: int) -> dict | None:
    cursor = conn.execute("SELECT * FROM replications WHERE id = ?", [record_id])
    row = cursor.fetchone()
    return dict(zip([c[0] for c in cursor.description], row, strict=True)) if row else None


def get_replication(db: sqlite_utils.Database, record_id: int) -> dict | None:
    """Return one record."""
    return next(db["replications"].rows_where("id = ?", [record_id], limit=1), None)


def list_replications(db: sqlite_utils.Database, slug: str) -> list[dict]:
    """Return a model's records, newest start first (records without a date last, newest entered first)."""
    return list(
        db.query("SELECT * FROM replications WHERE slug = ? ORDER BY start_date = '', start_date DESC, id DESC", [slug])
    )


def ledger_stats(db: sqlite_utils.Database, *slugs: str) -> dict[str, tuple[int, bool]]:
    """Return, per model (every one, or those named), (units that adopted it, whether one completed it)."""
    units: dict[str, set[str]] = {}
    completed: set[str] = set()
    where, args = (f"WHERE slug IN ({','.join('?' * len(slugs))})", list(slugs)) if slugs else ("", [])
    rows = db.execute(f"SELECT slug, unit, status FROM replications {where}", args).fetchall()
    for model, unit, status in rows:
        units.setdefault(model, set()).add(_unit_key(unit))
        if status == COMPLETED:
            completed.add(model)
    return {model: (len(found), model in completed) for model, found in units.items()}


def as_json(record: dict) -> str:
    """Return a record as JSON text (for the audit log)."""
    return json.dumps({k: v for k, v in record.items() if v not in (None, "")}, ensure_ascii=False)


def adopted_by_same_units(db: sqlite_utils.Database, slug: str, limit: int = 5) -> list[dict]:
    """Return other published models adopted by the units that adopted this one, most shared first."""
    mine = {_unit_key(u) for (u,) in db.execute("SELECT unit FROM replications WHERE slug = ?", [slug]).fetchall()}
    if not mine:
        return []
    shared: dict[str, set[str]] = {}
    for other, unit in db.execute("SELECT slug, unit FROM replications WHERE slug != ?", [slug]).fetchall():
        if _unit_key(unit) in mine:
            shared.setdefault(other, set()).add(_clean(unit))
    if not shared:
        return []
    marks = ",".join("?" * len(shared))
    rows = db.execute(f"SELECT slug, title, status FROM entries WHERE slug IN ({marks})", list(shared)).fetchall()
    found = [{"slug": s, "title": t, "units": sorted(shared[s])} for s, t, status in rows if status == "published"]
    return sorted(found, key=lambda r: (-len(r["units"]), r["title"]))[:limit]
