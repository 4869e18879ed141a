"""The benchmark's synthetic corpus: valid entries, the same every time, never in content/."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from kb.catalog import check_content

BENCH = Path(__file__).resolve().parent.parent / "bench"


def load_corpus_module():
    """Import bench/corpus.py."""
    spec = importlib.util.spec_from_file_location("bench_corpus", BENCH / "corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_generated_entries_are_valid_realistic_and_deterministic(tmp_path):
    corpus = load_corpus_module()
    target = corpus.write_corpus(tmp_path / "a", 25)
    report = check_content(target)
    # The product's vocabularies come along; a few entries need not use every everyday-wording term.
    entries = [p for p in report.problems if not p.path.endswith("concepts.yml")]
    assert report.files == 25 and entries == []
    sizes = [len(corpus.entry_text(n)[1].split("---", 2)[2].encode()) for n in range(25)]
    assert min(sizes) >= 1500 and max(sizes) <= 3500  # 1.5–3 KB of text each
    again = corpus.write_corpus(tmp_path / "b", 25)
    for path in (target / "models").rglob("*.md"):
        assert path.read_bytes() == (again / path.relative_to(target)).read_bytes()


def test_the_query_mix_covers_what_the_benchmark_promises():
    sys.path.insert(0, str(BENCH))
    from queries import QUERIES

    assert len(QUERIES) >= 50
    assert any(not any(c in q for c in "ăâđêôơưáàảãạ") and q for q, _, _ in QUERIES)  # without diacritics
    assert any('"' in q for q, _, _ in QUERIES)  # phrases
    assert any(f for _, f, _ in QUERIES) and any(p > 1 for _, _, p in QUERIES)  # filters, paging
    assert any(q.isupper() and len(q) <= 6 for q, _, _ in QUERIES)  # abbreviations
