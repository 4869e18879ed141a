"""How long from a save on the writer to the entry found by a reader's search, through git.

    .venv/bin/python bench/sync_lag.py [--runs 10]

Two sites on this machine share a bare repository (a path): the writer holds the shipped
content, the reader joined it with `kb sync`. Each run saves a new entry on the writer, syncs the
writer (commit, fetch, merge, push), then syncs the reader (fetch, merge, reindex) and searches
it. The times are of that work alone: with KB_SYNC_INTERVAL, a reader also waits for its next
sync, up to one interval. Prints the date, machine and the median and largest of each step.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        remote = base / "kho-chung.git"
        subprocess.run(["git", "init", "--quiet", "--bare", "--initial-branch", "main", str(remote)], check=True)
        os.environ["KB_GIT_REMOTE"] = str(remote)
        writer = (base / "ghi" / "content", base / "ghi" / "data")
        reader = (base / "doc" / "content", base / "doc" / "data")
        shutil.copytree(ROOT / "content", writer[0])
        reindex(*writer)
        _sync(*writer)
        reader[0].mkdir(parents=True)
        _sync(*reader)
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
    command = f"`python bench/sync_lag.py --runs {args.runs}`"
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()} · load {load:.1f} · {command}")  # fmt: skip
    for name, values in steps.items():
        print(f"  {name}: median {statistics.median(values):.2f} s, largest {max(values):.2f} s")


if __name__ == "__main__":
    main()
