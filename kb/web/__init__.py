"""Web layer: one blueprint per audience, and the resources the views share."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable

from flask import Flask, current_app, g, make_response, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from indexer import IndexMissing, SearchIndex

from ..catalog import index_dir
from ..store import StoreBusy, open_db
from ..vocabulary import load_vocabulary
from .params import SearchParams, SearchTooLarge

__all__ = ["get_db", "get_index", "init_app", "recover_at_start", "warm_up"]

log = logging.getLogger(__name__)


def get_db():
    """Return this request's SQLite database, opening it on first use."""
    if "db" not in g:
        g.db = open_db(current_app.config["KB_DATA_DIR"])
    return g.db


def get_index() -> SearchIndex:
    """Return the app's search index (one object per process; searchers per thread)."""
    return current_app.extensions["kb_index"]


def _close_db(_exc: BaseException | None = None) -> None:
    """Close the database at the end of the request."""
    db = g.pop("db", None)
    if db is not None:
        db.conn.close()


def _wants_json() -> bool:
    """Return True for requests to the JSON API."""
    return request.path.startswith("/api/")


def _error_page(exc: HTTPException):
    """Answer an HTTP error with a Vietnamese page, or JSON under /api/."""
    messages = {
        401: "Vui lòng đăng nhập để tiếp tục.",
        403: "Tài khoản của bạn không có quyền làm việc này.",
        404: "Không tìm thấy trang này.",
        405: "Phương thức không được hỗ trợ.",
        413: "Dữ liệu gửi lên quá lớn.",
        429: "Có quá nhiều yêu cầu; vui lòng thử lại sau ít phút.",
    }
    message = messages.get(exc.code or 500, "Yêu cầu không hợp lệ.")
    if _wants_json():
        return {"error": message, "status": exc.code}, exc.code
    return render_template("error.html", code=exc.code, message=message), exc.code


def _search_too_large(exc: SearchTooLarge):
    """Refuse a search past the filter bounds: say why, and offer it again without filters."""
    if _wants_json():
        return {"error": exc.message, "status": 400}, 400
    retry = SearchParams(exc.query, {}, 1, 1)
    return render_template(
        "error.html", code=400, message=exc.message, params=retry, retry_url=url_for("public.search", **retry.args())
    ), 400


BUSY = "Hệ thống đang bận ghi dữ liệu khác. Không có gì bị mất hay bị thay đổi; vui lòng thử lại sau vài giây."


def _server_error(exc: Exception):
    """Log an unexpected error and answer with a Vietnamese page, never a traceback.

    A database kept locked by another process (a long reindex, a backup, a hand-run query) is
    no error of the site's: the request is answered "busy, try again" (503), not 500.
    """
    if isinstance(exc, StoreBusy) or (isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)):
        log.warning("Database busy on %s: %s", request.path, exc)
        code, message = 503, BUSY
    else:
        log.exception("Unhandled error on %s", request.path, exc_info=exc)
        code, message = 500, "Đã có lỗi trong hệ thống. Vui lòng thử lại sau."
    if _wants_json():
        response = make_response({"error": message, "status": code}, code)
    else:
        response = make_response(render_template("error.html", code=code, message=message), code)
    if code == 503:
        response.headers["Retry-After"] = "5"
    return response


def _user_context() -> dict:
    """Give every template the sign-out form (its CSRF token) for the header."""
    from flask_login import current_user

    from .forms import SimpleForm

    # Only for people signed in: a token would give every reader a session cookie.
    return {"signout_form": SimpleForm() if current_user.is_authenticated else None}


# Every asset is served by the site itself: nothing else may load, run or frame a page.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def _secure_headers(response):
    """Add the security headers to every response."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    """Register the blueprints, the shared resources and the error pages."""
    from . import admin, api, editor, insight, ledger, public
    from .auth import init_auth

    vocab = load_vocabulary(app.config["KB_CONTENT_DIR"])
    for problem in vocab.problems:
        app.logger.warning("%s", problem)
    app.extensions["kb_vocabulary"] = vocab
    app.extensions["kb_index"] = SearchIndex(index_dir(app.config["KB_DATA_DIR"]), vocab.thesaurus, vocab.regions)
    app.teardown_appcontext(_close_db)
    app.after_request(_secure_headers)
    init_auth(app)
    app.register_blueprint(public.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(editor.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(ledger.bp)
    app.register_blueprint(insight.bp)
    app.context_processor(_user_context)
    app.register_error_handler(HTTPException, _error_page)
    app.register_error_handler(SearchTooLarge, _search_too_large)
    app.register_error_handler(Exception, _server_error)


def recover_at_start(app: Flask) -> None:
    """Repair what a crash may have left before this process serves (see kb.catalog.recover)."""
    from ..catalog import recover

    try:
        report = recover(app.config["KB_CONTENT_DIR"], app.config["KB_DATA_DIR"])
    except Exception:  # a process that cannot repair still serves the last good versions
        log.exception("Checking the entries against the database at start failed")
        return
    if report is not None and (report.added or report.updated or report.removed):
        log.warning("Entries found changed on disk at start and brought up to date: %s", report.summary())


def warm_up(
    app: Flask, queries: int = 20, budget: float | None = None, notify: Callable[[], None] | None = None
) -> int:
    """Ready a fresh server process before it takes requests; return the searches it ran.

    It opens the index reader, reads the per-version arrays and looks up what officers searched
    for most, so the first visitors after a (re)start do not wait for that. Without an index
    (or a search log) there is nothing to warm; that is never an error. It stops once budget
    seconds have passed, and calls notify between searches (gunicorn's heartbeat: a worker that
    stays silent past the server's timeout is killed).
    """
    started = time.monotonic()
    notify = notify or (lambda: None)
    index = app.extensions["kb_index"]
    cache = app.config["KB_RESULT_CACHE"]
    try:
        index.search("", cache=cache)
    except IndexMissing:
        return 0
    db = open_db(app.config["KB_DATA_DIR"])
    try:
        rows = db.execute(
            "SELECT query FROM search_log WHERE query != '' GROUP BY query ORDER BY count(*) DESC, query LIMIT ?",
            [queries],
        ).fetchall()
    finally:
        db.conn.close()
    ran = 1
    for (query,) in rows:
        notify()
        if budget is not None and time.monotonic() - started > budget:
            break
        index.search(query, cache=cache)
        ran += 1
    return ran
