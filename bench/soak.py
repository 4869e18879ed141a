"""A bounded soak: searches, page views and saves against the production server, minute by minute.

Run with `make soak` (10 minutes over the 10 000-entry benchmark corpus) or
`python bench/soak.py --minutes 2 --size 1000`. It copies the corpus and its index, starts
gunicorn, warms every worker, measures the unloaded p95 with one client, then holds about 50
requests/s of mixed searches, search pages and entry pages while an admin saves an entry every
30 s through the edit form, and checks each save is found by search. Each minute it records
throughput, latency, errors, the workers' memory and open file descriptors. The report goes to
bench/SOAK.md. It measures; it never fails because the machine was slow.

The unloaded p95 is measured the way each loaded connection sends: one request, a pause, the
next. It is also measured with requests sent back to back, and both are reported: on a
virtual machine a search right after an idle stretch can take several times as long as one
in a busy stream (the report measures that in-process too), so back to back is a hot-processor
figure, not a lone user's.
"""

from __future__ import annotations

import argparse
import html
import http.cookiejar
import os
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

import corpus  # noqa: E402
import run  # noqa: E402
from queries import QUERIES  # noqa: E402

from indexer import SearchIndex  # noqa: E402
from kb.accounts import create_user  # noqa: E402
from kb.catalog import index_dir, reindex  # noqa: E402
from kb.store import open_db  # noqa: E402
from kb.vocabulary import load_vocabulary  # noqa: E402

PASSWORD = "mat-khau-soak-123"
SAVE_EVERY_S = 30.0  # an editor's pace; every save gives each worker a new index version to load
UNLOADED_S = 90  # one paced client sends about 2.7 requests/s: 90 s give some 240 latencies


def bench_site(workdir: Path, size: int) -> tuple[Path, Path]:
    """Return the content and data folders of the size-entry benchmark corpus in workdir, built once and kept."""
    base = workdir / str(size)
    content, data = base / "content", base / "data"
    if not (content / "models").exists():
        corpus.write_corpus(content, size)
    if not (data / "index").exists():
        reindex(content, data, full=True)
    return content, data


def copy_site(content: Path, data: Path, into: Path) -> tuple[Path, Path]:
    """Copy a site's content and data (index, database) into a folder; return the copies, brought up to date."""
    work_content, work_data = into / "content", into / "data"
    shutil.copytree(content, work_content)
    shutil.copytree(data, work_data, ignore=shutil.ignore_patterns("logs", "backups"))
    reindex(work_content, work_data)
    return work_content, work_data


def _workers(master: int) -> list[int]:
    """Return the pids of the server's worker processes."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(master):
            found.append(int(status.parent.name))
    return found


def _usage(master: int) -> tuple[float, float, int]:
    """Return the workers' total memory in MB, as PSS (pages shared with the master or each other
    counted once in all) and as RSS (counted in every process that maps them), and their open
    file descriptors. A process that cannot be read is left out of all three."""
    pss, rss, fds = 0.0, 0.0, 0
    for pid in _workers(master):
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            status = Path(f"/proc/{pid}/status").read_text()
            opened = len(list(Path(f"/proc/{pid}/fd").iterdir()))
            pss += int(re.search(r"^Pss:\s+(\d+)", rollup, re.M).group(1)) / 1024
            rss += int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024
            fds += opened
        except (OSError, AttributeError):
            continue
    return pss, rss, fds


def idle_check(content: Path, data: Path, pause_s: float) -> dict[str, float]:
    """Time the same searches in this process back to back, then each after an idle pause.

    Nothing else differs (no server, no network), so the difference is what an idle processor
    costs the next search on this machine.
    """
    vocab = load_vocabulary(content)
    index = SearchIndex(index_dir(data), vocab.thesaurus, vocab.regions)
    for _ in range(2):  # every word looked up: the memo is warm, as in the server
        for q, f, p in QUERIES:
            index.search(q, f, p, cache=False)
    found = {}
    for name, pause in (("back_to_back", 0.0), ("after_pause", pause_s)):
        times = []
        for q, f, p in QUERIES:
            time.sleep(pause)
            started = time.perf_counter()
            index.search(q, f, p, cache=False)
            times.append((time.perf_counter() - started) * 1000)
        found[name] = statistics.median(times)
    return found


class Saver(threading.Thread):
    """An admin who saves an entry every few seconds through the edit form, and checks search finds it."""

    def __init__(self, base: str, slugs: list[str], every: float) -> None:
        super().__init__(daemon=True)
        self.base, self.slugs, self.every = base, slugs, every
        self.stop = threading.Event()
        self.saved = self.failed = self.found = 0
        self.problems: list[str] = []
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def _get(self, path: str) -> str:
        return self.opener.open(self.base + path, timeout=30).read().decode()

    def _post(self, path: str, data: list[tuple[str, str]]) -> int:
        body = urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(self.base + path, data=body)
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def login(self) -> None:
        page = self._get("/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        self._post("/login", [("name", "soak"), ("password", PASSWORD), ("csrf_token", token)])

    def save(self, slug: str, n: int) -> None:
        page = self._get(f"/models/{slug}/edit")
        data = [(k, html.unescape(v)) for k, v in re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', page)]
        data = [(k, v) for k, v in data if k != "fields"]
        data += [("fields", html.unescape(v)) for v in re.findall(r'name="fields" value="([^"]+)" checked', page)]
        for name in ("summary", "body"):
            text = re.search(rf'<textarea[^>]*name="{name}"[^>]*>\r?\n?(.*?)</textarea>', page, re.S).group(1)
            data.append((name, html.unescape(text)))
        marker = f"xqzsoak{n}x"
        data = [(k, v + f"\n\nGhi chú {marker}.\n" if k == "body" else v) for k, v in data]
        data.append(("action", "save"))
        status = self._post(f"/models/{slug}/edit", data)
        if status in (200, 302):  # urllib follows the redirect to the entry page
            self.saved += 1
            found = self.opener.open(f"{self.base}/api/search?q={marker}", timeout=30).read().decode()
            if f'"slug":"{slug}"' in found.replace(" ", ""):
                self.found += 1
            else:
                self.problems.append(f"{slug}: saved but not found by search")
        else:
            self.failed += 1
            self.problems.append(f"{slug}: HTTP {status}")

    def run(self) -> None:
        self.login()
        n = 0
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                self.save(self.slugs[n % len(self.slugs)], n)
            except Exception as exc:  # every failure is counted and reported
                self.failed += 1
                self.problems.append(f"{type(exc).__name__}: {exc}")
            n += 1
            self.stop.wait(max(0.0, self.every - (time.monotonic() - started)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--workdir", type=Path, default=HERE / ".work")
    parser.add_argument("--out", type=Path, default=HERE / "SOAK.md")
    parser.add_argument("--save-every", type=float, default=SAVE_EVERY_S, help="seconds between saves")
    args = parser.parse_args()
    run.ensure_wrk()
    content, data = bench_site(args.workdir, args.size)
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        # A copy: the soak's saves never touch the benchmark's corpus.
        work_content, work_data = copy_site(content, data, Path(tmp))
        db = open_db(work_data)
        if not db["users"].count_where("name = 'soak'"):
            create_user(db, "soak", PASSWORD, "admin")
        published = [r[0] for r in db.execute("SELECT slug FROM entries WHERE status = 'published' ORDER BY slug")]
        slugs = published[:: max(1, len(published) // 40)][:40]
        paths = [run.url_of(q, f, p) for q, f, p in QUERIES]
        paths += [run.url_of(q, f, p, "/search") for q, f, p in QUERIES]
        paths += [f"/models/{s}" for s in slugs]
        env = {"KB_CONTENT_DIR": str(work_content), "KB_DATA_DIR": str(work_data), "KB_RESULT_CACHE": "0"}
        pause = 1000 * 20 / run.PACED_RATE  # each of the 20 connections: one request per pause
        idle = idle_check(work_content, work_data, pause / 1000)
        print(f"in-process median: {idle['back_to_back']:.1f} ms back to back, {idle['after_pause']:.1f} ms"
              f" after {pause:.0f} ms idle", flush=True)  # fmt: skip
        with run.server("app:app", env, ROOT) as (base, master):
            run.load(base, paths, 3, 20)  # every worker meets every path once or more, as under load
            hot = run.load(base, paths, 1, 30)
            # One client sending the way each loaded connection does (the minutes below shorten
            # the pause by the latency seen, so the rate asked stays about PACED_RATE).
            unloaded = run.load(base, paths, 1, UNLOADED_S, max(1, int(pause - hot["p50"])))
            print(f"unloaded: p95 {unloaded['p95']:.0f} ms ({hot['p95']:.0f} ms back to back)", flush=True)
            saver = Saver(base, slugs, args.save_every)
            saver.start()
            minutes = []
            for minute in range(1, args.minutes + 1):
                wait = pause - minutes[-1]["p50"] if minutes else pause - unloaded["p50"]
                found = run.load(base, paths, 20, 60, max(1, int(wait)))
                pss, rss, fds = _usage(master)
                minutes.append({**found, "minute": minute, "pss": pss, "rss": rss, "fds": fds, "saves": saver.saved})
                print(f"minute {minute}: {found['rps']:.0f} req/s, p95 {found['p95']:.0f} ms, errors {found['errors']},"
                      f" workers {pss:.0f} MB PSS ({rss:.0f} RSS), {fds} fds, saves {saver.saved}",
                      flush=True)  # fmt: skip
            saver.stop.set()
            saver.join(timeout=60)
    write_report(args, {"unloaded": unloaded, "hot": hot, "idle": idle, "pause": pause}, minutes, saver)
    return 0


def write_report(args, base: dict, minutes: list[dict], saver: Saver) -> None:
    """Write the soak's table and summary to bench/SOAK.md."""
    unloaded, hot, idle = base["unloaded"], base["hot"], base["idle"]
    worst = max(m["p95"] for m in minutes)
    errors = sum(m["errors"] for m in minutes)
    requests = sum(round(m["rps"] * 60) for m in minutes)
    lines = [
        "# Soak test",
        "",
        f"Measured by `make soak` on {time.strftime('%Y-%m-%d %H:%M')} ({args.size} entries, {args.minutes} minutes,"
        f" {os.cpu_count()} cores). gunicorn with `gunicorn.conf.py`, result cache off; wrk with 20 connections"
        f" asking for about {run.PACED_RATE} requests/s (each connection's pause shortened by the previous"
        " minute's median latency) over the 60-query mix (API and search page) and 40 entry pages; meanwhile"
        f" an admin saves an entry through the edit form every {args.save_every:.0f} s and searches for it."
        " Workers' memory is given as PSS (pages they share, such as the word segmenter's model loaded"
        " once by the master, counted once) and as RSS (counted in every worker).",
        "",
        "| minute | req/s | p50 (ms) | p95 (ms) | errors | workers' memory, PSS / RSS (MB) | open files"
        " | saves so far |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        *[
            f"| {m['minute']} | {m['rps']:.0f} | {m['p50']:.0f} | {m['p95']:.0f} | {m['errors']} |"
            f" {m['pss']:.0f} / {m['rss']:.0f} | {m['fds']} | {m['saves']} |"
            for m in minutes
        ],
        "",
        f"- Requests: about {requests}; error responses: {errors}.",
        f"- p95 with one client, unloaded, sending as each loaded connection does (a request every"
        f" {base['pause']:.0f} ms, {unloaded['rps']:.1f} req/s): {unloaded['p95']:.0f} ms (p50 {unloaded['p50']:.0f});"
        f" worst minute under load: {worst:.0f} ms ({worst / max(unloaded['p95'], 0.001):.1f}×).",
        f"- p95 with one client sending each request as the last answer arrives ({hot['rps']:.0f} req/s, more"
        f" than the load itself): {hot['p95']:.0f} ms (p50 {hot['p50']:.0f}); the worst minute is"
        f" {worst / max(hot['p95'], 0.001):.1f}× that.",
        f"- The same searches in-process, no server: median {idle['back_to_back']:.1f} ms back to back,"
        f" {idle['after_pause']:.1f} ms each after {base['pause']:.0f} ms idle"
        f" ({idle['after_pause'] / max(idle['back_to_back'], 0.001):.1f}×): the processor, not the load.",
        f"- Workers' memory: {minutes[0]['pss']:.0f} MB PSS ({minutes[0]['rss']:.0f} MB RSS) in the first minute,"
        f" {minutes[-1]['pss']:.0f} MB PSS ({minutes[-1]['rss']:.0f} MB RSS) in the last;"
        f" open files: {minutes[0]['fds']} then {minutes[-1]['fds']}.",
        f"- Saves: {saver.saved} made, {saver.found} found by search right after, {saver.failed} failed.",
    ]
    if saver.problems:
        lines += ["", "Problems seen:", *[f"- {p}" for p in saver.problems[:20]]]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"\nWritten to {args.out}")


if __name__ == "__main__":
    raise SystemExit(main())
