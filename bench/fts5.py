"""The SQLite FTS5 side of the benchmark: the same entries, queries, facets and paging."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from pathlib import Path

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
WEIGHTS = "10.0, 4.0, 2.0, 1.0"  # title, summary, unit/province/fields/tags, body
FACETS = ("field", "province", "unit", "year")


def build(content: Path, db_path: Path) -> int:
    """Index every entry file into a fresh FTS5 database; return the count."""
    db_path.unlink(missing_ok=True)
    db = sqlite3.connect(db_path)
    db.executescript(
        """
        CREATE VIRTUAL TABLE docs USING fts5(slug UNINDEXED, title, summary, meta, body,
            tokenize = 'unicode61 remove_diacritics 2');
        CREATE TABLE facets (docid INTEGER, name TEXT, value TEXT);
        CREATE TABLE info (docid INTEGER PRIMARY KEY, status TEXT, year INTEGER, title TEXT,
            summary TEXT, unit TEXT, province TEXT, fields TEXT);
        """
    )
    count = 0
    with db:
        for path in sorted((content / "models").rglob("*.md")):
            text = path.read_text(encoding="utf-8")
            front, body = text.split("---", 2)[1:]
            meta = yaml.load(front, Loader=_LOADER)
            fields = [str(f) for f in meta.get("fields") or []]
            tags = [str(t) for t in meta.get("tags") or []]
            meta_text = " ".join([meta.get("unit") or "", meta.get("province") or "", *fields, *tags])
            cur = db.execute(
                "INSERT INTO docs (slug, title, summary, meta, body) VALUES (?, ?, ?, ?, ?)",
                (path.stem, meta["title"], meta["summary"], meta_text, body),
            )
            docid = cur.lastrowid
            db.execute(
                "INSERT INTO info VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (docid, meta.get("status", "published"), meta.get("year"), meta["title"], meta["summary"],
                 meta.get("unit"), meta.get("province"), json.dumps(fields, ensure_ascii=False)),
            )  # fmt: skip
            rows = [("field", f) for f in fields] + [("province", meta.get("province")), ("unit", meta.get("unit"))]
            rows.append(("year", str(meta.get("year") or "")))
            db.executemany("INSERT INTO facets VALUES (?, ?, ?)", [(docid, n, v) for n, v in rows if v])
            count += 1
        db.execute("CREATE INDEX facets_doc ON facets (docid)")
        db.execute("CREATE INDEX facets_value ON facets (name, value)")
    db.close()
    return count


def expression(query: str, joiner: str = " AND ") -> str:
    """Quote every word so user text is never FTS5 syntax; keep phrases and -exclusions."""
    positive, negative = [], []
    for minus, phrase, word in re.findall(r'(-?)"([^"]*)"|(-?\S+)', query):
        text = phrase if phrase else word
        excluded = bool(minus) or (word.startswith("-") and len(word) > 1)
        tokens = re.findall(r"\w+", text)
        if not tokens:
            continue
        quoted = ['"' + " ".join(tokens) + '"'] if phrase else [f'"{t}"' for t in tokens]
        (negative if excluded else positive).extend(quoted)
    found = joiner.join(positive)
    if found and negative:
        found = f"({found}) NOT ({' OR '.join(negative)})"
    return found


class Fts5Search:
    """Search like the site does: total, one page with snippets, and facet counts."""

    def __init__(self, db_path: Path) -> None:
        """Remember the database; each thread opens it read-only on first use."""
        self.path = db_path
        self._local = threading.local()

    @property
    def db(self) -> sqlite3.Connection:
        """Return this thread's connection: the server runs requests in threads, and a search
        uses a temporary table of its connection, so connections are never shared."""
        conn = getattr(self._local, "db", None)
        if conn is None:
            conn = self._local.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        return conn

    def search(self, query: str, filters: dict[str, list[str]], page: int = 1, per_page: int = 10) -> dict:
        """Every word first, any word if that finds nothing; filters, facets and one page."""
        for joiner in (" AND ", " OR "):
            found = self._run(query, joiner, filters, page, per_page)
            if found["total"] or not query.strip():
                return found
        return found

    def _run(self, query: str, joiner: str, filters, page: int, per_page: int) -> dict:
        """Run one form of the query."""
        match = expression(query, joiner)
        where, args = ["i.status = 'published'"], []
        for name, values in filters.items():
            marks = ",".join("?" * len(values))
            where.append(f"i.docid IN (SELECT docid FROM facets WHERE name = ? AND value IN ({marks}))")
            args += [name, *values]
        if match:
            base = f"SELECT i.docid, bm25(docs, 0, {WEIGHTS}) AS rank FROM docs JOIN info i ON i.docid = docs.rowid"
            base += " WHERE docs MATCH ? AND " + " AND ".join(where)
            args = [match, *args]
            order = "rank"
        else:
            base = "SELECT i.docid, 0 AS rank FROM info i WHERE " + " AND ".join(where)
            order = "i.year DESC, i.title"
        self.db.execute("DROP TABLE IF EXISTS temp.hits")
        self.db.execute("CREATE TEMP TABLE hits (docid INTEGER PRIMARY KEY, rank REAL)")
        self.db.execute(f"INSERT INTO temp.hits {base}", args)
        total = self.db.execute("SELECT count(*) FROM temp.hits").fetchone()[0]
        rows = self.db.execute(
            f"SELECT i.docid, i.title, i.summary, i.unit, i.province, i.fields, i.year FROM temp.hits h"
            f" JOIN info i ON i.docid = h.docid ORDER BY {order.replace('rank', 'h.rank')} LIMIT ? OFFSET ?",
            (per_page, (page - 1) * per_page),
        ).fetchall()
        snippets = {}
        if match and rows:
            marks = ",".join("?" * len(rows))
            snippets = dict(
                self.db.execute(
                    f"SELECT rowid, snippet(docs, 4, '<mark>', '</mark>', '…', 24) FROM docs"
                    f" WHERE docs MATCH ? AND rowid IN ({marks})",
                    [match, *[r[0] for r in rows]],
                ).fetchall()
            )
        facets = {
            name: self.db.execute(
                "SELECT value, count(*) c FROM facets f JOIN temp.hits h ON h.docid = f.docid"
                " WHERE f.name = ? GROUP BY value ORDER BY c DESC LIMIT 30",
                (name,),
            ).fetchall()
            for name in FACETS
        }
        return {
            "total": total,
            "results": [
                {
                    "title": r[1],
                    "summary": r[2],
                    "unit": r[3],
                    "province": r[4],
                    "fields": json.loads(r[5]),
                    "year": r[6],
                    "snippet": snippets.get(r[0], ""),
                }
                for r in rows
            ],
            "facets": facets,
        }
