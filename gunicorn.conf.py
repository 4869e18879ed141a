"""Production server settings (make serve / make run): sized for the machine's cores, safe with slow clients."""

import ctypes
import ctypes.util
import multiprocessing
import os
import time

bind = os.environ.get("KB_BIND", f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}")
# Search is CPU-bound pure Python: one process per core, plus one so a core never idles
# while another worker waits on disk. Each worker keeps its own index reader open.
workers = int(os.environ.get("WORKERS", multiprocessing.cpu_count() + 1))
# Threads, and no thread ever waits on the network (kb/server.py): an event loop per worker
# gathers each request head and only a whole request reaches a thread. With "sync" workers each
# worker waited on one client at a time, so three idle connections took the site down.
worker_class = "kb.server.HeadFirstWorker"
# Threads per worker: a slow request (a save waiting for a lock, an export) does not hold up the
# pages behind it in the same worker. Few: Python runs one thread at a time per worker, searches
# take turns on the worker's one index reader (indexer/storage.py, SEARCHES_AT_ONCE), and a worker
# with idle threads keeps taking requests that an idle worker would answer sooner. Measured with
# `make soak` (2026-12-02, 2 cores, 3 workers, 10 000 entries, 5 minutes each): p95 of 34-63 ms a
# minute with 1 thread, 53-74 ms with 2, 69-139 ms with 4.
threads = int(os.environ.get("THREADS", 2))
# Open connections per worker (idle ones cost a file descriptor and a small buffer, no thread).
worker_connections = 1000
# With threads, the master's timeout watches each worker's event loop, not its requests: a worker
# whose loop is stuck this long is restarted, but a request that runs long is no longer cut off,
# so the app must bound its own work. Against the network kb/server.py does: a request head must
# arrive within 10 s, and a thread drops a client that sends or takes nothing for 20 s.
timeout = 30
graceful_timeout = 10
# The longest request line gunicorn accepts (its maximum; the default, 4094, answered a search of
# about 450 Vietnamese characters, 4 KB once encoded, with an English "414"). The site itself
# shortens search words to 500 characters and refuses filters past its own bounds, in Vietnamese.
limit_request_line = 8190
# A browser reuses its connection for the page's CSS, script and next click; a kept-alive
# connection waits in the event loop, not in a thread, and is closed after 5 s of silence.
keepalive = 5
# Recycle workers now and then so memory stays bounded over months of uptime. Not too often:
# a fresh worker reads its index arrays and looks words up afresh (at 50 requests/s over three
# workers, 5 000 requests meant a restart every five minutes or so).
max_requests = 50000
max_requests_jitter = 5000
accesslog = os.environ.get("KB_ACCESS_LOG", "-") or None  # KB_ACCESS_LOG= (empty) turns it off
errorlog = "-"
control_socket_disable = True


def _limit_malloc_arenas(arenas: int = 2) -> None:
    """Let glibc keep at most this many memory arenas per process (inherited by the forked workers).

    glibc gives each thread that allocates its own arena and rarely hands freed memory back across
    them: in a ten-minute `make soak` (2026-12-02, 4 threads a worker) the workers' memory (PSS)
    rose from 1 108 to 1 377 MB; with two arenas it went from 895 to 999 MB (1 036 MB at most).
    The same as MALLOC_ARENA_MAX=2, set here so it holds however the server is started.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-8, arenas)  # M_ARENA_MAX
    except (OSError, AttributeError):  # not glibc: nothing to limit
        pass


_limit_malloc_arenas()


def on_starting(server):
    """Load the word segmenter in the master, then repair what a crash left, before any worker is forked.

    Every worker then shares the model (about 85 MB) instead of loading its own copy, a second of
    CPU, in the middle of the first save it handles. The repair (kb.catalog.recover) runs once,
    here, with no worker timeout over it: a server killed mid-save left a file newer than its row,
    and rows, index and history follow the file before anyone is served.
    """
    if os.environ.get("KB_PRELOAD_SEGMENTER", "1") != "0":  # "0": e.g. the benchmark's FTS5 server
        _load_segmenter(server)
    from kb import create_app
    from kb.web.resources import recover_at_start

    started = time.monotonic()
    recover_at_start(create_app())
    server.log.info("Entries checked against the database in %.1f s", time.monotonic() - started)


def _load_segmenter(server):
    """Load underthesea's model now; a failure is logged, and a worker loads it at its first save."""
    from indexer.analysis import load_segmenter

    started = time.monotonic()
    try:
        load_segmenter()
    except Exception:  # the site still serves
        server.log.exception("Loading the word segmenter failed")
        return
    server.log.info("Word segmenter loaded in %.1f s", time.monotonic() - started)


def post_worker_init(worker):
    """Warm each new worker (index reader, arrays, the most searched words) before it serves."""
    from kb.web.resources import warm_up

    started = time.monotonic()
    try:
        # Within half the timeout, with heartbeats: the master kills a worker silent for longer.
        ran = warm_up(worker.wsgi, budget=timeout / 2, notify=worker.notify)
    except Exception:  # a cold worker still serves: never keep it from starting
        worker.log.exception("Warming up the worker failed")
        return
    worker.log.info("Worker warmed up with %d searches in %.1f s", ran, time.monotonic() - started)


_sync_loop = None


def when_ready(server):
    """With KB_GIT_REMOTE and KB_SYNC_INTERVAL set, sync in the background every that many seconds.

    A process of its own (`kb sync --every N`), not a thread of the master: a sync reindexes, which
    forks workers of its own. One sync at a time across processes (its lock), so "Đồng bộ ngay"
    on /admin and `kb sync` by hand wait for it.
    """
    global _sync_loop
    interval = os.environ.get("KB_SYNC_INTERVAL", "").strip()
    if not (os.environ.get("KB_GIT_REMOTE", "").strip() and interval.isdigit() and int(interval) > 0):
        return
    import subprocess
    import sys

    _sync_loop = subprocess.Popen([sys.executable, "-m", "kb", "sync", "--every", str(max(10, int(interval)))])
    server.log.info("Background sync every %s s (process %d)", interval, _sync_loop.pid)


def on_exit(server):
    """Stop the background sync with the server."""
    if _sync_loop is not None and _sync_loop.poll() is None:
        _sync_loop.terminate()
