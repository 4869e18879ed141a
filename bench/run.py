"""The benchmark: indexing, search latency in-process and over HTTP, memory and size, beside FTS5.

Run with `make bench` (sizes 1 000, 10 000 and 50 000) or
`python bench/run.py --sizes 1000 10000`. It prints a Markdown table per size and writes them,
with a table of how each figure grew, to bench/RESULTS.md. It measures; it never fails
because the machine was slow.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

import corpus  # noqa: E402
import fts5  # noqa: E402
from queries import QUERIES  # noqa: E402

from indexer import SearchIndex  # noqa: E402
from kb.catalog import index_dir, reindex  # noqa: E402
from kb.vocabulary import load_vocabulary  # noqa: E402

VENV_BIN = Path(sys.executable).parent
PACED_RATE = 55  # requests/s asked in the paced HTTP runs (the target is p95 at >= 50 req/s)


def pct(values: list[float], p: float) -> float:
    """Return the p-th percentile (nearest rank) of values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def du(*paths: Path) -> int:
    """Return the bytes used by files under paths."""
    return sum(
        f.stat().st_size for p in paths if p.exists() for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file()
    )


def url_of(q: str, filters: dict[str, list[str]], page: int, path: str = "/api/search") -> str:
    """Return the request path of one query of the mix."""
    args = [("q", q)] + [(k, v) for k, vs in filters.items() for v in vs]
    if page > 1:
        args.append(("page", str(page)))
    return path + "?" + urllib.parse.urlencode(args)


def free_port() -> int:
    """Return a free localhost port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- indexing ----------------------------------------------------------------


def measure_indexing(content: Path, data: Path) -> dict[str, float]:
    """Time a first full build, a full rebuild of unchanged texts, one change, save-to-search."""
    shutil.rmtree(data, ignore_errors=True)
    out: dict[str, float] = {}
    started = time.perf_counter()
    report = reindex(content, data, full=True)
    out["full_s"] = time.perf_counter() - started
    out["entries"] = report.added
    started = time.perf_counter()
    reindex(content, data, full=True)
    out["full_unchanged_s"] = time.perf_counter() - started
    target = sorted((content / "models").rglob("*.md"))[len(report.problems) // 2 + 7]
    original = target.read_text(encoding="utf-8")
    try:
        target.write_text(original.replace("## Kết quả", "## Kết quả\n\nĐã bổ sung sổ tay.", 1), encoding="utf-8")
        started = time.perf_counter()
        reindex(content, data)
        out["incremental_s"] = time.perf_counter() - started
        # Save-to-search: write a word no entry has, reindex incrementally, search until found.
        index = SearchIndex(index_dir(data))
        index.search("khởi động")
        marker = f"xqz{int(time.time()) % 100000}"
        started = time.perf_counter()
        target.write_text(original.replace("## Kết quả", f"## Kết quả\n\nGhi chú {marker}.", 1), encoding="utf-8")
        reindex(content, data)
        while not index.search(marker, cache=False).total:
            time.sleep(0.005)
        out["save_to_search_s"] = time.perf_counter() - started
    finally:
        target.write_text(original, encoding="utf-8")
        reindex(content, data)
    out["index_bytes"] = du(index_dir(data)) - du(index_dir(data) / "analysis-cache.sqlite3")
    out["db_bytes"] = du(data / "kb.sqlite3")
    return out


def measure_fts5_indexing(content: Path, db: Path) -> dict[str, float]:
    """Time building the FTS5 database from the same files."""
    started = time.perf_counter()
    fts5.build(content, db)
    return {"full_s": time.perf_counter() - started, "index_bytes": du(db)}


# ---- in-process queries ---------------------------------------------------------


def measure_queries(content: Path, data: Path, rounds: int) -> dict[str, float]:
    """Time the query mix in-process: cold memo, warm without result cache, result-cached."""
    vocab = load_vocabulary(content)
    index = SearchIndex(index_dir(data), vocab.thesaurus, vocab.regions)
    started = time.perf_counter()
    index.search("khởi động", cache=False)  # opens the index and builds the per-version arrays
    out = {"first_query_ms": (time.perf_counter() - started) * 1000}
    cold, warm, cached = [], [], []
    version = index._version_now()
    for q, f, p in QUERIES:  # every word and phrase looked up for the first time
        version.memo.clear()
        version.postings.clear()
        cold.append(_timed(index, q, f, p, cache=False))
    for q, f, p in QUERIES:  # one unmeasured round: the memo holds the mix's words, as in service
        index.search(q, f, p, 10, cache=False)
    for _ in range(rounds):
        warm += [_timed(index, q, f, p, cache=False) for q, f, p in QUERIES]
    for q, f, p in QUERIES:
        index.search(q, f, p, 10)
    cached = [_timed(index, q, f, p, cache=True) for q, f, p in QUERIES]
    for name, values in (("cold", cold), ("warm", warm), ("cached", cached)):
        out.update({f"{name}_p50": pct(values, 50), f"{name}_p95": pct(values, 95), f"{name}_p99": pct(values, 99)})
    return out


def _timed(index: SearchIndex, q: str, f: dict, p: int, cache: bool) -> float:
    """Return the milliseconds of one search."""
    started = time.perf_counter()
    index.search(q, f, p, 10, cache=cache)
    return (time.perf_counter() - started) * 1000


def measure_fts5_queries(db: Path, rounds: int) -> dict[str, float]:
    """Time the same mix through FTS5, with count, facets and one page of snippets."""
    engine = fts5.Fts5Search(db)
    engine.search("khởi động", {})
    times = []
    for _ in range(rounds):
        for q, f, p in QUERIES:
            started = time.perf_counter()
            engine.search(q, f, p)
            times.append((time.perf_counter() - started) * 1000)
    return {"warm_p50": pct(times, 50), "warm_p95": pct(times, 95), "warm_p99": pct(times, 99)}


# ---- HTTP --------------------------------------------------------------------


@contextlib.contextmanager
def server(app: str, env: dict[str, str], cwd: Path):
    """Run gunicorn with the project's config on a free port; yield the base URL and master pid."""
    port = free_port()
    # The log outlives this function's frame: the server writes to it while the caller measures.
    log = tempfile.NamedTemporaryFile(prefix="bench-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}", app],
        cwd=cwd,
        env={**os.environ, **env, "KB_ACCESS_LOG": "/dev/null", "PYTHONPATH": f"{ROOT}:{HERE}"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/api/search?q=x", timeout=5).read()
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"server did not start, see {log.name}") from None
                time.sleep(0.2)
        yield base, proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def worker_peak_mb(master: int) -> float:
    """Return the largest peak resident memory (VmHWM) of the server's worker processes."""
    peaks = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(master) and "VmHWM" in fields:
            peaks.append(int(fields["VmHWM"].split()[0]) / 1024)
    return max(peaks, default=0.0)


def load(base: str, paths: list[str], connections: int, seconds: int, pause_ms: int = 0) -> dict[str, float]:
    """Drive the server with wrk over the paths; return throughput and latency percentiles.

    With pause_ms, each connection waits that long between requests (a paced load, to read
    latency at a given rate); without, every connection sends as fast as it is answered.
    """
    for path in paths:  # warm every worker a little
        urllib.request.urlopen(base + path, timeout=30).read()
    lua_paths = ",\n".join('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in paths)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False, encoding="utf-8") as script:
        script.write(
            f"local paths = {{\n{lua_paths}\n}}\n"
            "local i = math.random(#paths)\n"
            "request = function()\n  i = i % #paths + 1\n  return wrk.format('GET', paths[i])\nend\n"
            + (f"delay = function()\n  return {pause_ms}\nend\n" if pause_ms else "")
            + "done = function(summary, latency, requests)\n"
            "  local e = summary.errors\n"
            "  io.write(string.format('RESULT %d %d %.3f %.3f %.3f %.3f %d %d\\n', summary.requests,"
            " summary.duration, latency:percentile(50) / 1000, latency:percentile(95) / 1000,"
            " latency:percentile(99) / 1000, latency.mean / 1000,"
            " e.connect + e.read + e.write + e.timeout, e.status))\nend\n"
        )
    threads = min(connections, os.cpu_count() or 1)
    result = subprocess.run(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--timeout",
            "10s",
            "-s",
            script.name,
            base,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in result.stdout.splitlines() if x.startswith("RESULT"))
    requests, duration_us, p50, p95, p99, _mean, errors, status = line.split()[1:]
    return {
        "rps": int(requests) / (int(duration_us) / 1e6),
        "p50": float(p50),
        "p95": float(p95),
        "p99": float(p99),
        "errors": int(errors) + int(status),
    }


def paced(base: str, paths: list[str], connections: int, seconds: int) -> dict[str, float]:
    """Load at about PACED_RATE requests/s: each connection pauses between requests.

    wrk's connections wait for each answer, so the pause is shortened by the latency seen in
    a first try; the table shows the rate actually reached.
    """
    pause = 1000 * connections / PACED_RATE
    found = load(base, paths, connections, max(5, seconds // 2), int(pause))
    if found["rps"] < PACED_RATE * 0.95:
        found = load(base, paths, connections, seconds, max(1, int(pause - found["p50"])))
    return found


def ensure_wrk() -> None:
    """Install wrk from Debian's packages if it is missing (root on Debian only)."""
    if shutil.which("wrk"):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, capture_output=True)
        if not shutil.which("wrk"):
            subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True)
            subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, capture_output=True)
    if not shutil.which("wrk"):
        raise SystemExit("The HTTP part needs wrk (apt-get install wrk); run with --no-http to skip it.")


def measure_http(content: Path, data: Path, db: Path, connections: int, seconds: int) -> dict[str, dict]:
    """Load the site's API and search page, and the FTS5 service, with the same mix."""
    api = [url_of(q, f, p) for q, f, p in QUERIES]
    pages = [url_of(q, f, p, "/search") for q, f, p in QUERIES]
    env = {"KB_CONTENT_DIR": str(content), "KB_DATA_DIR": str(data)}
    out: dict[str, dict] = {}
    # The site with its result cache off: every request searches.
    with server("app:app", {**env, "KB_RESULT_CACHE": "0"}, ROOT) as (base, master):
        out["api_paced"] = paced(base, api, connections, seconds)
        out["page_paced"] = paced(base, pages, connections, seconds)
        out["api"] = load(base, api, connections, seconds)
        out["page"] = load(base, pages, connections, seconds)
        out["api"]["worker_mb"] = worker_peak_mb(master)
    with server("app:app", env, ROOT) as (base, master):
        out["api_cached"] = load(base, api, connections, seconds)
    # The comparison server never segments: it does not load underthesea's model.
    with server("fts5_app:app", {"BENCH_FTS5_DB": str(db), "KB_PRELOAD_SEGMENTER": "0"}, HERE) as (base, master):
        out["fts5_paced"] = paced(base, api, connections, seconds)
        out["fts5"] = load(base, api, connections, seconds)
        out["fts5"]["worker_mb"] = worker_peak_mb(master)
    return out


# ---- report ------------------------------------------------------------------


def ratio(ours: float, theirs: float) -> str:
    """Format ours / theirs."""
    return f"{ours / theirs:.1f}×" if theirs else "–"


def table(size: int, r: dict) -> str:
    """Format one size's figures as a Markdown table."""
    i, f, q, fq = r["index"], r["fts5_index"], r["queries"], r["fts5_queries"]
    rows = [
        ("Full reindex (s)", f"{i['full_s']:.1f}", f"{f['full_s']:.1f}", ratio(i["full_s"], f["full_s"])),
        ("Full reindex (entries/s)", f"{i['entries'] / i['full_s']:.0f}", f"{i['entries'] / f['full_s']:.0f}", ""),
        ("Full reindex, texts unchanged (s)", f"{i['full_unchanged_s']:.1f}", "–", ""),
        ("Incremental reindex, 1 entry changed (s)", f"{i['incremental_s']:.2f}", "–", ""),
        ("Save → found by search (s)", f"{i['save_to_search_s']:.2f}", "–", ""),
        ("Index on disk (MB)", f"{i['index_bytes'] / 1e6:.1f}", f"{f['index_bytes'] / 1e6:.1f}",
         ratio(i["index_bytes"], f["index_bytes"])),
        ("First search after opening (ms)", f"{q['first_query_ms']:.0f}", "–", ""),
    ]  # fmt: skip
    for label, key in (("p50", "p50"), ("p95", "p95"), ("p99", "p99")):
        rows.append(
            (f"Search in-process, no result cache, {label} (ms)", f"{q['warm_' + key]:.1f}",
             f"{fq['warm_' + key]:.1f}", ratio(q["warm_" + key], fq["warm_" + key]))
        )  # fmt: skip
    rows.append(
        ("Search in-process, every word looked up afresh, p95 (ms)", f"{q['cold_p95']:.1f}",
         f"{fq['warm_p95']:.1f}", ratio(q["cold_p95"], fq["warm_p95"]))
    )  # fmt: skip
    rows.append(("Search in-process, result cached, p95 (ms)", f"{q['cached_p95']:.2f}", "–", ""))
    if "http" in r:
        a, pg, fh = r["http"]["api"], r["http"]["page"], r["http"]["fts5"]
        ap, pp, fp = r["http"]["api_paced"], r["http"]["page_paced"], r["http"]["fts5_paced"]
        rows += [
            ("HTTP /api/search, paced, no result cache: req/s, p50 / p95 / p99 (ms)",
             f"{ap['rps']:.0f}, {ap['p50']:.0f} / {ap['p95']:.0f} / {ap['p99']:.0f}",
             f"{fp['rps']:.0f}, {fp['p50']:.0f} / {fp['p95']:.0f} / {fp['p99']:.0f}",
             ratio(ap["p95"], fp["p95"]) + " (p95)"),
            ("HTTP search page, paced, no result cache: req/s, p50 / p95 / p99 (ms)",
             f"{pp['rps']:.0f}, {pp['p50']:.0f} / {pp['p95']:.0f} / {pp['p99']:.0f}", "–", ""),
            ("HTTP /api/search, no result cache, flat out: req/s", f"{a['rps']:.0f}", f"{fh['rps']:.0f}",
             ratio(a["rps"], fh["rps"])),
            ("HTTP /api/search, no result cache, flat out: p50 / p95 / p99 (ms)",
             f"{a['p50']:.0f} / {a['p95']:.0f} / {a['p99']:.0f}",
             f"{fh['p50']:.0f} / {fh['p95']:.0f} / {fh['p99']:.0f}", ratio(a["p95"], fh["p95"]) + " (p95)"),
            ("HTTP /api/search with result cache: req/s, p95 (ms)",
             f"{r['http']['api_cached']['rps']:.0f}, {r['http']['api_cached']['p95']:.0f}", "–", ""),
            ("HTTP search page, flat out: p50 / p95 / p99 (ms), req/s",
             f"{pg['p50']:.0f} / {pg['p95']:.0f} / {pg['p99']:.0f}, {pg['rps']:.0f}", "–", ""),
            ("Peak memory of a server worker (MB)", f"{a['worker_mb']:.0f}", f"{fh['worker_mb']:.0f}",
             ratio(a["worker_mb"], fh["worker_mb"])),
            ("HTTP errors", f"{a['errors'] + pg['errors']}", f"{fh['errors']}", ""),
        ]  # fmt: skip
    lines = [
        f"### {size:,} entries{' (measured ' + r['measured'] + ')' if 'measured' in r else ''}".replace(",", " "),
        "",
        "| measure | this site | SQLite FTS5 | ratio |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines)


def growth(results: dict[int, dict]) -> str:
    """Format how the main figures grew with the corpus."""
    sizes = sorted(results)
    keys = [
        ("Full reindex (s)", lambda r: f"{r['index']['full_s']:.1f}"),
        ("Unchanged full reindex (s)", lambda r: f"{r['index']['full_unchanged_s']:.1f}"),
        ("Save → search (s)", lambda r: f"{r['index']['save_to_search_s']:.2f}"),
        ("Search p95, no result cache (ms)", lambda r: f"{r['queries']['warm_p95']:.1f}"),
        ("Search p95, words looked up afresh (ms)", lambda r: f"{r['queries']['cold_p95']:.1f}"),
        ("FTS5 search p95 (ms)", lambda r: f"{r['fts5_queries']['warm_p95']:.1f}"),
        (
            "HTTP p95, paced run (ms; rate reached in the size table)",
            lambda r: f"{r['http']['api_paced']['p95']:.0f}" if "http" in r else "–",
        ),
        (
            "Search page p95, paced run (ms)",
            lambda r: f"{r['http']['page_paced']['p95']:.0f}" if "http" in r else "–",
        ),
        ("HTTP req/s, flat out", lambda r: f"{r['http']['api']['rps']:.0f}" if "http" in r else "–"),
        ("Worker memory (MB)", lambda r: f"{r['http']['api']['worker_mb']:.0f}" if "http" in r else "–"),
        ("Index (MB)", lambda r: f"{r['index']['index_bytes'] / 1e6:.1f}"),
        ("Measured (each size may come from another run)", lambda r: r.get("measured", "–")),
    ]
    head = "| measure | " + " | ".join(f"{s:,}".replace(",", " ") for s in sizes) + " |"
    lines = ["### Growth", "", head, "|---|" + "---:|" * len(sizes)]
    lines += [f"| {label} | " + " | ".join(fn(results[s]) for s in sizes) + " |" for label, fn in keys]
    return "\n".join(lines)


def main() -> int:
    """Run the benchmark for each size and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the query mix in-process")
    parser.add_argument("--seconds", type=int, default=20, help="duration of each HTTP load")
    parser.add_argument("--connections", type=int, default=20, help="concurrent HTTP clients")
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP part")
    parser.add_argument("--workdir", type=Path, default=HERE / ".work")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--write-readme", action="store_true", help="put the 10 000-entry table in docs/search.md")
    args = parser.parse_args()
    if not args.no_http:
        ensure_wrk()
    results: dict[int, dict] = {}
    for size in args.sizes:
        base = args.workdir / str(size)
        content, data, db = base / "content", base / "data", base / "fts5.sqlite3"
        if not (content / "models").exists() or sum(1 for _ in (content / "models").rglob("*.md")) != size:
            shutil.rmtree(base, ignore_errors=True)
            corpus.write_corpus(content, size)
        print(f"== {size} entries", flush=True)
        r: dict = {"index": measure_indexing(content, data)}
        print("   indexing done", flush=True)
        r["fts5_index"] = measure_fts5_indexing(content, db)
        r["queries"] = measure_queries(content, data, args.rounds)
        r["fts5_queries"] = measure_fts5_queries(db, args.rounds)
        print("   in-process queries done", flush=True)
        if not args.no_http:
            r["http"] = measure_http(content, data, db, args.connections, args.seconds)
            print("   HTTP done", flush=True)
        r["measured"] = time.strftime("%Y-%m-%d %H:%M")
        (base / "results.json").write_text(json.dumps(r, indent=1), encoding="utf-8")
        results[size] = r
        print(table(size, r), flush=True)
    # The report shows every size measured so far (each with its date), so sizes can be rerun alone.
    for stored in sorted(args.workdir.glob("*/results.json"), key=lambda p: int(p.parent.name)):
        results.setdefault(int(stored.parent.name), json.loads(stored.read_text(encoding="utf-8")))
    results = dict(sorted(results.items()))
    sections = [table(size, r) for size, r in results.items()]
    machine = (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    report = [
        "# Benchmark results",
        "",
        f"Measured by `make bench` on {time.strftime('%Y-%m-%d')} ({machine}). Synthetic entries from",
        "`bench/corpus.py` (1.5–3 KB of text each); the 60-query mix of `bench/queries.py`;",
        f"HTTP: gunicorn with `gunicorn.conf.py`, wrk with {args.connections} connections for {args.seconds} s",
        "per run. In-process searches without result cache run after one unmeasured round of the",
        "mix, so the per-version memo of word matches is warm as in service; 'looked up afresh'",
        "clears it before every query. 'Paced' HTTP runs ask about 55 requests/s and show the rate",
        "reached; 'flat out' runs send each next request as soon as the answer arrives.",
        "",
        *[s + "\n" for s in sections],
    ]
    if len(results) > 1:
        report.append(growth(results))
    args.out.write_text("\n".join(report) + "\n", encoding="utf-8")
    print(f"\nWritten to {args.out}")
    if args.write_readme:
        shown = [table(s, results[s]) for s in results if s == 10000] or sections[-1:]
        extra = [growth(results)] if len(results) > 1 else []
        write_readme("\n\n".join([*shown, *extra]))
    return 0


def write_readme(text: str, readme: Path = ROOT / "docs" / "search.md") -> None:
    """Replace the benchmark table between its markers in docs/search.md."""
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    content = readme.read_text(encoding="utf-8")
    before, rest = content.split(start, 1)
    readme.write_text(f"{before}{start}\n{text}\n{end}{rest.split(end, 1)[1]}", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
