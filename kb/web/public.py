"""Public pages: the home page, search, reading an entry, the statistics, the Atom feed and its guide."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, g, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import iter_multi_items

from indexer import SearchResults

from ..catalog import heal_entry
from ..drafts import STATUS_LABELS, transitions
from ..editing import file_state, open_proposals
from ..entries import STATUSES
from ..export import recently_published
from ..media import describe as describe_media
from ..replications import adopted_by_same_units, evidence_level, ledger_stats, list_replications
from ..stats import all_tables
from ..store import get_entry, log_search, newest_entries, now_iso
from .formats import csv_download, render_xml
from .forms import SimpleForm
from .params import FACET_LABELS, SearchParams
from .resources import get_db, get_index, get_vocabulary
from .search import related_published, search_published

bp = Blueprint("public", __name__)
URL_SAFE = "!$'()*,/:;?@"  # what werkzeug's URL building leaves unescaped in a query string

FEED_SIZE = 30
SORT_LABELS = {"relevance": "Phù hợp nhất", "replicated": "Nhân rộng nhiều nhất", "newest": "Mới nhất"}


def run_search(params: SearchParams) -> SearchResults | None:
    """Search published entries with the app's index; None when no index has been built yet."""
    return search_published(get_index(), get_db(), params, current_app.config["KB_RESULT_CACHE"])


def search_url(args: dict[str, object]) -> str:
    """Return the search page's URL with these arguments, as url_for writes it.

    A search page links to well over a hundred variants of itself (each facet value on or
    off); building each through the URL map cost about 5 ms a page.
    """
    base = g.get("search_base")
    if base is None:
        base = g.search_base = url_for(".search")
    items = [(k, str(v)) for k, v in iter_multi_items(args) if v is not None]
    return f"{base}?{urlencode(items, safe=URL_SAFE)}" if items else base


def facet_groups(params: SearchParams, results: SearchResults) -> list[dict]:
    """Describe each facet for the template: its values, counts, state and toggle links."""
    groups = []
    for name, label in FACET_LABELS.items():
        chosen = params.filters.get(name, [])
        values = [
            {"value": v, "count": n, "selected": v in chosen, "url": search_url(params.toggled(name, v))}
            for v, n in results.facets.get(name, [])
        ]
        # A chosen value with no match left still shows, so it can be switched off.
        values += [
            {"value": v, "count": 0, "selected": True, "url": search_url(params.toggled(name, v))}
            for v in chosen
            if v not in {x["value"] for x in values}
        ]
        if values:
            groups.append({"name": name, "label": label, "values": values})
    return groups


@bp.get("/")
def home():
    """Show the search box, the newest models and the fields to browse."""
    results = run_search(SearchParams("", {}, 1, 1))
    fields = results.facets.get("field", []) if results else []
    return render_template(
        "home.html",
        newest=newest_entries(get_db()),
        fields=fields,
        total=results.total if results else 0,
        index_missing=results is None,
    )


@bp.get("/search")
def search():
    """Show one page of results with facets, or help when nothing matched."""
    params = SearchParams.from_args(request.args, current_app.config["KB_PER_PAGE"], 50)
    results = run_search(params)
    without_filters = None
    partial = results is not None and (results.total == 0 or results.relaxed or results.corrected)
    if partial and params.filters and params.q:
        # Filters may be what hides the entries that have every word: say how many there are.
        unfiltered = run_search(SearchParams(params.q, {}, 1, 1))
        if unfiltered and unfiltered.total and not (unfiltered.relaxed or unfiltered.corrected):
            without_filters = unfiltered
    empty_kb, browse = False, []
    if results is not None and results.total == 0:
        # No entry published at all (a new unit's first days), or just no match? If no match on a
        # topic, offer the fields to browse instead (counted over every entry).
        everything = results if not (params.q or params.filters) else run_search(SearchParams("", {}, 1, 1))
        empty_kb = everything is not None and everything.total == 0
        if params.q and not empty_kb and everything is not None:
            fields = everything.facets.get("field", [])
            browse = [{"value": v, "count": n, "url": search_url({"field": v})} for v, n in fields]
    if results is not None:
        log_search(
            current_app.config["KB_DATA_DIR"], params, results, current_app.config["KB_SEARCH_LOG_RETENTION_DAYS"]
        )
    return render_template(
        "search.html",
        empty_kb=empty_kb,
        sorts=[
            {
                "label": label,
                "current": key == params.sort,
                "url": search_url(params.args(sort=None if key == "relevance" else key)),
            }
            for key, label in SORT_LABELS.items()
        ],
        params=params,
        results=results,
        facets=facet_groups(params, results) if results else [],
        chosen=[
            {"label": FACET_LABELS[n], "value": v, "url": search_url(params.toggled(n, v))}
            for n, vs in params.filters.items()
            for v in vs
        ],
        without_filters=without_filters,
        browse=browse,
        page_url=lambda page: search_url(params.args(page=page)),
    )


@bp.get("/models/<slug>")
def entry(slug: str):
    """Show one published entry, rendered, with its metadata and source."""
    # Drafts, entries in review and archived ones exist for editors and admins only.
    editor = current_user.is_authenticated and current_user.is_editor
    statuses = STATUSES if editor else ("published",)
    row = get_entry(get_db(), slug, statuses)
    if row is not None and heal_entry(current_app.config["KB_CONTENT_DIR"], current_app.config["KB_DATA_DIR"], row):
        row = get_entry(get_db(), slug, statuses)  # the file had changed on disk: as it is now
    if row is None:
        abort(404)
    workflow = None
    if editor:
        state = file_state(current_app.config["KB_CONTENT_DIR"], get_db(), slug)
        workflow = {
            "base_hash": state[1] if state else "",
            "transitions": transitions(row["status"], current_user.role),
            "form": SimpleForm(),
            "label": STATUS_LABELS.get(row["status"], row["status"]),
            "proposals": open_proposals(get_db(), slug),
        }
    related = related_published(get_index(), get_db(), slug)
    region = get_vocabulary().region(row["province"])
    replications = list_replications(get_db(), slug)
    units, completed = ledger_stats(get_db(), slug).get(slug, (0, False))
    return render_template(
        "entry.html", entry=row, related=related, region=region, workflow=workflow, replications=replications,
        units=units, level=evidence_level(units, completed), adopted_too=adopted_by_same_units(get_db(), slug),
        delete_form=SimpleForm() if editor else None,  # readers get no token, hence no cookie
        printed_on=date.today().strftime("%d/%m/%Y"),  # the print brief's date; print-date.js updates it
        files=describe_media(current_app.config["KB_CONTENT_DIR"], slug, row.get("attachments") or []),
    )  # fmt: skip


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
    tables = all_tables(get_db(), get_vocabulary())
    return render_template("statistics.html", tables=tables, charts={t.name: chart(t) for t in tables})


@bp.get("/thong-ke/<name>.csv")
def statistics_csv(name: str):
    """One statistics table as CSV, for a spreadsheet."""
    table = next((t for t in all_tables(get_db(), get_vocabulary()) if t.name == name), None)
    if table is None:
        abort(404)
    return csv_download(f"thong-ke-{table.name}.csv", table.columns, table.rows)


@bp.get("/du-lieu")
def formats():
    """Explain the feed, the JSON export and the statistics' CSV files, with their addresses."""
    tables = [(t.name, t.title) for t in all_tables(get_db(), get_vocabulary())]
    return render_template("formats.html", tables=tables)


@bp.get("/feed.xml")
def feed():
    """An Atom feed of the models most recently published."""
    rows = recently_published(get_db(), FEED_SIZE)
    updated = max((r["updated_at"] or r["published_at"] or "" for r in rows), default="") or now_iso()
    return Response(render_xml("feed.xml", rows=rows, updated=updated), mimetype="application/atom+xml")
