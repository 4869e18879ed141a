"""Figures the site shows about itself: published entries by field, province and year, replications, searches."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

import sqlite_utils

from .replications import ledger_stats
from .vocabulary import Vocabulary

__all__ = ["Table", "all_tables", "most_searched", "search_summary"]


@dataclass(frozen=True)
class Table:
    """One statistic: a name for its CSV, a title, column headings and rows (label, count)."""

    name: str
    title: str
    columns: tuple[str, str]
    rows: list[tuple[str, int]]
    order: str = "count"  # how the chart sorts: by "count" or in the rows' own order (years)


def _published(db: sqlite_utils.Database) -> list[dict]:
    return list(db.query("SELECT slug, title, province, fields, year FROM entries WHERE status = 'published'"))


def by_field(rows: list[dict]) -> list[tuple[str, int]]:
    """Return published entries per field (an entry counts in each of its fields)."""
    counts = Counter(f for r in rows for f in json.loads(r["fields"] or "[]"))
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def by_province(rows: list[dict], vocab: Vocabulary) -> list[tuple[str, int]]:
    """Return published entries per province under today's names (former names folded in)."""
    counts = Counter(vocab.region(r["province"]) or "Chưa ghi tỉnh" for r in rows)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def by_year(rows: list[dict]) -> list[tuple[str, int]]:
    """Return published entries per year, oldest first."""
    counts = Counter(str(r["year"]) if r["year"] else "Chưa ghi năm" for r in rows)
    return sorted(counts.items(), key=lambda kv: (not kv[0].isdigit(), kv[0]))


def replications_by_year(db: sqlite_utils.Database, published: set[str]) -> list[tuple[str, int]]:
    """Return recorded adoptions of published models per year they started, oldest first."""
    counts: Counter[str] = Counter()
    for slug, start in db.execute("SELECT slug, start_date FROM replications").fetchall():
        if slug in published:
            counts[(start or "")[:4] if (start or "")[:4].isdigit() else "Chưa ghi năm"] += 1
    return sorted(counts.items(), key=lambda kv: (not kv[0].isdigit(), kv[0]))


def most_replicated(db: sqlite_utils.Database, rows: list[dict], limit: int = 10) -> list[tuple[str, int]]:
    """Return the published models adopted by the most units."""
    titles = {r["slug"]: r["title"] for r in rows}
    counts = [(titles[slug], units) for slug, (units, _done) in ledger_stats(db).items() if slug in titles and units]
    return sorted(counts, key=lambda kv: (-kv[1], kv[0]))[:limit]


def all_tables(db: sqlite_utils.Database, vocab: Vocabulary) -> list[Table]:
    """Return every table of the statistics page, in page order."""
    rows = _published(db)
    published = {r["slug"] for r in rows}
    return [
        Table("linh-vuc", "Mô hình theo lĩnh vực", ("Lĩnh vực", "Số mô hình"), by_field(rows)),
        Table(
            "tinh-thanh",
            "Mô hình theo tỉnh, thành phố (tên hiện nay)",
            ("Tỉnh, thành phố", "Số mô hình"),
            by_province(rows, vocab),
        ),
        Table("nam", "Mô hình theo năm", ("Năm", "Số mô hình"), by_year(rows), order="label"),
        Table(
            "nhan-rong-theo-nam",
            "Lượt nhân rộng theo năm bắt đầu",
            ("Năm", "Số lượt nhân rộng"),
            replications_by_year(db, published),
            order="label",
        ),
        Table(
            "nhan-rong-nhieu-nhat",
            "Mô hình được nhân rộng nhiều nhất",
            ("Mô hình", "Số đơn vị áp dụng"),
            most_replicated(db, rows),
        ),
    ]


def search_summary(db: sqlite_utils.Database, limit: int) -> dict:
    """Return the most frequent searches, those that never found anything, those found once corrected, and the total."""
    query = (
        "SELECT query, count(*) AS n, max(at) AS last, max(results) AS best FROM search_log "
        "WHERE query != '' GROUP BY query {having} ORDER BY n DESC, last DESC LIMIT ?"
    )
    return {
        "frequent": list(db.query(query.format(having=""), [limit])),
        # Never found anything: what people need that nobody has written yet.
        "missing": list(db.query(query.format(having="HAVING max(results) = 0"), [limit])),
        # Found only once a typo was corrected: worth a synonym, or a word in the entry itself.
        "corrected": list(
            db.query(
                "SELECT query, corrected, count(*) AS n, max(at) AS last FROM search_log WHERE corrected IS NOT NULL"
                " AND corrected != '' GROUP BY query, corrected ORDER BY n DESC, last DESC LIMIT ?",
                [limit],
            )
        ),
        "total": db["search_log"].count,
    }


def most_searched(db: sqlite_utils.Database, limit: int) -> list[tuple[str]]:
    """Return the queries searched most often in the search log, most first (as 1-tuples)."""
    return db.execute(
        "SELECT query FROM search_log WHERE query != '' GROUP BY query ORDER BY count(*) DESC, query LIMIT ?", [limit]
    ).fetchall()
