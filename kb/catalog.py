"""Keep the search index and the database in step with the entry files."""

# Size: a full reindex, indexing a few saved files, healing one entry and recovering after a crash
# share the loading, locking and queueing helpers below; apart, those would all become public.

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from indexer import SCHEMA_VERSION, Document, IndexBusy, SearchIndex
from indexer.locks import file_lock
from indexer.workers import parallel_map, shared_pool

from .documents import row_document, to_document
from .entries import ATTACHMENT_RE, Attachment, Entry, InvalidEntry, Problem, load_fields, parse_entry
from .ledgerfiles import LEDGER_DIR, check_ledger, ledger_files
from .media import attachment_text, find_media_problems
from .render import RenderRefused, plain_text, render_bounded
from .replications import derive_rows, ledger_stats
from .scanning import scan
from .store import (
    StoreBusy,
    content_lock,
    delete_entry_rows,
    get_meta,
    now_iso,
    open_db,
    queue_files,
    set_meta,
    write_entry_rows,
    write_transaction,
)
from .vocabulary import load_vocabulary, unused_terms

__all__ = [
    "CheckReport",
    "ReindexReport",
    "check_content",
    "clean_temp_files",
    "content_lock",
    "heal_entry",
    "index_dir",
    "index_saved",
    "recover",
    "reindex",
    "reindex_files",
    "render_entry",
    "write_problems",
]

log = logging.getLogger(__name__)

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


def _assign_slugs(paths: list[str], known: dict[str, str]) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Give each slug (a file's stem) to one file: the one indexed under it, else the first in order.

    Return the winners by slug and the (loser, winner) pairs, the same way in every mode.
    """
    groups: dict[str, list[str]] = {}
    for rel in sorted(paths):
        groups.setdefault(Path(rel).stem, []).append(rel)
    winners, losers = {}, []
    for slug, rels in groups.items():
        winner = known.get(slug) if known.get(slug) in rels else rels[0]
        winners[slug] = winner
        losers += [(rel, winner) for rel in rels if rel != winner]
    return winners, losers


def _duplicate(rel: str, winner: str) -> Problem:
    """Describe a file skipped because another file holds its slug."""
    return Problem(rel, 1, f"slug '{Path(rel).stem}' trùng với tệp {winner}; tệp này bị bỏ qua")


def _load(raw: bytes, rel: str, allowed: tuple[str, ...]) -> tuple[Entry, str]:
    """Parse an entry and render its body; raise InvalidEntry for either failure."""
    entry = parse_entry(raw, rel, allowed)
    return entry, render_entry(entry)


def render_entry(entry: Entry) -> str:
    """Render an entry's body within the time and size limits; raise InvalidEntry past them."""
    try:
        return render_bounded(entry.body)
    except RenderRefused as exc:  # pathological Markdown, or absurdly nested lists
        message = str(exc)
        raise InvalidEntry([Problem(entry.path, 1, message[0].lower() + message[1:])]) from None


def _load_outcome(job: tuple[bytes, str, tuple[str, ...]]) -> tuple[Entry, str, str] | list[Problem]:
    """Load one entry in a worker: (entry, HTML, text), or its problems (exceptions stay home)."""
    try:
        entry, html = _load(*job)
    except InvalidEntry as exc:
        return exc.problems
    return entry, html, plain_text(html)


def _load_many(jobs: list[tuple[bytes, str, tuple[str, ...]]]) -> list[tuple[Entry, str, str] | list[Problem]]:
    """Load entries, across cores when there are many (in the pool the reindex shares)."""
    return parallel_map(_load_outcome, jobs, chunksize=16)


def check_content(content_dir: Path) -> CheckReport:
    """Validate every entry file; raise InvalidEntry if fields.yml itself is broken."""
    allowed = load_fields(content_dir / "fields.yml")
    files, links = scan(content_dir)
    vocab = load_vocabulary(content_dir)
    report = CheckReport(problems=[*vocab.problems, *links])
    paths = {p.relative_to(content_dir).as_posix(): p for p in files}
    report.files = len(paths)
    winners, losers = _assign_slugs(list(paths), {})
    report.problems += [_duplicate(rel, winner) for rel, winner in losers]
    for rel in winners.values():
        try:
            entry, _html = _load(paths[rel].read_bytes(), rel, allowed)
        except InvalidEntry as exc:
            report.problems += exc.problems
            continue
        report.problems += entry.warnings
        report.entries[entry.slug] = entry
    texts = [
        " . ".join([e.title, e.summary, e.unit, e.province or "", *e.fields, *e.tags, e.body])
        for e in report.entries.values()
    ]
    report.problems += unused_terms(vocab, texts, str(content_dir / "concepts.yml"))
    for rel, path in ledger_files(content_dir).items():
        report.files += 1
        report.problems += check_ledger(path.read_bytes(), rel)[1]
        if Path(rel).stem not in winners:
            report.problems.append(Problem(rel, 1, "không có mô hình nào mang tên tệp này (slug)", warning=True))
    listed = {e.slug: {a.file for a in e.attachments} for e in report.entries.values()}
    for path, message in find_media_problems(content_dir, listed):
        report.problems.append(Problem(path, _line_of(content_dir / path, message), message, warning=True))
    report.problems.sort(key=lambda p: (p.path, p.line))
    return report


def _files_reader(content_dir: Path, data_dir: Path):
    """Return files(slug, attachments) -> ((name, words), ...) of an entry's PDF and DOCX attachments."""

    def files(slug: str, attachments) -> tuple[tuple[str, str], ...]:
        found = []
        for item in attachments:
            item = item if isinstance(item, Attachment) else Attachment(item.get("file", ""))
            if ATTACHMENT_RE.match(item.file) and (text := attachment_text(content_dir, data_dir, slug, item)).strip():
                found.append((item.file, text))
        return tuple(found)

    return files


def _row_attachments(row: dict) -> list[dict]:
    try:
        return json.loads(row.get("attachments") or "[]")
    except ValueError:
        return []


def _line_of(path: Path, message: str) -> int:
    """Return the line of an entry file that names the attachment a message is about (1 for other files)."""
    name = message.split("'")[1] if message.count("'") >= 2 else ""
    if path.suffix != ".md" or not name:
        return 1
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 1
    return next((i for i, line in enumerate(lines, 1) if name in line), 1)


# Where a file changed on disk came from, for its revision: path -> (author, comment).
Origin = Callable[[str], tuple[str, str]]


def reindex(content_dir: Path, data_dir: Path, full: bool = False, progress: Progress | None = None,
            origin: Origin | None = None) -> ReindexReport:  # fmt: skip
    """Bring index and database in step with the files: only what changed, or everything.

    One reindex runs at a time (a lock in the data dir, shared with saves from the browser).
    Files saved while it ran were queued as pending; it takes them before it returns. origin
    names who wrote a file found changed on disk (another site, through a sync) for its history.
    """
    started = time.perf_counter()
    clean_temp_files(content_dir, data_dir)
    with run_lock(data_dir), shared_pool():  # one pool of worker processes for reading and analysing
        report = _reindex_passes(content_dir, data_dir, full, progress, origin)
    report.seconds = time.perf_counter() - started
    _remember_run(open_db(data_dir), report)
    return report


def _reindex_passes(content_dir: Path, data_dir: Path, full: bool, progress: Progress | None,
                    origin: Origin | None = None) -> ReindexReport:  # fmt: skip
    """Reindex, then take what saves queued meanwhile (a few passes at most), under the run lock."""
    report = _reindex_once(content_dir, data_dir, full, progress, origin)
    for _ in range(5):  # saves keep coming only as fast as people type
        if not _pending(open_db(data_dir)):
            break
        more = _reindex_once(content_dir, data_dir, False, None)
        report.problems = sorted({*report.problems, *more.problems}, key=lambda p: (p.path, p.line))
        report.updated += more.updated + more.added
        report.removed += more.removed
    return report


def run_lock(data_dir: Path, wait: float | None = None) -> AbstractContextManager[bool]:
    """Hold the lock that one reindex, or one save's index update, holds at a time.

    With wait, give up after that many seconds and yield False instead of blocking.
    """
    return file_lock(data_dir / "reindex.lock", wait=wait)


def _pending(db) -> dict[str, str]:
    """Return the files queued by saves while the index was busy: path -> queue token."""
    return dict(db.execute("SELECT path, token FROM pending").fetchall())


def _reindex_once(content_dir: Path, data_dir: Path, full: bool, progress: Progress | None,
                  origin: Origin | None = None) -> ReindexReport:  # fmt: skip
    """One pass of reindex(), under its lock."""
    started = time.perf_counter()
    allowed = load_fields(content_dir / "fields.yml")
    vocab = load_vocabulary(content_dir)
    db, index = open_db(data_dir), SearchIndex(index_dir(data_dir))
    # Only what tells a changed file; whole rows are read only for the entries carried over.
    by_slug = {row["slug"]: row for row in db.query("SELECT slug, path, content_hash FROM entries")}
    config = _config_hash(content_dir)
    # Fields and province names shape every entry: when they change, every file is read again.
    trusted = get_meta(db, "config_hash") == config
    full = full or not by_slug or not index.exists() or not trusted
    files, links = scan(content_dir)
    report = ReindexReport(full=full, problems=[*vocab.problems, *links])

    paths = {p.relative_to(content_dir).as_posix(): p for p in files}
    winners, losers = _assign_slugs(list(paths), {slug: row["path"] for slug, row in by_slug.items()})
    report.problems += [_duplicate(rel, winner) for rel, winner in losers]
    report.skipped += len(losers)

    # The ledger's files first: a model whose records changed is indexed again with its new level.
    with content_lock(data_dir, wait=None):
        ledger_changed, ledger_problems, ledger_read = derive_rows(content_dir, db)
    report.problems += ledger_problems
    with db.conn:
        queue_files(db.conn, {by_slug[s]["path"]: secrets.token_hex(8) for s in ledger_changed if s in by_slug})
    # Files saved while the index was busy: their rows are new, their index entries are not.
    pending = _pending(db)
    keep: set[str] = set()  # indexed slugs whose file did not change
    broken: set[str] = set()  # indexed slugs whose file is broken now: their last good version stays
    jobs: list[tuple[bytes, str, tuple[str, ...]]] = []
    for slug, rel in winners.items():
        raw, row = paths[rel].read_bytes(), by_slug.get(slug)
        unchanged = row and row["path"] == rel and row["content_hash"] == hashlib.sha256(raw).hexdigest()
        if trusted and unchanged and rel not in pending:
            keep.add(slug)
            report.unchanged += 1
        else:
            jobs.append((raw, rel, allowed))

    fresh: list[tuple[Entry, str, str]] = []
    for (_raw, rel, _allowed), outcome in zip(jobs, _load_many(jobs), strict=True):
        if isinstance(outcome, list):
            report.problems += outcome
            report.skipped += 1
            slug = Path(rel).stem
            if slug in by_slug:
                keep.add(slug)
                broken.add(slug)
            continue
        report.problems += outcome[0].warnings
        fresh.append(outcome)

    removed = set(by_slug) - keep - {e.slug for e, _, _ in fresh}
    ledger = ledger_stats(db)
    files = _files_reader(content_dir, data_dir)
    docs = [to_document(e, text, vocab, ledger, files(e.slug, e.attachments)) for e, _html, text in fresh]
    failed: list[tuple[str, str]] = []
    if full:
        # Unchanged entries come back from their rows: no parsing, and their analysis is cached.
        carried = (row_document(row, vocab, ledger, files(row["slug"], _row_attachments(row)))
                   for row in _rows(db, sorted(keep)))  # fmt: skip
        total = len(docs) + len(keep)
        with (progress or _no_progress)(itertools.chain(docs, carried), total) as items:
            index.build(items, expected=total, failed=failed)
    else:
        with (progress or _no_progress)(docs, len(docs)) as items:
            index.update(items, deletes=removed, failed=failed)
    report.problems += _unindexed(failed, {**{s: r["path"] for s, r in by_slug.items()}, **winners})
    # Rows follow only what the index took and what is still on disk: an entry that failed
    # analysis, or a file saved again since it was read, keeps its row and is queued again.
    bad = {slug for slug, _why in failed}
    done = [item for item in fresh if item[0].slug not in bad and _still_on_disk(content_dir, item[0])]
    done_slugs = {entry.slug for entry, _h, _t in done}
    again = {entry.path: secrets.token_hex(8) for entry, _h, _t in fresh if entry.slug not in done_slugs}
    with db.conn:
        if by_slug:  # not on the first build: every file is new then, and none has a history yet
            _record_recovered(db.conn, content_dir, done, origin)
        write_entry_rows(db.conn, done)
        delete_entry_rows(db.conn, removed)
        # Only as read above: a save queued since stays queued.
        db.conn.executemany("DELETE FROM pending WHERE path = ? AND token = ?", list(pending.items()))
        queue_files(db.conn, again)
    set_meta(db, "config_hash", config)

    report.added = sum(1 for e, _, _ in fresh if e.slug not in by_slug)
    report.updated = len(fresh) - report.added
    report.removed = len(removed)
    report.problems.sort(key=lambda p: (p.path, p.line))
    report.seconds = time.perf_counter() - started
    read = {rel for _raw, rel, _a in jobs} | {rel for rel, _w in losers} | ledger_read
    _remember_problems(db, report.problems, read, files=set(paths) | set(ledger_files(content_dir)))
    return report


def _still_on_disk(content_dir: Path, entry: Entry) -> bool:
    """Return True if the entry's file still has the text it was read with."""
    try:
        return hashlib.sha256((content_dir / entry.path).read_bytes()).hexdigest() == entry.content_hash
    except OSError:
        return False


def _remember_problems(db, problems: list[Problem], read: set[str], files: set[str] | None) -> None:
    """Keep the problems of every file as last read (for the admin page): replace those of read.

    With files (a whole scan), problems of files that are gone or not entries are dropped too.
    """
    with db.conn:
        write_problems(db.conn, problems, read, files)


def write_problems(conn, problems: list[Problem], read: set[str], files: set[str] | None = None) -> None:
    """Replace the remembered problems of the files read, in the caller's transaction."""
    for (path,) in conn.execute("SELECT DISTINCT path FROM problems").fetchall():
        if path in read or (files is not None and path not in files):
            conn.execute("DELETE FROM problems WHERE path = ?", [path])
    conn.executemany(
        "INSERT INTO problems (path, line, message, warning) VALUES (?, ?, ?, ?)",
        [(p.path, p.line, p.message, int(p.warning)) for p in problems],
    )


def _unindexed(failed: list[tuple[str, str]], paths: dict[str, str]) -> list[Problem]:
    """Describe the entries the index could not take (their analysis failed); the rest is indexed."""
    return [Problem(paths.get(slug, slug), 1, f"không lập chỉ mục được ({why}); mục bị bỏ qua") for slug, why in failed]


RECOVERED = "Bản trên đĩa, ghi nhận khi lập chỉ mục (sửa tay, hoặc một lần lưu bị ngắt giữa chừng)"


def _record_recovered(
    conn, content_dir: Path, fresh: list[tuple[Entry, str, str]], origin: Origin | None = None
) -> None:
    """Give a revision to each file found changed on disk whose text the history does not have yet.

    A hand edit, or a save killed after its file was written but before its transaction ended,
    leaves a file no revision knows: the history must still hold every text that was served.
    """
    for entry, _html, _text in fresh:
        row = conn.execute("SELECT content_hash FROM entries WHERE slug = ?", [entry.slug]).fetchone()
        if row is not None and row[0] == entry.content_hash:
            continue  # the database already describes this very file (a save, or nothing changed)
        last = conn.execute(
            "SELECT content_hash FROM revisions WHERE slug = ? ORDER BY id DESC LIMIT 1", [entry.slug]
        ).fetchone()
        if last is not None and last[0] == entry.content_hash:
            continue
        try:
            raw = (content_dir / entry.path).read_bytes()
        except OSError:
            continue
        if hashlib.sha256(raw).hexdigest() != entry.content_hash:
            continue  # changed again since it was read: that change is queued and recorded in turn
        author, comment = origin(entry.path) if origin is not None else ("", RECOVERED)
        conn.execute(
            "INSERT INTO revisions (slug, created_at, author, comment, status, content_hash, text) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [entry.slug, now_iso(), author, comment, entry.status, entry.content_hash, raw.decode("utf-8", "replace")],
        )


def _remember_run(db, report: ReindexReport) -> None:
    """Keep what the last reindex did, for the admin page."""
    summary = {"at": now_iso(), "seconds": round(report.seconds, 2), "full": report.full, "summary": report.summary()}
    set_meta(db, "last_reindex", json.dumps(summary, ensure_ascii=False))


def reindex_files(content_dir: Path, data_dir: Path, rels: list[str], wait: float = 5.0) -> bool:
    """Bring a few files (paths relative to content_dir) into the database and the index now.

    Return False if the index had to queue them (see index_saved); raise StoreBusy if a save or
    the database kept them busy. A file that is broken now keeps its last good version, as in
    reindex(); a file that is gone is removed. Under the content lock, like a save: what is read
    is what is written.
    """
    db = open_db(data_dir)
    allowed = load_fields(content_dir / "fields.yml")
    with content_lock(data_dir) as locked:
        if not locked:
            raise StoreBusy("the content lock is held")
        fresh: list[tuple[Entry, str, str]] = []
        problems: list[Problem] = []
        removed: set[str] = set()
        for rel in rels:
            path = content_dir / rel
            if not path.is_file():
                removed.add(Path(rel).stem)
                continue
            outcome = _load_outcome((path.read_bytes(), rel, allowed))
            if isinstance(outcome, list):
                problems += outcome
            else:
                problems += outcome[0].warnings
                fresh.append(outcome)
        tokens = {rel: secrets.token_hex(8) for rel in rels}
        with write_transaction(db) as conn:
            _record_recovered(conn, content_dir, fresh)
            write_entry_rows(conn, fresh)
            delete_entry_rows(conn, removed)
            write_problems(conn, problems, set(rels))
            queue_files(conn, tokens)
        return index_saved(content_dir, data_dir, fresh, tokens, removed, wait=wait)


def index_saved(
    content_dir: Path,
    data_dir: Path,
    fresh: list[tuple[Entry, str, str]],
    tokens: dict[str, str],
    removed: set[str] = frozenset(),
    wait: float = 5.0,
) -> bool:
    """Put entries whose rows are written (and queued with tokens) into the index; return False if queued.

    When a reindex runs (or another writer holds the index) for longer than wait, or the fields
    or province names changed (a full reindex is due), the files stay queued: a running reindex
    takes them before it ends, else the next one does. Nothing is lost. The change itself is
    committed before this runs, so no failure here may undo it or be reported as one: it is
    logged, and the entry waits in the queue.
    """
    try:
        return _index_saved(content_dir, data_dir, fresh, tokens, removed, wait)
    except Exception:
        log.exception("Indexing %s after it was saved failed; it stays queued", ", ".join(tokens))
        return False


def _index_saved(content_dir, data_dir, fresh, tokens, removed, wait) -> bool:
    db, index = open_db(data_dir), SearchIndex(index_dir(data_dir))
    vocab = load_vocabulary(content_dir)
    with run_lock(data_dir, wait=wait) as locked:
        if not (locked and get_meta(db, "config_hash") == _config_hash(content_dir) and index.exists()):
            return False
        # Only the saved entries' counts: a save does not read the whole ledger.
        saved = [e.slug for e, _html, _text in fresh]
        ledger = ledger_stats(db, *saved) if saved else {}
        files = _files_reader(content_dir, data_dir)
        docs = [to_document(e, text, vocab, ledger, files(e.slug, e.attachments)) for e, _html, text in fresh]
        failed: list[tuple[str, str]] = []
        try:
            index.update(docs, deletes=removed, wait=wait, failed=failed)
        except IndexBusy:
            return False
        bad = {slug for slug, _why in failed}
        taken = [(rel, token) for rel, token in tokens.items() if Path(rel).stem not in bad]
        with db.conn:  # an entry the index could not take stays queued, and is reported
            db.conn.executemany("DELETE FROM pending WHERE path = ? AND token = ?", taken)
            if failed:
                paths = {e.slug: e.path for e, _h, _t in fresh}
                write_problems(db.conn, _unindexed(failed, paths), set())
    return not failed


_UNHEALABLE: dict[str, str] = {}  # path -> hash of a drifted file that could not be brought in


def heal_entry(content_dir: Path, data_dir: Path, row: dict) -> bool:
    """Bring an entry's row and index back in step with its file if they drifted; return True if so.

    A save killed between writing the file and committing (or a hand edit) leaves the database
    describing an older text. The file is the truth: a valid file changed on disk is indexed
    at once (with a revision if the history lacks it). A file that cannot be used keeps its
    last good version, and is not tried again on every visit (only once it changes again).
    Never raises: a reader's page shows the last good version whatever happens here.
    """
    try:
        path = (content_dir / row["path"]).resolve()
        if not path.is_relative_to(content_dir.resolve()) or not path.is_file():
            return False
        raw = path.read_bytes()
        digest = hashlib.sha256(raw).hexdigest()
        if digest == row["content_hash"] or _UNHEALABLE.get(row["path"]) == digest:
            return False
        try:
            render_entry(parse_entry(raw, row["path"], load_fields(content_dir / "fields.yml")))
        except InvalidEntry:
            if len(_UNHEALABLE) > 1000:
                _UNHEALABLE.clear()
            _UNHEALABLE[row["path"]] = digest
            return False
        reindex_files(content_dir, data_dir, [row["path"]])
        return True
    except StoreBusy:  # the next visit tries again; this one shows the last good version
        return False
    except Exception:
        log.exception("Bringing %s up to date with its file failed", row.get("path"))
        return False


def clean_temp_files(content_dir: Path, data_dir: Path) -> int:
    """Remove the temporary files saves left behind when killed mid-write; return how many.

    Saves write under the content lock, so any temporary file found while holding it is stale.
    """
    folders = [(content_dir / "models", ".*.md.*.tmp"), (content_dir / LEDGER_DIR, ".*.yml.*.tmp")]
    folders = [(folder, pattern) for folder, pattern in folders if folder.is_dir()]
    if not folders:
        return 0
    data_dir.mkdir(parents=True, exist_ok=True)
    removed = 0
    with content_lock(data_dir, wait=None):
        for folder, pattern in folders:
            for tmp in folder.rglob(pattern):  # atomic_write's names: .<name>.<random>.tmp
                if tmp.is_file() and not tmp.is_symlink():
                    tmp.unlink(missing_ok=True)
                    removed += 1
    return removed


def recover(content_dir: Path, data_dir: Path) -> ReindexReport | None:
    """Repair what a crash may have left: stale temporary files, and rows behind their files.

    Cheap (an incremental reindex: files are hashed, only changed ones read), so every server
    process runs it as it starts. Skipped (None) while a reindex runs, or when the index needs a
    full rebuild, which is `kb reindex`'s job, not a starting server's.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    clean_temp_files(content_dir, data_dir)
    db = open_db(data_dir)
    if get_meta(db, "config_hash") != _config_hash(content_dir) or not SearchIndex(index_dir(data_dir)).exists():
        return None
    with run_lock(data_dir, wait=0) as locked:
        if not locked:
            return None
        report = _reindex_passes(content_dir, data_dir, False, None)
    if report.added or report.updated or report.removed:
        _remember_run(db, report)
    return report


def _config_hash(content_dir: Path) -> str:
    """Hash what shapes every indexed document: the index schema, fields and province names."""
    digest = hashlib.sha256(f"schema {SCHEMA_VERSION}\n".encode())  # a new schema needs a full rebuild
    for name in ("fields.yml", "places.yml"):
        path = content_dir / name
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()


def _rows(db, slugs: list[str], batch: int = 500) -> Iterator[dict]:
    """Yield the whole rows of slugs, in that order, a batch at a time."""
    for start in range(0, len(slugs), batch):
        chunk = slugs[start : start + batch]
        marks = ",".join("?" * len(chunk))
        found = {r["slug"]: r for r in db.query(f"SELECT * FROM entries WHERE slug IN ({marks})", chunk)}
        yield from (found[slug] for slug in chunk)


def _no_progress(items: Iterable[Document], _total: int) -> AbstractContextManager[Iterable[Document]]:
    """Iterate without showing progress."""
    return nullcontext(items)
