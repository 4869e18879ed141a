"""How long from a save on the writer to the entry found by a reader's search, through git.

    .venv/bin/python bench/sync_lag.py [--runs 10] [--size 10000]

Two sites on this machine share a bare repository (a path): the writer holds the shipped
content (or, with --size N, the N-entry benchmark corpus of bench/corpus.py, built once in
bench/.work/N as bench/run.py keeps it, and copied with its index), the reader joins it with
`kb sync` (a clone and a full index: timed and printed apart). Each run saves a new entry on the
writer, syncs the writer (commit, fetch, merge, push), then syncs the reader (fetch, merge,
incremental reindex) and searches it. The times are of that work alone: with KB_SYNC_INTERVAL, a
reader also waits for its next sync, up to one interval. Prints the date, machine, size, the
join and the median and largest of each step.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

import run as bench  # noqa: E402
import soak  # noqa: E402

from indexer import SearchIndex  # noqa: E402
from kb import gitsync  # noqa: E402
from kb.catalog import reindex  # noqa: E402
from kb.drafts import Draft  # noqa: E402
from kb.editing import Who, save_entry  # noqa: E402
from kb.sharing import sync_site  # noqa: E402
from kb.store import open_db  # noqa: E402


def _sync(content: Path, data: Path) -> gitsync.SyncReport:
    report = sync_site(content, data)
    if not report.ok:
        raise SystemExit(report.message)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--size", type=int, default=0, help="entries of the benchmark corpus (0: the shipped content)")
    parser.add_argument("--workdir", type=Path, default=HERE / ".work", help="where the benchmark corpus is kept")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        remote = base / "kho-chung.git"
        subprocess.run(["git", "init", "--quiet", "--bare", "--initial-branch", "main", str(remote)], check=True)
        os.environ["KB_GIT_REMOTE"] = str(remote)
        writer = (base / "ghi" / "content", base / "ghi" / "data")
        reader = (base / "doc" / "content", base / "doc" / "data")
        if args.size:
            soak.copy_site(*soak.bench_site(args.workdir, args.size), base / "ghi")
        else:
            shutil.copytree(ROOT / "content", writer[0])
            reindex(*writer)
        entries = sum(1 for _ in (writer[0] / "models").rglob("*.md"))
        started = time.perf_counter()
        _sync(*writer)
        first_push = time.perf_counter() - started
        reader[0].mkdir(parents=True)
        started = time.perf_counter()
        _sync(*reader)
        joined = time.perf_counter() - started
        steps: dict[str, list[float]] = {"save": [], "writer's sync": [], "reader's sync": [], "save → found": []}
        for run in range(args.runs):
            word = f"xqzdotre{run}"
            draft = Draft(title=f"Mô hình đo độ trễ {run}", summary=f"Đo {word}.", unit="Đồn Biên phòng Đo",
                          fields=["Dân vận"], body=f"## Cách làm\n\nĐo {word}.\n", status="published")  # fmt: skip
            started = time.perf_counter()
            result = save_entry(*writer, open_db(writer[1]), draft, slug=None, base_hash="", author=Who("bientap"))
            saved = time.perf_counter()
            _sync(*writer)
            pushed = time.perf_counter()
            _sync(*reader)
            synced = time.perf_counter()
            hits = [h.slug for h in SearchIndex(reader[1] / "index").search(word).hits]
            found = time.perf_counter()
            assert hits == [result.slug], hits
            for name, seconds in zip(steps, (saved - started, pushed - saved, synced - pushed, found - started),
                                     strict=True):  # fmt: skip
                steps[name].append(seconds)
    load = os.getloadavg()[0]
    size = f"{args.size} entries of bench/corpus.py" if args.size else "the shipped content"
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {platform.machine()}, {bench.machine()} · load {load:.1f}"
          f" · `{bench.command_line()}`")  # fmt: skip
    print(f"  size: {size} ({entries} entry files on the writer)")
    print(f"  writer's first push (commit and push of every file): {first_push:.1f} s")
    print(f"  reader's join (clone and full index, once): {joined:.1f} s")
    for name, values in steps.items():
        print(f"  {name}: median {statistics.median(values):.2f} s, largest {max(values):.2f} s")


if __name__ == "__main__":
    main()
