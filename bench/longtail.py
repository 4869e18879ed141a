"""The long tail: a log of a few hundred distinct queries, each asked once after start-up.

A server worker that has just started, or that serves a large knowledge base, mostly sees
queries it has not seen before: its memos and caches do not help them. This module writes
such a log, deterministically, from the synthetic corpus's vocabulary (bench/corpus.py) in
the classes `make eval` judges (with and without diacritics, typos, questions, Telex keys,
abbreviations, phrases, old tone placement, titles, units and places, topics no entry
covers), and measures an engine over it in a fresh process: open the index, one first
search, then every query of the log once (the long tail), then the log again (the warm
repeat).

    python bench/longtail.py --engine ours --content C --data D --log Q.json --out R.json

is how bench/run.py runs each engine; `--engine` is ours, plain (bench/plain_whoosh.py),
ours-public (this site on Whoosh's public API only, without indexer's Whoosh speed-ups) or fts5.
"""

from __future__ import annotations

import argparse
import importlib
import json
import random
import re
import sys
import time
import unicodedata
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [p for p in (str(ROOT), str(HERE)) if p not in sys.path]

import corpus  # noqa: E402

# Queries of each class in a log of 400 (scaled for other sizes).
CLASSES = {
    "keywords": 60,
    "no_diacritics": 60,
    "typo": 45,
    "question": 50,
    "telex": 30,
    "abbreviation": 30,
    "phrase": 25,
    "old_tone": 20,
    "exact_title": 25,
    "unit_place": 25,
    "no_answer": 30,
}
SIZE = sum(CLASSES.values())
OPENING = "khởi động"  # the first search after opening: not in the log
# Words the synthetic entries never use: topics a knowledge base may lack.
ABSENT = [
    "nuôi gà thả vườn", "bệnh lao phổi", "bóng đá", "trồng cà phê", "lễ hội đền", "nuôi ong lấy mật",
    "sốt xuất huyết", "cầu lông", "trồng sầu riêng", "chăn nuôi dê", "sửa xe máy", "karaoke",
    "tiêm vắc xin cúm", "đua thuyền rồng", "nấu rượu ngô", "trồng chè shan tuyết",
]  # fmt: skip
ABBREVIATIONS = ["BĐBP", "CBCS", "TKCN", "PCTT", "ANTT", "XNC", "NTM", "ANBG", "UBND", "BCH"]
QUESTIONS = [
    "làm sao {verb} {object} ở {place}?",
    "{object} ở vùng biên thì đồn biên phòng làm gì?",
    "cách {verb} {object} cho bà con như thế nào?",
    "đồn biên phòng {place} có mô hình {topic} không?",
    "mô hình nào giúp {verb} {object}?",
    "làm thế nào để {topic} hiệu quả?",
    "ở {place} {issue} thì xử lý ra sao?",
    "vì sao {topic} được nhân rộng?",
]
# Old tone placement ("hoà" for "hòa"): the syllables of the corpus that have both forms.
OLD_TONE = {"hóa": "hoá", "hòa": "hoà", "xóa": "xoá", "thủy": "thuỷ", "khỏe": "khoẻ", "hóa,": "hoá,"}
_TONES = {"\u0301": "s", "\u0300": "f", "\u0309": "r", "\u0303": "x", "\u0323": "j"}
_SHAPES = {"\u0302": None, "\u0306": "w", "\u031b": "w"}  # circumflex doubles the vowel


def telex(text: str) -> str:
    """Type text with the Vietnamese keyboard off, in Telex keys ("thắp" -> "thaps")."""
    out = []
    for word in text.split():
        tone, keys = "", []
        for ch in unicodedata.normalize("NFD", word.lower()):
            if ch in _TONES:
                tone = _TONES[ch]
            elif ch in _SHAPES:
                keys.append(_SHAPES[ch] or keys[-1])
            elif ch == "đ":
                keys.append("dd")
            else:
                keys.append(ch)
        out.append("".join(keys) + tone)
    return " ".join(out)


def fold(text: str) -> str:
    """Drop every diacritic, as a query typed without them ("đồn" -> "don")."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize("NFC", "".join(c for c in text if not unicodedata.combining(c)))


def typo(text: str, rng: random.Random) -> str:
    """Put one typo in one word of three letters or more: a letter dropped, swapped or changed, or a mark lost."""
    words = text.split()
    long = [i for i, w in enumerate(words) if len(w) >= 3 and w.isalpha()]
    if not long:
        return text
    i = rng.choice(long)
    w = words[i]
    j = rng.randrange(1, len(w))
    kind = rng.randrange(4)
    if kind == 0:
        w = w[:j] + w[j + 1 :]
    elif kind == 1 and j < len(w) - 1:
        w = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    elif kind == 2:
        w = w[:j] + rng.choice("aeinotuhc") + w[j + 1 :]
    else:  # a tone mark or a vowel's shape lost on one letter
        w = w[:j] + fold(w[j]) + w[j + 1 :] if fold(w[j]) != w[j] else w[:j] + w[j + 1 :]
    words[i] = w
    return " ".join(words)


def _pick(rng: random.Random) -> dict[str, str]:
    """Return one topic's slots, as the corpus fills its sentences."""
    topic, theme, words = rng.choice(corpus.TOPICS)
    first = rng.choice(words)
    return {
        "topic": topic,
        "theme": theme,
        "object": first,
        "other": rng.choice([w for w in words if w != first]),
        "place": rng.choice(corpus.PLACES),
        "post": f"{rng.choice(corpus.POSTS)} {rng.choice(corpus.POST_TAILS)}",
        "verb": rng.choice(corpus.VERBS),
        "issue": rng.choice(corpus.ISSUES),
        "year": str(rng.randint(2015, 2025)),
    }


def _keywords(s: dict[str, str], rng: random.Random) -> str:
    """Return a few words as people type them: a topic, an object, a place, an issue."""
    forms = [
        "{topic}", "{topic} {place}", "{object}", "{object} {place}", "{object} {other}", "{issue} {place}",
        "{topic} {object}", "{issue}", "{object} năm {year}", "{topic} {theme}", "{verb} {object}",
    ]  # fmt: skip
    return rng.choice(forms).format(**s)


def _one(cls: str, rng: random.Random) -> tuple[str, dict[str, list[str]], int]:
    """Return one query of a class: (text, filters, page)."""
    s = _pick(rng)
    filters: dict[str, list[str]] = {}
    if cls == "keywords":
        q = _keywords(s, rng)
        if rng.random() < 0.15:
            filters = {"province": [s["place"]]} if rng.random() < 0.5 else {"year": [s["year"]]}
    elif cls == "no_diacritics":
        q = fold(_keywords(s, rng))
    elif cls == "typo":
        q = typo(_keywords(s, rng) if rng.random() < 0.6 else fold(_keywords(s, rng)), rng)
    elif cls == "question":
        q = rng.choice(QUESTIONS).format(**s)
        q = fold(q) if rng.random() < 0.25 else q
    elif cls == "telex":
        q = telex(_keywords(s, rng))
    elif cls == "abbreviation":
        q = f"{rng.choice(ABBREVIATIONS)} {rng.choice([s['place'], s['object'], s['topic'], fold(s['place'])])}"
    elif cls == "phrase":
        q = rng.choice(['"{object}" {place}', '"{topic}"', '{topic} -"{other}"', '"{object}" {verb}']).format(**s)
    elif cls == "old_tone":
        with_mark = [t for t in corpus.TOPICS if any(k in f"{t[0]} {' '.join(t[2])}" for k in OLD_TONE)]
        places = [p.lower() for p in corpus.PLACES if any(k in p.lower() for k in OLD_TONE)]
        topic, _theme, words = rng.choice(with_mark)
        base = rng.choice([topic, *[w for w in words if any(k in w for k in OLD_TONE)]])
        q = f"{base} {rng.choice(places)}" if rng.random() < 0.4 else base
        q = " ".join(OLD_TONE.get(w, w) for w in q.split())
    elif cls == "exact_title":
        title = yaml.safe_load(corpus.entry_text(rng.randrange(1000))[1].split("---", 2)[1])["title"]
        q = re.sub(r"\s*\(\d+\)$", "", title)
        q = q.split(" – ")[0] if rng.random() < 0.5 else q
    elif cls == "unit_place":
        q = rng.choice(["Đồn Biên phòng {post}", "đồn {post}", "BĐBP tỉnh {place}", "{topic} đồn {post}",
                        "biên phòng {place}", "{place} {theme}"]).format(**s)  # fmt: skip
    elif cls == "no_answer":
        absent = rng.choice(ABSENT)
        q = rng.choice([absent, fold(absent), f"{absent} {s['place']}", f"{absent} ở vùng biên"])
    else:
        raise ValueError(cls)
    page = 2 if rng.random() < 0.05 else 1
    return " ".join(q.split()), filters, page


def long_tail_queries(size: int = SIZE, seed: int = 2026) -> list[tuple[str, dict[str, list[str]], int, str]]:
    """Return size distinct queries (text, filters, page, class), the same every time."""
    rng = random.Random(seed)
    seen: set[tuple] = set()
    out = []
    for cls, share in CLASSES.items():
        want = max(1, round(share * size / SIZE))
        made, tries = 0, 0
        while made < want and tries < want * 50:
            tries += 1
            q, f, p = _one(cls, rng)
            key = (q.lower(), json.dumps(f, sort_keys=True, ensure_ascii=False))
            if not q or key in seen:
                continue
            seen.add(key)
            out.append((q, f, p, cls))
            made += 1
    random.Random(seed + 1).shuffle(out)  # a log, not grouped by class
    return out


# ---- measuring one engine in this process --------------------------------------------

MODULES = {
    "ours": ["indexer", "kb.catalog", "kb.vocabulary"],
    "plain": ["plain_whoosh", "kb.catalog"],
    "ours-public": ["indexer", "kb.catalog", "kb.vocabulary"],
    "fts5": ["fts5"],
}


def _engine(name: str, content: Path, data: Path, db: Path):
    """Open an engine; return search(q, filters, page, cache) -> (total, top titles)."""
    if name in ("ours", "ours-public"):
        from indexer import SearchIndex
        from kb.catalog import index_dir
        from kb.vocabulary import load_vocabulary

        vocab = load_vocabulary(content)
        index = SearchIndex(index_dir(data), vocab.thesaurus, vocab.regions, whoosh_speedups=name == "ours")

        def search(q, f, p, cache=False):
            found = index.search(q, f, p, 10, cache=cache)
            return found.total, [h.title for h in found.hits]

        return search
    if name == "plain":
        import plain_whoosh

        from kb.catalog import index_dir

        engine = plain_whoosh.PlainWhoosh(index_dir(data))

        def search(q, f, p, cache=False):
            found = engine.search(q, f, p)
            return found["total"], [h["title"] for h in found["hits"]]

        return search
    if name == "fts5":
        import fts5

        engine = fts5.Fts5Search(db)

        def search(q, f, p, cache=False):
            found = engine.search(q, f, p)
            return found["total"], [r["title"] for r in found["results"]]

        return search
    raise ValueError(name)


def run(name: str, content: Path, data: Path, db: Path, log: list) -> dict:
    """Open an engine, search once, then the log once (long tail) and again (warm repeat)."""
    for module in MODULES[name]:  # imports are the program's start-up, not the index's opening
        importlib.import_module(module)
    started = time.perf_counter()
    search = _engine(name, content, data, db)
    search(OPENING, {}, 1)
    out: dict = {"first_ms": (time.perf_counter() - started) * 1000, "long": [], "warm": [], "total": [], "top": []}
    for q, f, p, _cls in log:
        started = time.perf_counter()
        total, top = search(q, f, p)
        out["long"].append((time.perf_counter() - started) * 1000)
        out["total"].append(total)
        out["top"].append(top)
    for q, f, p, _cls in log:
        started = time.perf_counter()
        search(q, f, p)
        out["warm"].append((time.perf_counter() - started) * 1000)
    if name == "ours":  # the same query asked again at once: the result cache answers
        cached = []
        for q, f, p, _cls in log:
            search(q, f, p, cache=True)
            started = time.perf_counter()
            search(q, f, p, cache=True)
            cached.append((time.perf_counter() - started) * 1000)
        out["cached"] = cached
    return out


def main() -> int:
    """Measure one engine over a log, in this (fresh) process, and write the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["ours", "ours-public", "plain", "fts5"], required=True)
    parser.add_argument("--content", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--log", type=Path, help="the queries as JSON (default: long_tail_queries())")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    log = json.loads(args.log.read_text(encoding="utf-8")) if args.log else long_tail_queries()
    result = run(args.engine, args.content, args.data, args.db, log)
    args.out.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
