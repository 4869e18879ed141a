"""A minimal JSON search service over the FTS5 database, served like the site for the HTTP runs."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, request
from fts5 import FACETS, Fts5Search

app = Flask(__name__)
engine = Fts5Search(Path(os.environ["BENCH_FTS5_DB"]))


@app.get("/api/search")
def search():
    """Answer like /api/search of the site."""
    filters = {n: request.args.getlist(n) for n in FACETS if request.args.getlist(n)}
    page = max(1, int(request.args.get("page") or 1))
    return engine.search(request.args.get("q") or "", filters, page)
