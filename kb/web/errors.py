"""Error pages: a clear Vietnamese page (or JSON under /api/), never a traceback."""

from __future__ import annotations

import logging
import sqlite3

from flask import Flask, make_response, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from ..store import StoreBusy
from .params import SearchParams, SearchTooLarge
from .resources import BUSY

__all__ = ["init_app"]

log = logging.getLogger(__name__)


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
    if exc.code == 413 and (limit := request.max_content_length):
        message = (f"Dữ liệu gửi lên quá lớn: tối đa {limit / 1048576:.0f} MB mỗi lần gửi. Chưa có gì được lưu; "
                   "hãy quay lại, bớt tệp (hoặc gửi làm nhiều lần) rồi gửi lại.")  # fmt: skip
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


def init_app(app: Flask) -> None:
    """Answer HTTP errors, searches past the bounds and unexpected errors with a page of their own."""
    app.register_error_handler(HTTPException, _error_page)
    app.register_error_handler(SearchTooLarge, _search_too_large)
    app.register_error_handler(Exception, _server_error)
