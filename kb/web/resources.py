"""What every request shares: the database, the search index and the vocabulary; readying them."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import sqlite_utils
from flask import Flask, current_app, g

from indexer import IndexMissing, SearchIndex

from ..catalog import index_dir, recover
from ..stats import most_searched
from ..store import open_db
from ..vocabulary import Vocabulary, load_vocabulary

__all__ = ["BUSY", "get_db", "get_index", "get_vocabulary", "init_app", "recover_at_start", "warm_up"]

log = logging.getLogger(__name__)

BUSY = "Hệ thống đang bận ghi dữ liệu khác. Không có gì bị mất hay bị thay đổi; vui lòng thử lại sau vài giây."


def get_db() -> sqlite_utils.Database:
    """Return this request's SQLite database, opening it on first use."""
    if "db" not in g:
        g.db = open_db(current_app.config["KB_DATA_DIR"])
    return g.db


def get_index() -> SearchIndex:
    """Return the app's search index (one object per process; searchers per thread)."""
    return current_app.extensions["kb_index"]


def get_vocabulary() -> Vocabulary:
    """Return the vocabulary the app loaded from content/ (province names, synonyms…)."""
    return current_app.extensions["kb_vocabulary"]


def close_db(_exc: BaseException | None = None) -> None:
    """Close the database at the end of the request."""
    db = g.pop("db", None)
    if db is not None:
        db.conn.close()


def init_app(app: Flask) -> None:
    """Load the vocabulary, open the search index, and close each request's database after it."""
    vocab = load_vocabulary(app.config["KB_CONTENT_DIR"])
    for problem in vocab.problems:
        app.logger.warning("%s", problem)
    app.extensions["kb_vocabulary"] = vocab
    app.extensions["kb_index"] = SearchIndex(index_dir(app.config["KB_DATA_DIR"]), vocab.thesaurus, vocab.regions)
    app.teardown_appcontext(close_db)


def recover_at_start(app: Flask) -> None:
    """Repair what a crash may have left before this process serves (see kb.catalog.recover)."""
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
        rows = most_searched(db, queries)
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
