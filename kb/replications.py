"""The replication ledger: which units adopted a model, how it went, and the evidence it gives.

The records live in files (kb.ledgerfiles: content/replications/<slug>.yml), which travel with
the content between sites; the database holds a copy derived from them, for counting and listing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from indexer import normalize_text

from . import gitsync
from .atomic import atomic_write, put_back
from .dates import DateError, parse_date
from .entries import InvalidEntry, Problem
from .ledgerfiles import FIELDS, STATUSES, dump_ledger, ledger_files, ledger_rel, new_key, read_ledger
from .store import StoreBusy, content_lock, now_iso, queue_files, write_audit, write_transaction

__all__ = [
    "STATUSES",
    "Change",
    "LedgerBroken",
    "Replication",
    "add_replication",
    "adopted_by_same_units",
    "delete_replication",
    "derive_rows",
    "evidence_level",
    "export_rows",
    "get_replication",
    "ledger_stats",
    "list_replications",
    "update_replication",
]

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


def add_replication(content_dir: Path, data_dir: Path, db: sqlite_utils.Database, slug: str, rep: Replication,
                    change: Change) -> str:  # fmt: skip
    """Record that a unit adopted the model slug; return the record's id."""
    now = now_iso()
    record = {"id": new_key(), **_row(rep), "created_by": change.actor, "created_at": now,
              "updated_by": change.actor, "updated_at": now}  # fmt: skip
    _change_ledger(content_dir, data_dir, db, slug, change, lambda records: ([*records, record], as_json(record)),
                   "replication_add", f"Ghi nhận nhân rộng: {record['unit']}")  # fmt: skip
    return record["id"]


def update_replication(content_dir: Path, data_dir: Path, db: sqlite_utils.Database, slug: str, key: str,
                       rep: Replication, change: Change) -> dict:  # fmt: skip
    """Correct a record; return it as it was before. Raise LookupError if it is gone."""
    found: dict = {}

    def edit(records: list[dict]) -> tuple[list[dict], str]:
        found.update(_find(records, key))
        after = {**found, **_row(rep), "updated_by": change.actor, "updated_at": now_iso()}
        return [after if r["id"] == key else r for r in records], f"trước: {as_json(found)} — sau: {as_json(after)}"

    _change_ledger(content_dir, data_dir, db, slug, change, edit, "replication_edit",
                   f"Sửa bản ghi nhân rộng: {_clean(rep.unit)}")  # fmt: skip
    return found


def delete_replication(content_dir: Path, data_dir: Path, db: sqlite_utils.Database, slug: str, key: str,
                       change: Change) -> dict:  # fmt: skip
    """Remove a record; return it (the audit log keeps it whole). Raise LookupError if it is gone."""
    found: dict = {}

    def edit(records: list[dict]) -> tuple[list[dict], str]:
        found.update(_find(records, key))
        return [r for r in records if r["id"] != key], as_json(found)

    _change_ledger(content_dir, data_dir, db, slug, change, edit, "replication_delete", "Xóa bản ghi nhân rộng")
    return found


def _find(records: list[dict], key: str) -> dict:
    found = next((r for r in records if r["id"] == key), None)
    if found is None:
        raise LookupError(key)
    return found


Edit = Callable[[list[dict]], tuple[list[dict], str]]  # records -> (new records, the audit line's detail)


def _change_ledger(content_dir: Path, data_dir: Path, db: sqlite_utils.Database, slug: str, change: Change,
                   edit: Edit, action: str, message: str) -> None:  # fmt: skip
    """Change a model's ledger file and its derived rows, with the audit line: all of it, or none of it.

    edit(records) returns the new records and the audit line's detail; message is the commit's.

    As a save of an entry: the file is read and written under the content lock, and replaced
    last, inside the transaction that writes the rows, the audit line and the index queue; a
    failure puts the old file back. Raise StoreBusy if another save holds the files too long,
    LedgerBroken if the file on disk does not pass the checks (it is not overwritten).
    """
    rel = ledger_rel(slug)
    path = content_dir / rel
    with content_lock(data_dir) as locked:
        if not locked:
            raise StoreBusy("the content lock is held")
        current = path.read_bytes() if path.is_file() else None
        try:
            records = read_ledger(current, rel) if current is not None else []
        except InvalidEntry as exc:
            raise LedgerBroken(exc.problems) from None
        records, detail = edit(records)
        data = dump_ledger(slug, records)
        written = False
        try:
            with write_transaction(db) as conn:
                _replace_rows(conn, slug, records)
                conn.execute("INSERT OR REPLACE INTO ledger_files (path, content_hash) VALUES (?, ?)",
                             [rel, hashlib.sha256(data).hexdigest()])  # fmt: skip
                _log(conn, slug, change, action, detail)
                written = True
                atomic_write(path, data)  # last: a refusal above leaves the file as it was
        except BaseException:
            if written:
                put_back(path, current)
            raise
        gitsync.commit_quietly(content_dir, message, change.actor, [rel])


class LedgerBroken(InvalidEntry):
    """The ledger file on disk does not pass the checks: it is fixed by hand before it is changed here."""


def _replace_rows(conn, slug: str, records: list[dict]) -> None:
    """Make the database's copy of a model's ledger the file's records, in the caller's transaction."""
    conn.execute("DELETE FROM replications WHERE slug = ?", [slug])
    columns = ["slug", "key", *[name for name in FIELDS if name != "id"]]
    conn.executemany(
        f"INSERT INTO replications ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        [[slug, r["id"], *[r.get(name, "") for name in FIELDS if name != "id"]] for r in records],
    )


def derive_rows(content_dir: Path, db: sqlite_utils.Database) -> tuple[set[str], list[Problem], set[str]]:
    """Bring the database's copy of the ledger in step with the files; return what changed.

    Returns the models whose records changed, the problems of the files read, and the files
    read. Only files whose bytes changed since they were last taken are read; a file that does
    not pass the checks is reported and its model keeps the records last taken (as an entry
    keeps its last good version). Records made before the ledger was kept in files are written
    to them first (export_rows). Call it under the content lock, as saves write under it.
    """
    export_rows(content_dir, db)
    known = dict(db.execute("SELECT path, content_hash FROM ledger_files").fetchall())
    files = ledger_files(content_dir)
    changed: set[str] = set()
    problems: list[Problem] = []
    read: set[str] = set()
    with write_transaction(db) as conn:
        for rel, path in files.items():
            raw = path.read_bytes()
            digest = hashlib.sha256(raw).hexdigest()
            if known.get(rel) == digest:
                continue
            read.add(rel)
            try:
                records = read_ledger(raw, rel)
            except InvalidEntry as exc:
                problems += exc.problems
                continue
            _replace_rows(conn, Path(rel).stem, records)
            conn.execute("INSERT OR REPLACE INTO ledger_files (path, content_hash) VALUES (?, ?)", [rel, digest])
            changed.add(Path(rel).stem)
        for rel in set(known) - set(files):  # a ledger file removed: its model has no records now
            conn.execute("DELETE FROM replications WHERE slug = ?", [Path(rel).stem])
            conn.execute("DELETE FROM ledger_files WHERE path = ?", [rel])
            changed.add(Path(rel).stem)
            read.add(rel)
    return changed, problems, read


def export_rows(content_dir: Path, db: sqlite_utils.Database) -> int:
    """Write the records kept only in the database (made before the ledger was in files) to the files.

    Once, on the first reindex after an upgrade: each gets an id, and joins its model's file
    (with the records already there). Return how many were written.
    """
    rows = list(db.query("SELECT * FROM replications WHERE key IS NULL OR key = '' ORDER BY id"))
    by_slug: dict[str, list[dict]] = {}
    for row in rows:
        by_slug.setdefault(row["slug"], []).append(row)
    for slug, legacy in by_slug.items():
        rel = ledger_rel(slug)
        path = content_dir / rel
        try:
            records = read_ledger(path.read_bytes(), rel) if path.is_file() else []
        except InvalidEntry:
            continue  # the file must be fixed first; these records wait in the database
        for row in legacy:
            row["key"] = new_key()
            records.append({"id": row["key"], **{name: row.get(name) or "" for name in FIELDS if name != "id"}})
        data = dump_ledger(slug, records)
        with write_transaction(db) as conn:
            conn.executemany("UPDATE replications SET key = ? WHERE id = ?", [(r["key"], r["id"]) for r in legacy])
            atomic_write(path, data)
    return len(rows)


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


def get_replication(db: sqlite_utils.Database, slug: str, key: str) -> dict | None:
    """Return one of a model's records by its id."""
    return next(db["replications"].rows_where("slug = ? AND key = ?", [slug, key], limit=1), None)


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
