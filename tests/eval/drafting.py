"""How well "Tạo từ tài liệu" proposes an entry: titles, units, provinces and fields that were right.

Run with `.venv/bin/python tests/eval/drafting.py`. Two sets, reported separately:

- samples: the reports of tests/drafting_samples.py (invented units; DOCX, PDF, text and a pasted
  article), whose expected values were written before kb/drafting.py was tuned (on them);
- held out: four more such reports, written after the first tuning; measured once (titles 1/4,
  docs/drafting.md), then a second round was tuned on them, so they are held out no longer;
- shipped: the news report the shipped entries come from (/work/shared/sources, or --report),
  split into one passage per model, each drafted with its own entry left out of the knowledge
  base (its fields and unit row do not count) and compared with the entry as shipped.

The knowledge base is the shipped content/ indexed into a temporary folder.
"""

from __future__ import annotations

import argparse
import platform
import re
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from drafting_samples import HELD_OUT, SAMPLES  # noqa: E402

from indexer import SearchIndex  # noqa: E402
from kb.catalog import index_dir, reindex  # noqa: E402
from kb.drafting import fold, gather, propose  # noqa: E402
from kb.drafts import read_draft  # noqa: E402
from kb.extract import extract  # noqa: E402
from kb.store import open_db  # noqa: E402
from kb.vocabulary import load_vocabulary  # noqa: E402

REPORT = Path("/work/shared/sources/baonghean-2022-09-20.txt")
# The report's models in the order it lists them, by the slug of the entry shipped for each.
SHIPPED_ORDER = [
    "tu-thuoc-bien-cuong", "kiem-tra-va-bo-tro-kien-thuc-tren-google-form", "to-hop-nha-thien-nguyen",
    "cum-an-ninh-lien-ket", "to-tau-thuyen-doan-ket", "to-do-doan-ket",
    "cum-dan-cu-tham-gia-bao-ve-chu-quyen-lanh-tho-an-ninh-bien-gioi-quoc-gia", "thap-sang-vung-bien",
    "dien-tap-lien-hop-ngan-chan-di-cu-tu-do-va-xuat-nhap-canh-trai-phep-qua-bien-gioi-viet-nam-lao",
]  # fmt: skip


def split_report(text: str) -> list[str]:
    """Return one passage per model of the report's list, each with the unit it is credited to.

    The report lists the models in one sentence: items split by ";" (and by ", " before a quoted
    name or "tổ chức"), each group of items ending with "của <unit>", which every item of the
    group before it is credited to.
    """
    paragraph = next(p for p in text.split("\n\n") if "có thể kể đến:" in p)
    lead, listed = paragraph.split(":", 1)
    items = [i.strip(" .…") for part in listed.split(";") for i in re.split(r",\s+(?=[\"“]|tổ chức)", part)]
    passages, waiting = [], []
    for item in items:
        owner = re.search(r"\s(của (?:Bộ đội Biên phòng|BĐBP)[^,]*)$", item)
        waiting.append(item)
        if owner or item.startswith("tổ chức"):
            clause = owner.group(1) if owner else ""
            passages += [f"{lead}: {w}{'' if w.endswith(clause) else ' ' + clause}." for w in waiting]
            waiting = []
    return passages + [f"{lead}: {w}." for w in waiting]


def score(rows: list[dict]) -> dict[str, int]:
    """Count the right proposals of a set."""
    return {
        "n": len(rows),
        "title": sum(fold(r["got"].title) == fold(r["want"]["title"]) for r in rows),
        "unit": sum(fold(r["got"].unit) == fold(r["want"]["unit"]) for r in rows),
        "province": sum(fold(r["got"].province) == fold(r["want"]["province"]) for r in rows),
        "fields_any": sum(bool(set(r["got"].fields) & set(r["want"]["fields"])) for r in rows),
        "fields_all": sum(set(r["got"].fields) == set(r["want"]["fields"]) for r in rows),
    }


def show(name: str, rows: list[dict], verbose: bool) -> None:
    """Print a set's figures (and each miss with --verbose)."""
    s = score(rows)
    n = s["n"]
    print(f"{name}: {n} documents")
    print(f"  title {s['title']}/{n} · unit {s['unit']}/{n} · province {s['province']}/{n} · "
          f"fields ≥1 right {s['fields_any']}/{n}, all right {s['fields_all']}/{n}")  # fmt: skip
    if verbose:
        for r in rows:
            got, want = r["got"], r["want"]
            for key in ("title", "unit", "province", "fields"):
                mine = getattr(got, key)
                if (set(mine) != set(want[key])) if key == "fields" else fold(mine) != fold(want[key]):
                    print(f"    {r['name']}: {key} {mine!r} ≠ {want[key]!r}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--report", type=Path, default=REPORT)
    parser.add_argument("-v", "--verbose", action="store_true", help="print every value that was wrong")
    args = parser.parse_args()
    content = ROOT / "content"
    work = Path(tempfile.mkdtemp(prefix="kb-drafting-eval-"))
    started = time.perf_counter()
    try:
        reindex(content, work)
        db, regions = open_db(work), load_vocabulary(content).regions
        index = SearchIndex(index_dir(work), None, regions)
        samples, held_out = [], []
        for chosen, rows in ((SAMPLES, samples), (HELD_OUT, held_out)):
            for sample in chosen:
                ext = "txt" if sample.kind == "paste" else sample.kind
                doc = extract(sample.data(), ext, sample.name or "bai-bao.txt")
                knowledge = gather(content, db, index, regions)
                got = propose(doc, knowledge, source_url=sample.url, name=sample.name).draft
                rows.append({"name": sample.name or "pasted", "got": got, "want": vars(sample)})
        shipped = []
        if args.report.exists():
            passages = split_report(args.report.read_text("utf-8"))
            for slug, passage in zip(SHIPPED_ORDER, passages, strict=True):
                entry = read_draft((content / "models" / f"{slug}.md").read_bytes())[0]
                knowledge = gather(content, db, index, regions, leave_out=slug)
                got = propose(extract(passage.encode(), "txt"), knowledge).draft
                want = {"title": entry.title, "unit": entry.unit, "province": entry.province, "fields": entry.fields}
                shipped.append({"name": slug, "got": got, "want": want})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"{stamp} · {platform.node()} · Python {platform.python_version()} · {time.perf_counter() - started:.1f} s")
    show("samples (tests/drafting_samples.py SAMPLES, expectations written before tuning, then tuned on)", samples,
         args.verbose)  # fmt: skip
    show("formerly held out (tests/drafting_samples.py HELD_OUT: measured once before a second round tuned on them)",
         held_out, args.verbose)  # fmt: skip
    if shipped:
        show(f"shipped report ({args.report.name}, one passage per model, own entry left out)", shipped, args.verbose)
    else:
        print(f"shipped report: {args.report} not found")
    return 0


if __name__ == "__main__":
    sys.exit(main())
