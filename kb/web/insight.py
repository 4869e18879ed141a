"""What the knowledge base says about itself: statistics, the search log, a feed and an export."""

from __future__ import annotations

import csv
import io
import json
import re

from flask import Blueprint, Response, abort, current_app, render_template, url_for
from markupsafe import Markup

from ..replications import evidence_level, ledger_stats
from ..stats import all_tables
from ..store import decode_row, now_iso
from .auth import role_required
from .resources import get_db, get_vocabulary

bp = Blueprint("insight", __name__)

FEED_SIZE = 30
TOP_QUERIES = 30
# Everything outside XML 1.0's Char production: C0 controls but tab, LF and CR; lone surrogates;
# U+FFFE and U+FFFF. One of them anywhere makes the whole document unreadable to a feed reader.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _tables():
    return all_tables(get_db(), get_vocabulary())


def chart(table, width: int = 640, bar: int = 26, gap: int = 8, label_width: int = 230) -> dict:
    """Lay out a horizontal bar chart of a table as SVG geometry (drawn by the template)."""
    rows = table.rows
    top = max((n for _label, n in rows), default=0) or 1
    plot = width - label_width - 60
    bars = []
    for i, (label, count) in enumerate(rows):
        y = i * (bar + gap)
        short = label if len(label) <= 32 else label[:31] + "…"
        bars.append({"label": label, "short": short, "count": count, "y": y, "w": max(2, round(plot * count / top))})
    return {"width": width, "height": max(1, len(rows)) * (bar + gap), "bar": bar, "x": label_width, "bars": bars}


@bp.get("/thong-ke")
def statistics():
    """Published entries by field, province and year; replications over time; the most replicated."""
    tables = _tables()
    return render_template("statistics.html", tables=tables, charts={t.name: chart(t) for t in tables})


@bp.get("/thong-ke/<name>.csv")
def statistics_csv(name: str):
    """One statistics table as CSV (UTF-8 with a byte-order mark, so spreadsheets read the diacritics)."""
    table = next((t for t in _tables() if t.name == name), None)
    if table is None:
        abort(404)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.columns)
    writer.writerows((_cell(label), count) for label, count in table.rows)
    return Response(
        "\ufeff" + out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="thong-ke-{table.name}.csv"'},
    )


def _cell(text: str) -> str:
    """Keep a spreadsheet from reading a label as a formula (a title could start with '=')."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def xml_safe(text: str) -> str:
    """Remove the characters XML 1.0 forbids (control characters from Word or a terminal, NUL…)."""
    return _NOT_XML_CHAR.sub("", text)


def _xml_output(value: object) -> object:
    """Make every {{ … }} of an XML template XML-safe, keeping text already marked safe as such."""
    if not isinstance(value, str):
        return value
    cleaned = xml_safe(value)
    return Markup(cleaned) if isinstance(value, Markup) else cleaned


def render_xml(name: str, **context) -> str:
    """Render an XML template: every value written is cleaned, so no field can be forgotten."""
    app = current_app._get_current_object()
    env = app.extensions.get("kb_xml_templates")
    if env is None:  # the app's environment (loader, filters, url_for), finalising each output
        env = app.extensions["kb_xml_templates"] = app.jinja_env.overlay(finalize=_xml_output)
    app.update_template_context(context)
    return env.get_template(name).render(context)


@bp.get("/feed.xml")
def feed():
    """An Atom feed of the models most recently published."""
    rows = [
        decode_row(r)
        for r in get_db().query(
            "SELECT * FROM entries WHERE status = 'published' ORDER BY coalesce(published_at, updated_at) DESC, "
            "title LIMIT ?",
            [FEED_SIZE],
        )
    ]
    updated = max((r["updated_at"] or r["published_at"] or "" for r in rows), default="") or now_iso()
    xml = render_xml("feed.xml", rows=rows, updated=updated)
    return Response(xml, mimetype="application/atom+xml")


@bp.get("/api/export")
def export():
    """Every published entry with its replications, as JSON."""
    db = get_db()
    ledger = ledger_stats(db)
    records: dict[str, list[dict]] = {}
    for r in db.query("SELECT * FROM replications ORDER BY slug, start_date = '', start_date DESC, id DESC"):
        records.setdefault(r["slug"], []).append(
            {
                k: r[k]
                for k in (
                    "unit",
                    "province",
                    "start_date",
                    "status",
                    "adapted",
                    "result",
                    "contact",
                    "created_at",
                    "updated_at",
                )
            }
        )
    entries = []
    for row in db.query("SELECT * FROM entries WHERE status = 'published' ORDER BY slug"):
        row = decode_row(row)
        units, completed = ledger.get(row["slug"], (0, False))
        entries.append(
            {
                **{k: row[k] for k in ("slug", "title", "summary", "unit", "province", "fields", "tags", "year",
                                       "source", "contact", "body_html", "body_text", "updated_at", "published_at")},
                "url": url_for("public.entry", slug=row["slug"], _external=True),
                "region": get_vocabulary().region(row["province"]),
                "evidence_level": evidence_level(units, completed),
                "units_adopted": units,
                "replications": records.get(row["slug"], []),
            }
        )  # fmt: skip
    body = json.dumps({"generated_at": now_iso(), "count": len(entries), "entries": entries}, ensure_ascii=False)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": 'inline; filename="kho-mo-hinh-hay.json"'},
    )


@bp.get("/admin/searches")
@role_required("admin")
def searches():
    """The most frequent searches, and the most frequent ones that found nothing (models to write)."""
    db = get_db()
    query = (
        "SELECT query, count(*) AS n, max(at) AS last, max(results) AS best FROM search_log "
        "WHERE query != '' GROUP BY query {having} ORDER BY n DESC, last DESC LIMIT ?"
    )
    frequent = list(db.query(query.format(having=""), [TOP_QUERIES]))
    # Never found anything: what people need that nobody has written yet.
    missing = list(db.query(query.format(having="HAVING max(results) = 0"), [TOP_QUERIES]))
    # Found only once a typo was corrected: worth a synonym, or a word in the entry itself.
    corrected = list(
        db.query(
            "SELECT query, corrected, count(*) AS n, max(at) AS last FROM search_log WHERE corrected IS NOT NULL"
            " AND corrected != '' GROUP BY query, corrected ORDER BY n DESC, last DESC LIMIT ?",
            [TOP_QUERIES],
        )
    )
    total = db["search_log"].count
    return render_template("admin/searches.html", frequent=frequent, missing=missing, corrected=corrected, total=total)
