"""One site's sync with the shared repository: git's sync (kb.gitsync) wired to this site.

A conflict's losing entry becomes a proposal, what changed is reindexed, broken vocabulary files
are held back, ledger records made before the ledger was kept in files join them first (so that
they travel too), and a sync with something to say leaves an audit line, which outlives the last
report. "Đồng bộ ngay" on /admin runs it in a process of its own (``python -m kb.sharing``), so
that a slow link never holds a web request.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import yaml

from indexer import normalize_text

from . import gitsync
from .audit import audit
from .catalog import reindex
from .drafts import read_draft
from .editing import propose_from_sync
from .entries import Problem, load_fields
from .jobs import reap_later
from .replications import export_rows
from .store import StoreBusy, content_lock, open_db
from .vocabulary import vocabulary_errors

__all__ = ["start_sync", "sync_site"]

log = logging.getLogger(__name__)
ACTOR = "(đồng bộ)"
CHANGED_LISTED = 50  # changed files named in a sync's audit line (a site joining brings thousands)


def sync_site(content_dir: Path, data_dir: Path) -> gitsync.SyncReport:
    """Sync this site with KB_GIT_REMOTE now (after any sync already running) and return its report."""
    db = open_db(data_dir)
    if (content_dir / "models").is_dir():  # an empty folder joins by cloning: nothing of its own to write
        with content_lock(data_dir, wait=None):
            export_rows(content_dir, db)
    previous = gitsync.last_report(data_dir)
    report = gitsync.sync(
        content_dir,
        data_dir,
        on_conflict=lambda rel, mine, theirs, author: propose_from_sync(db, rel, mine, theirs, author),
        reindex=lambda _rels, origin: gitsync.errors(reindex(content_dir, data_dir, origin=origin).problems),
        vet=lambda folder: _vet(folder, db),
    )
    failed_again = not report.ok and previous is not None and not previous.ok  # weeks offline: one line
    if report.changed or report.conflicts or report.notes or report.rejected or not (report.ok or failed_again):
        try:
            audit(db, ACTOR, "sync", gitsync.remote(), _detail(report))
        except StoreBusy:  # the sync is done and its report kept: the line is not worth failing it for
            log.warning("The audit line of a sync was not written (database busy): %s", report.summary())
    return report


def _vet(content_dir: Path, db) -> list[Problem]:
    """Return the errors of the vocabulary files, and fields that entries here use but fields.yml lost.

    A field taken out of fields.yml while entries still use it would take those entries out of
    search on every site: the change is held back like a broken file, until the entries move on.
    """
    problems = vocabulary_errors(content_dir)
    if any(p.path == "fields.yml" for p in problems):
        return problems
    allowed = {normalize_text(f).casefold() for f in load_fields(content_dir / "fields.yml")}
    users: dict[str, list[str]] = {}
    for slug, fields, path in db.execute("SELECT slug, fields, path FROM entries ORDER BY slug").fetchall():
        lost = [name for name in json.loads(fields or "[]") if normalize_text(name).casefold() not in allowed]
        if lost and (lost := _still_used(content_dir / path, lost, allowed)):  # the file may have moved on
            for name in lost:
                users.setdefault(name, []).append(slug)
    for name, slugs in sorted(users.items()):
        message = f"thiếu lĩnh vực '{name}' mà {len(slugs)} mục đang dùng (như {slugs[0]})"
        problems.append(Problem("fields.yml", 1, message + ": hãy đổi lĩnh vực của các mục đó trước"))
    return problems


def _still_used(path: Path, lost: list[str], allowed: set[str]) -> list[str]:
    """Return the fields of lost that the entry's file still lists (none if it cannot be read now)."""
    try:
        listed = read_draft(path.read_bytes())[0].fields
    except (OSError, ValueError, yaml.YAMLError):
        return []
    now = {normalize_text(name).casefold() for name in listed} - allowed
    return [name for name in lost if normalize_text(name).casefold() in now]


def _detail(report: gitsync.SyncReport) -> str:
    """Return what the audit log keeps of a sync: its summary and every file that needs a look."""
    lines = [report.summary()]
    lines += [f"{rel}: bản ở đây thành bản sửa chờ duyệt" for rel in report.conflicts]
    lines += [f"Thay đổi: {rel}" for rel in report.changed[:CHANGED_LISTED]]
    if len(report.changed) > CHANGED_LISTED:
        lines.append(f"… và {len(report.changed) - CHANGED_LISTED} tệp khác")
    lines += report.notes
    lines += [f"{r['path']}: {r['message']} (lần ghi {r['commit']} của {r['author'] or 'không rõ'})"
              for r in report.rejected]  # fmt: skip
    return "\n".join(lines)


def start_sync(content_dir: Path, data_dir: Path) -> bool:
    """Start a sync in a process of its own; return False if one is running already."""
    if gitsync.running(data_dir):
        return False
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / "sync.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kb.sharing", str(content_dir), str(data_dir)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # not stopped with the web worker that started it
        )
    reap_later(proc)
    return True


if __name__ == "__main__":
    print(sync_site(Path(sys.argv[1]), Path(sys.argv[2])).summary(), flush=True)
