"""One node's requests per second for the public mix at N entries, driven flat out by wrk.

    .venv/bin/python bench/node_capacity.py [--size 10000] [--seconds 30] [--connections 20]

It starts ONE node as deployed: gunicorn with gunicorn.conf.py (its default workers for this
machine, the result cache on) over a copy of the size-entry benchmark corpus and its index (built
once in bench/.work/N, as bench/run.py and bench/soak.py keep it; the copy keeps the search log of
this run out of it). After warming every worker, wrk sends each next request as soon as the
answer arrives, over the public mix a visitor makes: the home page, search pages, /api/search
and entry pages (BLOCK below). Two runs:

- the long tail (the headline): every search request asks a distinct query from
  bench/longtail.py, each once; entry pages go round every published entry;
- warm repeats, shown beside it only: the 60-query mix of bench/queries.py and 40 entry pages,
  repeated.

The warm run goes first: its rate sizes the long tail's query list (with room to spare), and
any search the long tail still asks a second time is counted and reported. The report
(req/s, p50/p95/p99, non-2xx and socket errors, the share of each kind) goes to --out as
Markdown. It measures; it never fails because the machine was slow.
"""

from __future__ import annotations

import argparse
import itertools
import os
import runpy
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

import longtail  # noqa: E402
import run  # noqa: E402
import soak  # noqa: E402
from queries import QUERIES  # noqa: E402

from kb.store import open_db  # noqa: E402

# Every 10 requests of a visitor's mix: the home page, 4 search pages, 2 API searches, 3 entry pages.
BLOCK = ("home", "search", "entry", "search", "api", "entry", "search", "api", "entry", "search")
KINDS = {"home": "home", "search": "search page", "api": "API", "entry": "entry page"}
SEARCHES = sum(kind in ("search", "api") for kind in BLOCK)
# wrk's script: each thread goes through its own slice of the list, so no two threads ask the
# same query; it counts what it sent of each kind, what it sent past its slice, and non-2xx.
LUA = """
local threads, made = {}, 0
function setup(thread)
  thread:set("id", made); made = made + 1; table.insert(threads, thread)
end
function init(args)
  kinds, paths = {}, {}
  for line in io.lines("%(list)s") do
    local kind, path = line:match("^(%%a+)\\t(.*)$")
    table.insert(kinds, kind); table.insert(paths, path)
  end
  first = math.floor(id * #paths / %(threads)d) + 1
  last = math.floor((id + 1) * #paths / %(threads)d)
  i, sent, again, bad = first - 1, 0, 0, 0
  home, search, api, entry = 0, 0, 0, 0
end
function request()
  i = i + 1
  if i > last then i = first end
  sent = sent + 1
  local kind = kinds[i]
  _G[kind] = _G[kind] + 1
  if sent > last - first + 1 and (kind == "search" or kind == "api") then again = again + 1 end
  return wrk.format("GET", paths[i])
end
function response(status, headers, body)
  if status < 200 or status > 299 then bad = bad + 1 end
end
function done(summary, latency, requests)
  local t = {home = 0, search = 0, api = 0, entry = 0, again = 0, bad = 0}
  for _, thread in ipairs(threads) do
    for name in pairs(t) do t[name] = t[name] + thread:get(name) end
  end
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%.3f %%.3f %%.3f %%d %%d %%d %%d %%d %%d %%d\\n", summary.requests,
    summary.duration, latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, t.bad, t.home, t.search, t.api, t.entry, t.again))
end
"""


def mix(queries, slugs, blocks: int) -> list[tuple[str, str]]:
    """Return blocks of the public mix as (kind, path), taking searches and entries from the iterators."""
    out = []
    for kind in itertools.chain.from_iterable(itertools.repeat(BLOCK, blocks)):
        if kind == "home":
            out.append((kind, "/"))
        elif kind == "entry":
            out.append((kind, f"/models/{next(slugs)}"))
        else:
            q, f, p = next(queries)[:3]
            out.append((kind, run.url_of(q, f, p, "/search" if kind == "search" else "/api/search")))
    return out


def drive(base: str, paths: list[tuple[str, str]], connections: int, seconds: int) -> dict:
    """Load the server flat out with wrk over the paths, each thread in its own slice; return the figures."""
    threads = min(connections, os.cpu_count() or 1)
    with tempfile.TemporaryDirectory(prefix="capacity-") as tmp:
        listed, script = Path(tmp) / "paths.tsv", Path(tmp) / "mix.lua"
        listed.write_text("".join(f"{kind}\t{path}\n" for kind, path in paths), encoding="utf-8")
        script.write_text(LUA % {"list": listed, "threads": threads}, encoding="utf-8")
        command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s"]
        result = subprocess.run([*command, "-s", str(script), base], capture_output=True, text=True, check=True)
    line = next(x for x in result.stdout.splitlines() if x.startswith("RESULT"))
    requests, duration_us, p50, p95, p99, errors, bad, *sent, again = line.split()[1:]
    return {
        "requests": int(requests),
        "rps": int(requests) / (int(duration_us) / 1e6),
        **{"p50": float(p50), "p95": float(p95), "p99": float(p99)},
        **{"errors": int(errors), "non2xx": int(bad), "again": int(again), "listed": len(paths)},
        "sent": dict(zip(KINDS, map(int, sent), strict=True)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000, help="entries in the benchmark corpus")
    parser.add_argument("--seconds", type=int, default=30, help="length of each wrk run")
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--workdir", type=Path, default=HERE / ".work")
    parser.add_argument("--out", type=Path, default=HERE / "CAPACITY.md")
    args = parser.parse_args()
    run.ensure_wrk()
    started, load_before = time.gmtime(), run.load_average()
    content, data = soak.bench_site(args.workdir, args.size)
    with tempfile.TemporaryDirectory(prefix="capacity-") as tmp:
        work_content, work_data = soak.copy_site(content, data, Path(tmp))
        db = open_db(work_data)
        slugs = [r[0] for r in db.execute("SELECT slug FROM entries WHERE status = 'published' ORDER BY slug")]
        db.conn.close()
        few = slugs[:: max(1, len(slugs) // 40)][:40]
        warm_paths = mix(itertools.cycle(QUERIES), itertools.cycle(few), len(QUERIES))
        env = {"KB_CONTENT_DIR": str(work_content), "KB_DATA_DIR": str(work_data)}  # result cache: the default
        with run.server("app:app", env, ROOT) as (base, master):
            workers = len(soak._workers(master))
            run.load(base, [p for _, p in warm_paths], 3, 10)  # every worker meets every warm path, as in soak
            warm = drive(base, warm_paths, args.connections, args.seconds)
            print(f"warm repeats: {warm['rps']:.0f} req/s, p95 {warm['p95']:.0f} ms", flush=True)
            # Room for a long tail up to 1.5 times the warm rate (it is slower), within what longtail makes.
            wanted = min(30_000, int(warm["rps"] * args.seconds * 1.5 * SEARCHES / len(BLOCK)) + 100)
            log = longtail.long_tail_queries(wanted)
            tail_paths = mix(iter(log), itertools.cycle(slugs), len(log) // SEARCHES)
            tail = drive(base, tail_paths, args.connections, args.seconds)
            print(f"long tail: {tail['rps']:.0f} req/s, p95 {tail['p95']:.0f} ms", flush=True)
    threads = runpy.run_path(str(ROOT / "gunicorn.conf.py")).get("threads")
    setup = {"size": args.size, "workers": workers, "threads": threads, "distinct": len(log), "slugs": len(slugs)}
    setup.update(started=started, load=(load_before, run.load_average()))
    write_report(args, setup, tail, warm)
    return 0


def write_report(args, setup: dict, tail: dict, warm: dict) -> None:
    """Write both runs, the long tail first, as Markdown."""
    shares = "share: " + " / ".join(KINDS.values())
    lines = [
        "# One node's read capacity",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', setup['started'])} by `{run.command_line()}` on"
        f" {run.machine()}; 1-minute load average"
        f" {setup['load'][0]} at the start and {setup['load'][1]} at the end (other processes share the machine).",
        "",
        f"One node as deployed: gunicorn with `gunicorn.conf.py`, {setup['workers']} workers of {setup['threads']}"
        f" threads, result cache on (the default), over {setup['size']} entries of `bench/corpus.py`. wrk with"
        f" {args.connections} connections for {args.seconds} s per run, each sending its next request as soon as"
        " the answer arrives (flat out), over the public mix of every 10 requests: 1 home page, 4 search pages,"
        " 2 `/api/search`, 3 entry pages. Latency is of every kind together.",
        "",
        f"| run | req/s | p50 (ms) | p95 (ms) | p99 (ms) | non-2xx | socket errors | requests | {shares} |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, r in (("**long tail** (each search a distinct query)", tail), ("warm repeats (60-query mix)", warm)):
        sent = sum(r["sent"].values()) or 1
        share = " / ".join(f"{r['sent'][k] / sent:.0%}" for k in KINDS)
        lines.append(
            f"| {name} | {r['rps']:.0f} | {r['p50']:.0f} | {r['p95']:.0f} | {r['p99']:.0f} | {r['non2xx']} |"
            f" {r['errors']} | {r['requests']} | {share} |"
        )
    searched = tail["sent"]["search"] + tail["sent"]["api"]
    again = (
        f"**{tail['again']} of them asked a query a second time** (wrk went round its list)"
        if tail["again"]
        else "none asked a query a second time"
    )
    lines += [
        "",
        f"- Long tail: {setup['distinct']} distinct queries from `bench/longtail.py`, each on one search page or"
        f" one API request; {searched} search requests sent, {again}."
        f" Entry pages go round all {setup['slugs']} published entries.",
        "- Warm repeats: the 60 queries of `bench/queries.py` and 40 entry pages, repeated: most searches"
        " are answered by the workers' result caches. Run first, after warming every worker; it sizes the"
        " long tail's list. Shown beside the long tail, never alone.",
        "- Shares are of the requests wrk sent; non-2xx counts every answer outside 200–299.",
    ]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines) + f"\n\nWritten to {args.out}")


if __name__ == "__main__":
    raise SystemExit(main())
