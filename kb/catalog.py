"""Keep the search index and the database in step with the entry files."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from indexer import Document, SearchIndex

from .entries import Entry, InvalidEntry, Problem, load_fields, parse_entry, scan_entries
from .render import plain_text, render_markdown
from .store import delete_entries, open_db, upsert_entries
from .vocabulary import Vocabulary, load_vocabulary

__all__ = ["CheckReport", "ReindexReport", "check_content", "index_dir", "reindex"]

Progress = Callable[[Iterable[Document], int], AbstractContextManager[Iterable[Document]]]


def index_dir(data_dir: Path) -> Path:
    """Return where the search index lives inside the data directory."""
    return data_dir / "index"


@dataclass
class CheckReport:
    """The valid entries of a content directory and every problem found."""

    files: int = 0
    entries: dict[str, Entry] = field(default_factory=dict)  # by slug
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        """Return the problems that make an entry unusable."""
        return [p for p in self.problems if not p.warning]


@dataclass
class ReindexReport:
    """What a reindex did, for its one-line summary."""

    full: bool
    added: int = 0
    updated: int = 0
    removed: int = 0
    skipped: int = 0
    unchanged: int = 0
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)

    def summary(self) -> str:
        """Return the one-line Vietnamese summary."""
        mode = "toàn bộ" if self.full else "tăng dần"
        seconds = f"{self.seconds:.1f}".replace(".", ",")
        return (
            f"Lập chỉ mục {mode}: thêm {self.added}, cập nhật {self.updated}, "
            f"xóa {self.removed}, bỏ qua {self.skipped} ({self.unchanged} không đổi) "
            f"— {seconds} giây."
        )


def _claim(entry: Entry, owners: dict[str, str], problems: list[Problem]) -> bool:
    """Give entry its slug unless another file already holds it."""
    holder = owners.get(entry.slug)
    if holder is not None and holder != entry.path:
        msg = f"slug '{entry.slug}' trùng với tệp {holder}; tệp này bị bỏ qua"
        problems.append(Problem(entry.path, 1, msg))
        return False
    owners[entry.slug] = entry.path
    return True


def check_content(content_dir: Path) -> CheckReport:
    """Validate every entry file; raise InvalidEntry if fields.yml itself is broken."""
    allowed = load_fields(content_dir / "fields.yml")
    report, owners = CheckReport(), {}
    report.problems += load_vocabulary(content_dir).problems
    for path in scan_entries(content_dir):
        report.files += 1
        rel = path.relative_to(content_dir).as_posix()
        try:
            entry = parse_entry(path.read_bytes(), rel, allowed)
        except InvalidEntry as exc:
            report.problems += exc.problems
            continue
        report.problems += entry.warnings
        if _claim(entry, owners, report.problems):
            report.entries[entry.slug] = entry
    return report


def to_document(entry: Entry, body_html: str, vocab: Vocabulary) -> Document:
    """Return what the search index needs of an entry."""
    return Document(
        region=vocab.region(entry.province),
        slug=entry.slug,
        title=entry.title,
        summary=entry.summary,
        body_text=plain_text(body_html),
        unit=entry.unit,
        province=entry.province,
        fields=entry.fields,
        tags=entry.tags,
        year=entry.year,
        status=entry.status,
    )


def reindex(content_dir: Path, data_dir: Path, full: bool = False, progress: Progress | None = None) -> ReindexReport:
    """Bring index and database in step with the files: only what changed, or everything."""
    started = time.perf_counter()
    allowed = load_fields(content_dir / "fields.yml")
    vocab = load_vocabulary(content_dir)
    db, index = open_db(data_dir), SearchIndex(index_dir(data_dir))
    known = {row["path"]: row for row in db["entries"].rows}
    full = full or not known or not index.exists()
    report = ReindexReport(full=full, problems=list(vocab.problems))

    owners: dict[str, str] = {}  # slug -> path of every entry that stays indexed
    todo: list[tuple[str, bytes]] = []
    broken_known: set[str] = set()
    for path in scan_entries(content_dir):
        rel, raw = path.relative_to(content_dir).as_posix(), path.read_bytes()
        row = known.get(rel)
        if row and not full and row["content_hash"] == hashlib.sha256(raw).hexdigest():
            owners[row["slug"]] = rel
            report.unchanged += 1
        else:
            todo.append((rel, raw))

    fresh: list[tuple[Entry, str]] = []
    for rel, raw in todo:
        try:
            entry = parse_entry(raw, rel, allowed)
        except InvalidEntry as exc:
            report.problems += exc.problems
            report.skipped += 1
            if rel in known:  # keep serving the last good version until it is fixed
                owners[known[rel]["slug"]] = rel
                broken_known.add(known[rel]["slug"])
            continue
        report.problems += entry.warnings
        if _claim(entry, owners, report.problems):
            fresh.append((entry, render_markdown(entry.body)))
        else:
            report.skipped += 1

    known_slugs = {row["slug"] for row in known.values()}
    removed = known_slugs - set(owners)
    docs = [to_document(entry, html, vocab) for entry, html in fresh]
    with (progress or _no_progress)(docs, len(docs)) as items:
        if full:
            carried = index.documents(broken_known) if index.exists() else []
            index.build(_chain(items, carried))
        else:
            index.update(items, deletes=removed)
    upsert_entries(db, fresh)
    delete_entries(db, removed)

    report.added = sum(1 for e, _ in fresh if e.slug not in known_slugs)
    report.updated = len(fresh) - report.added
    report.removed = len(removed)
    report.seconds = time.perf_counter() - started
    return report


def _no_progress(items: Iterable[Document], _total: int) -> AbstractContextManager[Iterable[Document]]:
    """Iterate without showing progress."""
    return nullcontext(items)


def _chain(first: Iterable[Document], second: Iterable[Document]) -> Iterator[Document]:
    """Yield the documents of first, then those of second."""
    yield from first
    yield from second
