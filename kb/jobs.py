"""Reindex in the background for the admin page: one job at a time, its progress in SQLite.

A job runs in its own process (``python -m kb.jobs ID CONTENT DATA``), started by a web
worker and detached from it: the rebuild forks worker processes of its own, which a
threaded web worker must not do, and it outlives a worker being recycled. Every web worker
reads the job's row, so any of them can show its progress.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterable, Iterator
from pathlib import Path

import sqlite_utils

from indexer.locks import file_lock

from .store import now_iso, open_db

__all__ = ["get_job", "last_job", "reap_later", "running_job", "start_reindex"]

UPDATE_EVERY_S = 0.25  # how often a running job writes its progress


def _alive(pid: int | None) -> bool:
    """Return True if a process with this id is running (and not a zombie)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z"):
            return False
    return True


def get_job(db: sqlite_utils.Database, job_id: int) -> dict | None:
    """Return a job's row (a running job whose process died is marked interrupted)."""
    row = next(db["jobs"].rows_where("id = ?", [job_id], limit=1), None)
    # Queued jobs get their pid within a moment of being created; allow for that.
    died = row and row["status"] in ("queued", "running") and not _alive(row["pid"])
    if died and (row["status"] == "running" or time.time() - _epoch(row["started_at"]) > 30):
        db["jobs"].update(row["id"], {"status": "interrupted", "finished_at": now_iso()})
        row = db["jobs"].get(row["id"])
    if row:
        row = dict(row)
        row["problems"] = json.loads(row["problems"] or "[]")
    return row


def _epoch(iso: str | None) -> float:
    """Return the Unix time of an ISO 8601 timestamp."""
    return dt.datetime.fromisoformat(iso).timestamp() if iso else 0.0


def running_job(db: sqlite_utils.Database) -> dict | None:
    """Return the job that is queued or running now, if any."""
    for (job_id,) in db.execute("SELECT id FROM jobs WHERE status IN ('queued', 'running') ORDER BY id").fetchall():
        job = get_job(db, job_id)
        if job and job["status"] in ("queued", "running"):
            return job
    return None


def last_job(db: sqlite_utils.Database) -> dict | None:
    """Return the most recent job."""
    row = db.execute("SELECT max(id) FROM jobs").fetchone()
    return get_job(db, row[0]) if row and row[0] else None


def start_reindex(content_dir: Path, data_dir: Path, requested_by: str) -> tuple[int, bool]:
    """Start a full reindex job unless one runs; return (job id, whether this call started it)."""
    db = open_db(data_dir)
    with file_lock(data_dir / "jobs.lock"):  # two admins clicking at once start one job
        running = running_job(db)
        if running:
            return running["id"], False
        job_id = db["jobs"].insert(
            {"kind": "reindex", "status": "queued", "phase": "Đang chuẩn bị", "done": 0, "total": 0,
             "requested_by": requested_by, "started_at": now_iso()}
        ).last_pk  # fmt: skip
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / f"job-{job_id}.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kb.jobs", str(job_id), str(content_dir), str(data_dir)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # not killed with the web worker that started it
        )
    db["jobs"].update(job_id, {"pid": proc.pid})
    reap_later(proc)
    return job_id, True


def reap_later(proc: subprocess.Popen) -> None:
    """Collect the job's exit status when it ends, so it never lingers as a zombie."""
    threading.Thread(target=proc.wait, daemon=True).start()


class _Progress:
    """The reindex progress callback: counts documents into the job's row, a few times a second."""

    def __init__(self, db: sqlite_utils.Database, job_id: int) -> None:
        self.db, self.job_id = db, job_id

    @contextlib.contextmanager
    def __call__(self, items: Iterable, total: int) -> Iterator[Iterable]:
        self.db["jobs"].update(self.job_id, {"phase": "Đang phân tích và lập chỉ mục", "total": total, "done": 0})
        yield self._count(items, total)

    def _count(self, items: Iterable, total: int) -> Iterator:
        last = 0.0
        for done, item in enumerate(items, 1):
            yield item
            if time.monotonic() - last > UPDATE_EVERY_S:
                self.db["jobs"].update(self.job_id, {"done": done})
                last = time.monotonic()
        self.db["jobs"].update(self.job_id, {"done": total, "phase": "Đang ghi chỉ mục"})


def run(job_id: int, content_dir: Path, data_dir: Path) -> int:
    """Run one reindex job to its end, recording the result; return the exit code."""
    from .catalog import reindex

    db = open_db(data_dir)
    db["jobs"].update(job_id, {"status": "running", "pid": os.getpid(), "phase": "Đang đọc các tệp"})
    started = time.perf_counter()
    try:
        # Entries saved while the rebuild runs are queued; reindex() takes them before it ends.
        report = reindex(content_dir, data_dir, full=True, progress=_Progress(db, job_id))
    except Exception as exc:  # recorded for the admin page; the previous index keeps serving
        db["jobs"].update(
            job_id,
            {"status": "failed", "finished_at": now_iso(), "seconds": time.perf_counter() - started,
             "summary": f"Lập chỉ mục thất bại: {exc}", "phase": "Thất bại"},
        )  # fmt: skip
        traceback.print_exc()
        return 1
    db["jobs"].update(
        job_id,
        {"status": "done", "finished_at": now_iso(), "seconds": time.perf_counter() - started, "phase": "Hoàn tất",
         "summary": report.summary(), "problems": json.dumps([str(p) for p in report.problems], ensure_ascii=False)},
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(run(int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])))
