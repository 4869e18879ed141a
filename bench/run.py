"""The benchmark: indexing, search in-process and over HTTP, memory and size, beside plain Whoosh and FTS5.

Run with `make bench` (sizes 1 000, 10 000 and 50 000) or
`python bench/run.py --sizes 1000 10000`. It prints Markdown tables per size and writes them,
with a table of how each figure grew, to bench/RESULTS.md. Search is measured first over a
long tail of distinct queries, each asked once in a fresh process (bench/longtail.py), for
this site, plain Whoosh (bench/plain_whoosh.py) and SQLite FTS5, then warm. It measures; it
never fails because the machine was slow.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import shlex
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
import longtail  # noqa: E402
from queries import QUERIES  # noqa: E402

from indexer import SearchIndex  # noqa: E402
from kb.catalog import index_dir, reindex  # noqa: E402

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


# ---- in-process search: the long tail, then the warm repeat ------------------------------

# Each engine of the search table, as bench/longtail.py names it, and as the table shows it.
ENGINES = {
    "ours": "this site",
    "plain": "plain Whoosh",
    "ours-public": "this site without indexer's Whoosh speed-ups (Whoosh's public API only)",
    "fts5": "SQLite FTS5",
}


def measure_search(content: Path, data: Path, db: Path, base: Path, queries: int) -> dict:
    """Run every engine over a long-tail log of that many queries, each in a fresh process; summarise."""
    log = longtail.long_tail_queries(queries)
    log_path = base / "longtail-log.json"
    log_path.write_text(json.dumps(log, ensure_ascii=False, indent=0), encoding="utf-8")
    raw = {}
    for engine in ENGINES:
        out = base / f"longtail-{engine}.json"
        command = [sys.executable, str(HERE / "longtail.py"), "--engine", engine, "--content", str(content),
                   "--data", str(data), "--db", str(db), "--log", str(log_path), "--out", str(out)]  # fmt: skip
        subprocess.run(command, check=True, cwd=ROOT)
        raw[engine] = json.loads(out.read_text(encoding="utf-8"))
    return summarise(raw, log)


def stats(values: list[float]) -> dict[str, float]:
    """Return p50, p95, p99 and the mean of values."""
    return {"p50": pct(values, 50), "p95": pct(values, 95), "p99": pct(values, 99), "mean": sum(values) / len(values)}


def shared(ours: list[list[str]], theirs: list[list[str]], only: list[int] | None = None) -> float | None:
    """Return the mean share of this site's top 10 that another engine also shows (queries this site answers)."""
    shares = [
        len(set(a) & set(b)) / len(a)
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True))
        if a and (only is None or i in only)
    ]
    return sum(shares) / len(shares) if shares else None


def summarise(raw: dict[str, dict], log: list) -> dict:
    """Reduce the per-query figures of each engine to the table's: latency, answers, agreement."""
    ours = raw["ours"]["top"]
    out: dict = {
        "queries": len(log),
        "distinct": len({(q.lower(), json.dumps(f, sort_keys=True), p) for q, f, p, _c in log}),
        "engines": {},
        "classes": {},
    }
    for engine, r in raw.items():
        e = {"first_ms": r["first_ms"], "answered": sum(1 for t in r["total"] if t), "shared": shared(ours, r["top"])}
        e["same_first"] = sum(1 for a, b in zip(ours, r["top"], strict=True) if a and b and a[0] == b[0])
        e.update({phase: stats(r[phase]) for phase in ("long", "warm", "cached") if phase in r})
        out["engines"][engine] = e
    for cls in longtail.CLASSES:
        rows = [i for i, entry in enumerate(log) if entry[3] == cls]
        if not rows:
            continue
        out["classes"][cls] = {
            "queries": len(rows),
            **{
                engine: {
                    "long": stats([r["long"][i] for i in rows]),
                    "answered": sum(1 for i in rows if r["total"][i]),
                    "shared": shared(ours, r["top"], rows),
                }
                for engine, r in raw.items()
            },
        }
    return out


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


def _ms(s: dict | None) -> str:
    """Format p50 / p95 / mean milliseconds."""
    if not s:
        return "–"
    digits = 2 if s["p95"] < 1 else 1
    return " / ".join(f"{s[k]:.{digits}f}" for k in ("p50", "p95", "mean"))


def _share(value: float | None) -> str:
    """Format a share as a percentage."""
    return "–" if value is None else f"{value:.0%}"


def verdict(layer: dict | None, plain: dict | None) -> str:
    """Say whether a layer's figures beat plain Whoosh's: lower p95 and lower mean."""
    if not layer or not plain:
        return "not measured"
    p95, mean = layer["p95"] < plain["p95"], layer["mean"] < plain["mean"]
    said = "**beats plain Whoosh**" if p95 and mean else "**does not beat plain Whoosh**" if not (p95 or mean) else (
        "**mixed**: " + ("lower p95, higher mean" if p95 else "lower mean, higher p95")
    )  # fmt: skip
    figures = (
        f"p95 {layer['p95']:.1f} against {plain['p95']:.1f} ms, mean {layer['mean']:.1f} against {plain['mean']:.1f}"
    )
    return f"{said} ({figures})"


def search_table(size: int, s: dict) -> str:
    """Format the search figures of one size: the long tail first, the warm repeat beside it."""
    e = s["engines"]
    fts5_p95 = e["fts5"]["long"]["p95"]
    lines = [
        f"Search in-process, {s['queries']} queries ({s['distinct']} distinct), each asked once right after",
        "the engine was opened in a fresh process (**long tail**), then the same log again in the same",
        "process (**warm repeat**); every engine counts the results, the facets and one page with snippets.",
        "The operating system's file cache is warm for every engine (the index files were just written or just read).",
        "",
        "| engine | **long tail**: p50 / p95 / mean (ms) | long-tail p95 ÷ FTS5 | warm repeat: p50 / p95 / mean (ms)"
        " | first search after opening (ms) | queries answered | this site's top 10 also shown"
        " | same first result (queries) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for engine, name in ENGINES.items():
        if engine not in e:
            continue
        r = e[engine]
        mine = engine == "ours"
        lines.append(
            f"| {'**' + name + '**' if mine else name} | {'**' + _ms(r['long']) + '**' if mine else _ms(r['long'])}"
            f" | {ratio(r['long']['p95'], fts5_p95)} | {_ms(r['warm'])} | {r['first_ms']:.0f}"
            f" | {r['answered']} | {'–' if mine else _share(r['shared'])} | {'–' if mine else r['same_first']} |"
        )
        if "cached" in r:
            lines.append(
                f"| {name}, the same query again at once (result cache) | – | – | {_ms(r['cached'])} | – | – | – | – |"
            )
    plain = e["plain"]
    lines += [
        "",
        f"Does each layer beat plain Whoosh at {size:,} entries?".replace(",", " "),
        "",
        "- the engine's query execution (matching by sets, per-version facet arrays, the shortlist and"
        " its BM25F scores, with the recall layers' extra passes), long tail: "
        + verdict(e["ours"]["long"], plain["long"]),
        "- indexer's Whoosh speed-ups (`indexer/_whoosh_internals.py`: a block of postings decoded at"
        " once, jumps by bisection), which only this site's engine uses: this site with them against"
        " this site without them, long tail: "
        + verdict(e["ours"]["long"], e.get("ours-public", {}).get("long")).replace("plain Whoosh**", "it**")
        + "; warm repeat: "
        + verdict(e["ours"]["warm"], e.get("ours-public", {}).get("warm")).replace("plain Whoosh**", "it**"),
        "- the per-version memo of word matches and decoded postings, warm repeat against plain"
        " Whoosh's warm repeat: "
        + verdict(e["ours"]["warm"], plain["warm"])
        + f"; its own gain over this site's long tail: p95 {e['ours']['long']['p95']:.1f}"
        + f" → {e['ours']['warm']['p95']:.1f} ms",
        "- the result cache, the same query again at once, against plain Whoosh's warm repeat: "
        + verdict(e["ours"].get("cached"), plain["warm"]),
        "- the recall layers (Telex/VNI keys, synonyms and everyday wording, typo corrections, the"
        " partial-match rule, typed diacritics) are worth what `make eval` measures; what they cost"
        " shows class by class below.",
        "",
        "| class | queries | long-tail p95 (ms): this site / plain Whoosh / FTS5 | answered: this site / plain"
        " Whoosh / FTS5 | this site's top 10 shown by plain Whoosh / FTS5 |",
        "|---|---:|---:|---:|---:|",
    ]
    for cls, c in s["classes"].items():
        lines.append(
            f"| {cls} | {c['queries']} | {c['ours']['long']['p95']:.1f} / {c['plain']['long']['p95']:.1f}"
            f" / {c['fts5']['long']['p95']:.1f} | {c['ours']['answered']} / {c['plain']['answered']}"
            f" / {c['fts5']['answered']} | {_share(c['plain']['shared'])} / {_share(c['fts5']['shared'])} |"
        )
    return "\n".join(lines)


def table(size: int, r: dict) -> str:
    """Format one size's figures as Markdown: the search table, then indexing, HTTP, memory and size."""
    i, f = r["index"], r["fts5_index"]
    rows = [
        ("Full reindex (s)", f"{i['full_s']:.1f}", f"{f['full_s']:.1f}", ratio(i["full_s"], f["full_s"])),
        ("Full reindex (entries/s)", f"{i['entries'] / i['full_s']:.0f}", f"{i['entries'] / f['full_s']:.0f}", ""),
        ("Full reindex, texts unchanged (s)", f"{i['full_unchanged_s']:.1f}", "–", ""),
        ("Incremental reindex, 1 entry changed (s)", f"{i['incremental_s']:.2f}", "–", ""),
        ("Save → found by search (s)", f"{i['save_to_search_s']:.2f}", "–", ""),
        ("Index on disk (MB)", f"{i['index_bytes'] / 1e6:.1f}", f"{f['index_bytes'] / 1e6:.1f}",
         ratio(i["index_bytes"], f["index_bytes"])),
    ]  # fmt: skip
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
    heading = f"### {size:,} entries".replace(",", " ")
    when = r.get("measured", "at an unknown time")
    where = r.get("provenance") or f"Measured {when} (command, machine and load not recorded)."
    search = search_table(size, r["search"]) if "search" in r else (
        "No long-tail search figures: this size was measured by an older bench/run.py; rerun it."
    )  # fmt: skip
    if r.get("search_provenance"):
        search = r["search_provenance"] + "\n\n" + search
    lines = [heading, "", where, "", search, "", "Indexing, size" + (", HTTP and memory" if "http" in r else "")
             + (" (HTTP: the 60-query mix of `bench/queries.py` repeated, so warm figures):" if "http" in r else ":"),
             "", "| measure | this site | SQLite FTS5 | ratio |", "|---|---:|---:|---:|"]  # fmt: skip
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(line for line in lines)


def _engine_p95(r: dict, phase: str) -> str:
    """Return this site / plain Whoosh / FTS5 p95 of a phase, if measured."""
    if "search" not in r:
        return "–"
    e = r["search"]["engines"]
    return " / ".join(f"{e[k][phase]['p95']:.1f}" for k in ("ours", "plain", "fts5"))


def growth(results: dict[int, dict]) -> str:
    """Format how the main figures grew with the corpus."""
    sizes = sorted(results)
    keys = [
        ("Full reindex (s)", lambda r: f"{r['index']['full_s']:.1f}"),
        ("Unchanged full reindex (s)", lambda r: f"{r['index']['full_unchanged_s']:.1f}"),
        ("Save → search (s)", lambda r: f"{r['index']['save_to_search_s']:.2f}"),
        ("**Search p95, long tail** (ms): this site / plain Whoosh / FTS5", lambda r: _engine_p95(r, "long")),
        ("Search p95, warm repeat (ms): this site / plain Whoosh / FTS5", lambda r: _engine_p95(r, "warm")),
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
        ("In-process search measured again", lambda r: r.get("search_measured", "–")),
    ]
    head = "| measure | " + " | ".join(f"{s:,}".replace(",", " ") for s in sizes) + " |"
    lines = ["### Growth", "", head, "|---|" + "---:|" * len(sizes)]
    lines += [f"| {label} | " + " | ".join(fn(results[s]) for s in sizes) + " |" for label, fn in keys]
    return "\n".join(lines)


def machine() -> str:
    """Describe this machine: the processor's model, its cores, Python's version."""
    return f"{cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def cpu_model() -> str:
    """Return the processor's model name as /proc/cpuinfo gives it (platform.processor() is empty on Linux)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def command_line() -> str:
    """Return the command that is running, as one would type it."""
    script = os.path.relpath(sys.argv[0], ROOT)
    typed = shlex.join(["python", script, *sys.argv[1:]])
    return f"make bench` (`{typed}" if os.environ.get("MAKELEVEL") else typed


def load_average() -> str:
    """Return the 1-minute load average (other processes share the machine)."""
    return f"{os.getloadavg()[0]:.1f}"


def main() -> int:
    """Run the benchmark for each size and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000])
    parser.add_argument("--queries", type=int, default=longtail.SIZE, help="distinct queries of the long-tail log")
    parser.add_argument("--seconds", type=int, default=20, help="duration of each HTTP load")
    parser.add_argument("--connections", type=int, default=20, help="concurrent HTTP clients")
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP part")
    parser.add_argument("--workdir", type=Path, default=HERE / ".work")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--write-readme", action="store_true", help="put the 10 000-entry table in docs/search.md")
    parser.add_argument(
        "--search-only",
        action="store_true",
        help="rerun only the in-process search over each size's index built by an earlier run (kept in --workdir)",
    )
    parser.add_argument(
        "--report-only", action="store_true", help="measure nothing: rewrite the report from the figures in --workdir"
    )
    args = parser.parse_args()
    if args.report_only:
        args.sizes = []
    if args.report_only:
        pass
    elif args.search_only:  # nothing is rebuilt or deleted: each size's earlier run must be there
        missing = [s for s in args.sizes if not (args.workdir / str(s) / "results.json").exists()
                   or not (args.workdir / str(s) / "data").is_dir()]  # fmt: skip
        if missing:
            raise SystemExit(f"--search-only needs an earlier full run of sizes {missing} in {args.workdir}.")
    elif not args.no_http:
        ensure_wrk()
    results: dict[int, dict] = {}
    for size in args.sizes:
        base = args.workdir / str(size)
        content, data, db = base / "content", base / "data", base / "fts5.sqlite3"
        if args.search_only:
            pass  # the corpus, index and figures of the earlier run are used as they are
        elif not (content / "models").exists() or sum(1 for _ in (content / "models").rglob("*.md")) != size:
            shutil.rmtree(base, ignore_errors=True)
            corpus.write_corpus(content, size)
        print(f"== {size} entries", flush=True)
        started, load_before = time.gmtime(), load_average()
        if args.search_only:  # the rest of this size's figures stay those of the run that built it
            r = json.loads((base / "results.json").read_text(encoding="utf-8"))
            r["search"] = measure_search(content, data, db, base, args.queries)
            r["search_measured"] = time.strftime("%Y-%m-%d %H:%M UTC", started)
            r["search_provenance"] = (
                f"In-process search measured again {time.strftime('%Y-%m-%d %H:%M UTC', started)} by"
                f" `{command_line()}` over the index built then; 1-minute load average {load_before} at the"
                f" start and {load_average()} at the end."
            )
            (base / "results.json").write_text(json.dumps(r, indent=1), encoding="utf-8")
            results[size] = r
            continue
        r: dict = {"index": measure_indexing(content, data)}
        print("   indexing done", flush=True)
        r["fts5_index"] = measure_fts5_indexing(content, db)
        r["search"] = measure_search(content, data, db, base, args.queries)
        print("   in-process search done", flush=True)
        if not args.no_http:
            r["http"] = measure_http(content, data, db, args.connections, args.seconds)
            print("   HTTP done", flush=True)
        r["measured"] = time.strftime("%Y-%m-%d %H:%M UTC", started)
        r["provenance"] = (
            f"Measured {r['measured']} by `{command_line()}` on {machine()}; 1-minute load average"
            f" {load_before} at the start and {load_average()} at the end (other processes share the machine)."
        )
        (base / "results.json").write_text(json.dumps(r, indent=1), encoding="utf-8")
        results[size] = r
        print(table(size, r), flush=True)
    # The report shows every size measured so far (each with its date), so sizes can be rerun alone.
    for stored in sorted(args.workdir.glob("*/results.json"), key=lambda p: int(p.parent.name)):
        results.setdefault(int(stored.parent.name), json.loads(stored.read_text(encoding="utf-8")))
    results = dict(sorted(results.items()))
    sections = [table(size, r) for size, r in results.items()]
    report = [
        "# Benchmark results",
        "",
        "<!-- Generated by bench/run.py: rerun it (`make bench`) rather than editing. -->",
        "",
        f"Written {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `{command_line()}` on {machine()};",
        "each size says when, by what command and under what load it was measured. Synthetic entries",
        "from `bench/corpus.py` (1.5–3 KB of text each).",
        "",
        f"**The headline is the long tail**: a log of {args.queries} distinct queries (`bench/longtail.py`,",
        "made from the corpus's vocabulary in the classes `make eval` judges: with and without",
        "diacritics, typos, questions, Telex keys, abbreviations, phrases, old tone placement, titles,",
        "units and places, topics no entry covers), each asked once right after the engine was opened in",
        "a fresh process, so no memo or cache has seen it. The warm repeat (the same log again in the",
        "same process) is shown beside it, never alone. Each engine counts the results, counts the facets",
        "and makes one page with snippets. **Plain Whoosh** (`bench/plain_whoosh.py`) searches the same",
        "index on disk with Whoosh's own `searcher.search(..., groupedby=...)`; as the parsed query's",
        "Whoosh objects are internal to `indexer/`, its words are folded by indexer's public `syllables`",
        "and parsed by `whoosh.qparser.MultifieldParser` over the same fields with the site's field",
        "weights (every word, any word if none; quoted phrases as the index's syllable pairs); it has",
        "none of the recall layers, so its answers differ: the agreement columns say how much.",
        "SQLite FTS5 (`bench/fts5.py`): `unicode61 remove_diacritics 2`, bm25 weighted like the site.",
        "",
        "'First search after opening' times opening the index (for this site, with its vocabularies) and",
        f"one search. HTTP, where measured: gunicorn with `gunicorn.conf.py`, wrk with {args.connections}",
        f"connections for {args.seconds} s per run over the 60-query mix of `bench/queries.py`, repeated",
        "(so warm figures: the long tail above is the headline). 'Paced' runs ask",
        "about 55 requests/s and show the rate reached; 'flat out' runs send each next request as soon",
        "as the answer arrives.",
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
