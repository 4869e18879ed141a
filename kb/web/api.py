"""The JSON API: search and read entries, and export every published one."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, current_app, request, url_for

from ..export import published_export
from ..store import get_entry, log_search, now_iso
from .params import SearchParams
from .resources import get_db, get_index, get_vocabulary
from .search import search_published, suggest_published

bp = Blueprint("api", __name__, url_prefix="/api")


def _entry_url(slug: str) -> str:
    """Return the full address of an entry's page."""
    return url_for("public.entry", slug=slug, _external=True)


@bp.get("/search")
def search():
    """Return one page of search results with facet counts as JSON."""
    params = SearchParams.from_args(request.args, current_app.config["KB_PER_PAGE"], 100)
    results = search_published(get_index(), get_db(), params, current_app.config["KB_RESULT_CACHE"])
    if results is None:
        return {"error": "Chưa có chỉ mục tìm kiếm; cần chạy 'flask --app app kb reindex'.", "status": 503}, 503
    log_search(current_app.config["KB_DATA_DIR"], params, results, current_app.config["KB_SEARCH_LOG_RETENTION_DAYS"])
    return {
        "query": results.query,
        "total": results.total,
        "page": results.page,
        "per_page": results.per_page,
        "relaxed": results.relaxed,
        "corrected": results.corrected,
        "suggestion": results.suggestion,
        # After a typo was corrected or keyboard keys were read as Vietnamese: the query as typed,
        # and what was searched instead; else null.
        "corrected_from": params.q if results.corrected or results.decoded else None,
        "searched_for": results.searched_for,
        "results": [
            {
                "slug": h.slug,
                "title": h.title,
                "url": _entry_url(h.slug),
                "summary": h.summary,
                "snippet": h.snippet_html,
                "found_in": h.found_in or None,
                "unit": h.unit,
                "province": h.province,
                "fields": list(h.fields),
                "year": h.year,
                "score": h.score,
                "matched": [w for w in results.words if w not in h.missing],
                "missing": list(h.missing),
                "level": h.level,
                "units_adopted": h.adopted,
            }
            for h in results.hits
        ],
        "facets": {name: [{"value": v, "count": n} for v, n in values] for name, values in results.facets.items()},
        # Nothing found: the closest entries, offered as suggestions, not as results.
        "closest": [{"slug": slug, "title": title, "url": _entry_url(slug)} for slug, title in results.near],
    }


@bp.get("/models/<slug>")
def model(slug: str):
    """Return one published entry as JSON, with its body rendered to HTML."""
    row = get_entry(get_db(), slug)
    if row is None:
        abort(404)
    keys = ("slug", "title", "summary", "unit", "province", "fields", "tags", "year", "status", "source", "contact")
    return {
        **{k: row[k] for k in keys},
        "url": _entry_url(slug),
        "body_html": row["body_html"],
        "updated_at": row["updated_at"],
    }


@bp.get("/suggest")
def suggest():
    """Return up to 8 published titles whose words start like the query, for search as you type."""
    query = (request.args.get("q") or "").strip()[:200]
    found = suggest_published(get_index(), get_db(), query, limit=8)
    return {
        "query": query,
        "suggestions": [
            {"slug": slug, "title": title, "url": url_for("public.entry", slug=slug)} for slug, title in found
        ],
    }


def _media_url(slug: str, name: str) -> str:
    return url_for("media.media", slug=slug, name=name, _external=True)


@bp.get("/export")
def export():
    """Every published entry with its replications, as JSON."""
    entries = published_export(get_db(), get_vocabulary(), _entry_url, _media_url)
    body = json.dumps({"generated_at": now_iso(), "count": len(entries), "entries": entries}, ensure_ascii=False)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": 'inline; filename="kho-mo-hinh-hay.json"'},
    )
