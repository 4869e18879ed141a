"""Relevance evaluation: this search and a SQLite FTS5 baseline on the same judged queries.

Run with `make eval` (or `python tests/eval/evaluate.py [--write-readme]`). It indexes the
fictional corpus in tests/eval/corpus with the product's own fields, synonyms and places, runs
every query in tests/eval/queries.yml through both engines and prints nDCG@10, MRR@10 and P@1
per query class, for all queries and separately for the fifth of each class held out from tuning,
and for the queries that should find nothing, how often each engine still claimed a full match and
how many results it showed. It exits 1 if a target is missed; aims not yet reached are listed.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from fts5 import expression as fts5_expression  # noqa: E402  (bench/fts5.py: one way to quote user text)

from indexer import SearchIndex  # noqa: E402
from kb.catalog import index_dir, reindex  # noqa: E402
from kb.entries import load_fields, parse_entry  # noqa: E402
from kb.scanning import scan_entries  # noqa: E402
from kb.vocabulary import load_vocabulary  # noqa: E402

HERE = Path(__file__).resolve().parent
K = 10
# A result counts as relevant for MRR and P@1 when judged 2 ("clearly relevant") or 3.
RELEVANT = 2
TARGETS = {"ndcg": 0.95, "p1": 0.90, "class_ndcg": 0.85, "no_answer_shown": 2.0}
# Where search should get to, on the held-out half: listed when missed, not yet a failure.
AIMS = {"class_ndcg": 0.90, "p1": 0.95, "no_answer_claims": 0, "no_answer_shown": 1.0}
# Queries on topics no entry covers: nothing is relevant, the right answer is "không có".
NO_ANSWER = "no_answer"
# The classes TARGETS gate (a miss fails the run): every judged class. A class added later is
# measured against AIMS only until it reaches them, then gated too. For no_answer the gate is
# at most as many full-match claims as FTS5 and at most TARGETS["no_answer_shown"] results shown.
GATED = ("exact_title", "keywords", "no_diacritics", "old_tone", "abbreviation", "typo", "question",
         "unit_place_theme", "phrase", "paraphrase", "telex", "disambiguation")  # fmt: skip


@dataclass(frozen=True)
class Judged:
    """One query, its class and the graded relevant entries."""

    q: str
    cls: str
    relevant: dict[str, int]
    held_out: bool = False  # never looked at while tuning


@dataclass(frozen=True)
class Answer:
    """What an engine showed for a query: the top K slugs, how many results, and whether it
    presented them as having every word (rather than as a partial, relaxed match)."""

    ranked: list[str]
    total: int
    full: bool


def load_queries(path: Path = HERE / "queries.yml") -> list[Judged]:
    """Read the judged queries."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        Judged(str(d["q"]), d["class"], {str(k): int(v) for k, v in d["relevant"].items()}, bool(d.get("held_out")))
        for d in data
    ]


def ndcg(ranked: list[str], relevant: dict[str, int], k: int = K) -> float:
    """Return normalised discounted cumulative gain at k, gains 2^grade - 1."""
    dcg = sum((2 ** relevant.get(s, 0) - 1) / math.log2(i + 2) for i, s in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def mrr(ranked: list[str], relevant: dict[str, int], k: int = K) -> float:
    """Return the reciprocal rank of the first clearly relevant result within k."""
    for i, slug in enumerate(ranked[:k]):
        if relevant.get(slug, 0) >= RELEVANT:
            return 1.0 / (i + 1)
    return 0.0


def p_at_1(ranked: list[str], relevant: dict[str, int]) -> float:
    """Return 1 if the first result is clearly relevant."""
    return 1.0 if ranked and relevant.get(ranked[0], 0) >= RELEVANT else 0.0


def build_content(workdir: Path) -> Path:
    """Lay out a content directory: the corpus entries with the product's vocabularies."""
    content = workdir / "content"
    shutil.copytree(HERE / "corpus" / "models", content / "models")
    for name in ("fields.yml", "synonyms.yml", "places.yml"):
        shutil.copy(ROOT / "content" / name, content / name)
    # Everyday wording is grown from a knowledge base's own entries: the corpus has its own.
    shutil.copy(HERE / "corpus" / "concepts.yml", content / "concepts.yml")
    return content


class OurSearch:
    """This project's search, over a fresh index of the corpus."""

    name = "Kho mô hình hay"

    def __init__(self, content: Path, data: Path) -> None:
        """Index the corpus."""
        report = reindex(content, data, full=True)
        if report.skipped:
            raise SystemExit("corpus entries were skipped:\n" + "\n".join(map(str, report.problems)))
        vocab = load_vocabulary(content)
        self.index = SearchIndex(index_dir(data), vocab.thesaurus, vocab.regions)

    def ranked(self, query: str) -> list[str]:
        """Return the top K slugs."""
        return self.answer(query).ranked

    def answer(self, query: str) -> Answer:
        """Return what the search page shows: the top K, the total, and whether it claims every word."""
        results = self.index.search(query, per_page=K)
        return Answer([h.slug for h in results.hits], results.total, results.total > 0 and not results.relaxed)


class Fts5Baseline:
    """SQLite FTS5 with unicode61 remove_diacritics 2 and bm25, title weighted: a typical setup."""

    name = "SQLite FTS5"
    WEIGHTS = (10.0, 4.0, 2.0, 1.0)  # title, summary, unit/province/fields/tags, body

    def __init__(self, content: Path) -> None:
        """Index the entries' text as written."""
        self.db = sqlite3.connect(":memory:")
        self.db.execute(
            "CREATE VIRTUAL TABLE docs USING fts5(slug UNINDEXED, title, summary, meta, body,"
            " tokenize = 'unicode61 remove_diacritics 2')"
        )
        allowed = load_fields(content / "fields.yml")
        for path in scan_entries(content):
            raw = path.read_bytes()
            entry = parse_entry(raw, path.relative_to(content).as_posix(), allowed)
            text = raw.decode("utf-8")  # a generic engine indexes what the author wrote
            front, body = text.split("---", 2)[1:]
            meta = yaml.safe_load(front)
            fields = " ".join(
                [str(meta.get(k) or "") for k in ("unit", "province")] + meta["fields"] + (meta.get("tags") or [])
            )
            self.db.execute(
                "INSERT INTO docs VALUES (?, ?, ?, ?, ?)", (entry.slug, meta["title"], meta["summary"], fields, body)
            )

    def ranked(self, query: str) -> list[str]:
        """Return the top K slugs: every word first, any word if that finds nothing."""
        return self.answer(query).ranked

    def answer(self, query: str) -> Answer:
        """Return the top K, the number of matches, and whether every word matched (the AND pass)."""
        for joiner in (" AND ", " OR "):
            expression = fts5_expression(query, joiner)
            if not expression:
                return Answer([], 0, False)
            rows = self.db.execute(
                f"SELECT slug FROM docs WHERE docs MATCH ? ORDER BY bm25(docs, 0, {', '.join(map(str, self.WEIGHTS))})"
                f" LIMIT {K}",
                (expression,),
            ).fetchall()
            if rows:
                (total,) = self.db.execute("SELECT count(*) FROM docs WHERE docs MATCH ?", (expression,)).fetchone()
                return Answer([r[0] for r in rows], total, joiner == " AND ")
        return Answer([], 0, False)


def evaluate(engine, queries: list[Judged]) -> dict[tuple[str, str], dict[str, float]]:
    """Return, per (class, half), the mean nDCG@10, MRR@10 and P@1, or for queries that should find
    nothing the number answered as a full match ("claims") and the mean results shown ("shown").

    Halves: "all", "tuned" and "held_out"; class "all" is every judged class but no_answer,
    "gated" the classes of GATED.
    """
    sums: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for judged in queries:
        answer = engine.answer(judged.q)
        half = "held_out" if judged.held_out else "tuned"
        groups = [judged.cls] if judged.cls == NO_ANSWER else [judged.cls, "all"]
        groups += ["gated"] if judged.cls in GATED else []
        for cls in groups:
            for h in ("all", half):
                s = sums[cls, h]
                s["n"] += 1
                if cls == NO_ANSWER:
                    s["claims"] += answer.full
                    s["shown"] += answer.total
                else:
                    s["ndcg"] += ndcg(answer.ranked, judged.relevant)
                    s["mrr"] += mrr(answer.ranked, judged.relevant)
                    s["p1"] += p_at_1(answer.ranked, judged.relevant)
    return {key: {m: (v if m in ("n", "claims") else v / s["n"]) for m, v in s.items()} for key, s in sums.items()}


def table(ours: dict, base: dict, classes: list[str]) -> str:
    """Format both engines' figures as Markdown tables: all queries, the two halves, no_answer."""
    judged = [c for c in classes if c != NO_ANSWER]
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Measured by `make eval` on {when} ({platform.machine()}, {os.cpu_count()} cores, Python"
        f" {platform.python_version()}).",
        "",
        "| class | queries | nDCG@10 | FTS5 nDCG@10 | MRR@10 | FTS5 MRR@10 | P@1 | FTS5 P@1 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    gated_row = ["gated"] if ours["gated", "all"]["n"] != ours["all", "all"]["n"] else []  # else the same
    for cls in [*judged, *gated_row, "all"]:
        o, b = ours[cls, "all"], base[cls, "all"]
        name = {"all": "**overall**", "gated": "*gated classes*"}.get(cls, cls)
        lines.append(
            f"| {name} | {int(o['n'])} | {o['ndcg']:.3f} | {b['ndcg']:.3f} | {o['mrr']:.3f} | {b['mrr']:.3f}"
            f" | {o['p1']:.3f} | {b['p1']:.3f} |"
        )
    lines += [
        "",
        "Tuned on one part, checked on the other (the held-out fifth of each class is never looked at while tuning):",
        "",
        "| class | tuned | nDCG@10 | P@1 | held out | nDCG@10 | FTS5 nDCG@10 | P@1 | FTS5 P@1 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for cls in [*judged, "all"]:
        t, h, b = ours[cls, "tuned"], ours.get((cls, "held_out")), base.get((cls, "held_out"))
        name = "**overall**" if cls == "all" else cls
        held = "0 | | | |"
        if h:
            held = f"{int(h['n'])} | {h['ndcg']:.3f} | {b['ndcg']:.3f} | {h['p1']:.3f} | {b['p1']:.3f}"
        lines.append(f"| {name} | {int(t['n'])} | {t['ndcg']:.3f} | {t['p1']:.3f} | {held} |")
    if (NO_ANSWER, "all") in ours:
        lines += [
            "",
            "Topics no entry covers (nothing should be found):",
            "",
            "| no_answer | queries | answered as if every word were found | FTS5 | results shown, mean | FTS5 |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for half, label in (("tuned", "tuned"), ("held_out", "held out")):
            o, b = ours[NO_ANSWER, half], base[NO_ANSWER, half]
            lines.append(
                f"| {label} | {int(o['n'])} | {int(o['claims'])} | {int(b['claims'])} | {o['shown']:.1f}"
                f" | {b['shown']:.1f} |"
            )
    return "\n".join(lines)


def misses(ours: dict, base: dict, classes: list[str]) -> list[str]:
    """Return the targets that were not met, in words (over the queries of the gated classes)."""
    found = []
    if ours["gated", "all"]["ndcg"] < TARGETS["ndcg"]:
        found.append(f"gated classes: nDCG@10 {ours['gated', 'all']['ndcg']:.3f} < {TARGETS['ndcg']}")
    if ours["gated", "all"]["p1"] < TARGETS["p1"]:
        found.append(f"gated classes: P@1 {ours['gated', 'all']['p1']:.3f} < {TARGETS['p1']}")
    for cls in classes:
        if cls not in GATED:
            continue
        o, b = ours[cls, "all"], base[cls, "all"]
        if o["ndcg"] < TARGETS["class_ndcg"]:
            found.append(f"{cls}: nDCG@10 {o['ndcg']:.3f} < {TARGETS['class_ndcg']}")
        for metric in ("ndcg", "mrr", "p1"):  # compared as printed, to three decimals
            if round(o[metric], 3) < round(b[metric], 3):
                found.append(f"{cls}: {metric} {o[metric]:.3f} below FTS5 {b[metric]:.3f}")
    if (o := ours.get((NO_ANSWER, "all"))) is not None:
        b = base[NO_ANSWER, "all"]
        if o["claims"] > b["claims"]:
            found.append(f"no_answer: {o['claims']:.0f} full-match claims, FTS5 {b['claims']:.0f}")
        if round(o["shown"], 1) > TARGETS["no_answer_shown"]:
            found.append(f"no_answer: {o['shown']:.1f} results shown on average > {TARGETS['no_answer_shown']}")
    return found


def aims_missed(ours: dict, base: dict, classes: list[str]) -> list[str]:
    """Return the aims not reached yet, in words: on the held-out half, and for the classes not
    gated yet, the targets over all their queries."""
    found = []
    for cls in classes:
        if cls in GATED or cls == NO_ANSWER:
            continue
        o, b = ours[cls, "all"], base[cls, "all"]
        if o["ndcg"] < TARGETS["class_ndcg"] or o["ndcg"] < b["ndcg"]:
            found.append(f"{cls} (not gated yet): nDCG@10 {o['ndcg']:.3f}, FTS5 {b['ndcg']:.3f}")
    if (held := ours.get(("all", "held_out"))) and held["p1"] < AIMS["p1"]:
        found.append(f"held out: overall P@1 {held['p1']:.3f} < {AIMS['p1']}")
    for cls in classes:
        o, b = ours.get((cls, "held_out")), base.get((cls, "held_out"))
        if o is None:
            continue
        if cls == NO_ANSWER:
            if o["claims"] > AIMS["no_answer_claims"]:
                found.append(f"held out: no_answer answered as a full match {int(o['claims'])} times")
            if o["shown"] > AIMS["no_answer_shown"]:
                aim = AIMS["no_answer_shown"]
                found.append(f"held out: no_answer shows {o['shown']:.1f} results on average, aim {aim}")
            continue
        if o["ndcg"] < AIMS["class_ndcg"]:
            found.append(f"held out: {cls} nDCG@10 {o['ndcg']:.3f} < {AIMS['class_ndcg']}")
        if o["ndcg"] < b["ndcg"]:
            found.append(f"held out: {cls} nDCG@10 {o['ndcg']:.3f} below FTS5 {b['ndcg']:.3f}")
    return found


def run() -> tuple[str, list[str], dict, dict]:
    """Run the whole evaluation; return the tables, the missed targets and both result sets."""
    queries = load_queries()
    classes = list(dict.fromkeys(q.cls for q in queries))
    with tempfile.TemporaryDirectory() as tmp:
        content = build_content(Path(tmp))
        ours = evaluate(OurSearch(content, Path(tmp) / "data"), queries)
        base = evaluate(Fts5Baseline(content), queries)
    return table(ours, base, classes), misses(ours, base, classes), ours, base


def per_query(queries: list[Judged] | None = None) -> list[tuple[Judged, list[str], float]]:
    """Return each query with our ranking and its nDCG@10, worst first (for tuning)."""
    queries = queries or load_queries()
    with tempfile.TemporaryDirectory() as tmp:
        content = build_content(Path(tmp))
        engine = OurSearch(content, Path(tmp) / "data")
        rows = [(j, engine.ranked(j.q)) for j in queries]
    # A query that should find nothing scores 1 when nothing was shown, else 0.
    scored = ((j, r, ndcg(r, j.relevant) if j.relevant else float(not r)) for j, r in rows)
    return sorted(scored, key=lambda row: row[2])


def write_readme(text: str, readme: Path = ROOT / "docs" / "search.md") -> None:
    """Replace the tables between the evaluation markers in docs/search.md."""
    start, end = "<!-- relevance:start -->", "<!-- relevance:end -->"
    content = readme.read_text(encoding="utf-8")
    before, rest = content.split(start, 1)
    after = rest.split(end, 1)[1]
    readme.write_text(f"{before}{start}\n{text}\n{end}{after}", encoding="utf-8")


def main() -> int:
    """Print the table (and write it into docs/search.md if asked); exit 1 on a missed target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-readme", action="store_true", help="update the tables in docs/search.md")
    parser.add_argument("--worst", type=int, default=0, help="also list the N worst queries of the tuned half")
    args = parser.parse_args()
    text, missed, ours, base = run()
    print(text)
    classes = list(dict.fromkeys(q.cls for q in load_queries()))
    for aim in aims_missed(ours, base, classes):
        print("AIM NOT YET REACHED:", aim)
    if args.worst:
        for judged, ranked, score in per_query([q for q in load_queries() if not q.held_out])[: args.worst]:
            print(f"{score:.3f}  [{judged.cls}] {judged.q!r} -> {ranked[:5]}  wanted {judged.relevant}")
    if args.write_readme:
        write_readme(text)
    for miss in missed:
        print("MISSED:", miss)
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
