"""Sites that share one body of knowledge through git: the content folder is a working tree.

With KB_GIT_REMOTE set (a URL or the path of a bare repository), every save from the browser is
a commit, and `kb sync` (also run in the background and from /admin) commits what was edited by
hand, fetches, merges, pushes and reindexes exactly what changed. Unset, nothing here runs and a
site works as a single site.

Why the `git` command and not a library: it is the reference implementation of the merges and
transports sites meet (ssh, https, a path), it is on every Debian machine, and a small wrapper
over it keeps our side to a few commands whose output is documented and stable (plumbing and
porcelain with --format). dulwich has no three-way merge of files; pygit2 ties the site to a
libgit2 build.

Nothing is lost on a conflict: where git cannot merge one entry's two versions, the remote's is
served and the local one becomes a proposed change for an admin (both stay in git's history). A
push that is refused (the remote moved) is retried after the next fetch, never forced.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

from indexer.locks import file_lock

from .atomic import atomic_write
from .entries import InvalidEntry
from .ledgerfiles import LEDGER_DIR, merge_ledgers
from .store import content_lock

__all__ = [
    "BRANCH",
    "GitError",
    "SyncReport",
    "commit_all",
    "commit_quietly",
    "enabled",
    "errors",
    "last_report",
    "remote",
    "sync",
]

BRANCH = "main"
log = logging.getLogger(__name__)
_EMAIL = "kho-mo-hinh-hay@localhost"  # git wants one; accounts have none


class GitError(RuntimeError):
    """A git command that failed; the message says which and what git said."""


def remote() -> str:
    """Return KB_GIT_REMOTE, or "" when the site is a single site."""
    return os.environ.get("KB_GIT_REMOTE", "").strip()


def enabled() -> bool:
    return bool(remote())


def _git(content_dir: Path, *args: str, check: bool = True, author: str = "") -> subprocess.CompletedProcess:
    """Run one git command in the content folder, with a fixed identity and no prompts."""
    env = {
        **os.environ,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": author or "Kho mô hình hay",
        "GIT_AUTHOR_EMAIL": _EMAIL,
        "GIT_COMMITTER_NAME": "Kho mô hình hay",
        "GIT_COMMITTER_EMAIL": _EMAIL,
        "LC_ALL": "C",
    }
    done = subprocess.run(["git", *args], cwd=content_dir, env=env, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise GitError(f"git {' '.join(args[:2])}: {(done.stderr or done.stdout).strip()[:500]}")
    return done


def _is_repo(content_dir: Path) -> bool:
    return (content_dir / ".git").exists()


def _has_remote_branch(content_dir: Path) -> bool:
    return bool(_remote_head(content_dir))


def _head(content_dir: Path) -> str:
    done = _git(content_dir, "rev-parse", "--verify", "--quiet", "HEAD", check=False)
    return done.stdout.strip() if done.returncode == 0 else ""


def _ensure_repo(content_dir: Path) -> str:
    """Make the content folder a working tree of the remote; return what was done ("" if nothing)."""
    url = remote()
    if _is_repo(content_dir):
        if _git(content_dir, "remote", "get-url", "origin", check=False).stdout.strip() != url:
            _git(content_dir, "remote", "remove", "origin", check=False)
            _git(content_dir, "remote", "add", "origin", url)
        return ""
    content_dir.mkdir(parents=True, exist_ok=True)
    if not any(content_dir.iterdir()):  # a new site joins: its content is the remote's
        _git(content_dir.parent, "clone", "--quiet", "--branch", BRANCH, url, str(content_dir), check=False)
        if _is_repo(content_dir):
            return "cloned"
    # An existing single site becomes a synced one: its content is committed as it is.
    _git(content_dir, "init", "--quiet", "--initial-branch", BRANCH)
    _git(content_dir, "remote", "add", "origin", url)
    return "initialised"


def _exclude_temporary_files(content_dir: Path) -> None:
    """Keep the files a save writes before renaming them (`.name.tmp`) out of every commit."""
    exclude = content_dir / ".git" / "info" / "exclude"
    pattern = ".*.tmp"
    try:
        lines = exclude.read_text(encoding="utf-8").splitlines() if exclude.exists() else []
        if pattern not in lines:
            exclude.parent.mkdir(parents=True, exist_ok=True)
            exclude.write_text("\n".join([*lines, pattern]) + "\n", encoding="utf-8")
    except OSError:
        pass


def commit_all(content_dir: Path, message: str, author: str = "") -> str:
    """Commit every change in the content folder (saves, hand edits); return the commit, or "" if none."""
    if not enabled() or not _is_repo(content_dir):
        return ""
    _git(content_dir, "add", "--all", ".")
    if _git(content_dir, "diff", "--cached", "--quiet", check=False).returncode == 0:
        return ""
    _git(content_dir, "commit", "--quiet", "--no-verify", "-m", message, author=author)
    return _head(content_dir)


def commit_quietly(content_dir: Path, message: str, author: str) -> None:
    """With sites synced: make a change from the browser a commit by its author; never fails the change.

    A commit that cannot be made now (git busy, a full disk) is logged; the next sync commits it.
    """
    if not enabled():
        return
    try:
        commit_all(content_dir, message, author=author)
    except GitError:
        log.exception("A change could not be committed; the next sync commits it")


@dataclass
class SyncReport:
    """What one sync did, as the admin page shows it."""

    at: str = ""
    ok: bool = True
    changed: list[str] = field(default_factory=list)  # files that came from the remote
    conflicts: list[str] = field(default_factory=list)  # entries whose local version became a proposal
    # Ledger files where both sites changed one record: the remote's record kept (ours stays in git's history).
    ledger_clashes: list[str] = field(default_factory=list)
    pushed: bool = False
    message: str = ""
    last_success: str = ""
    # Files that came in and do not pass `kb check`: {path, message, commit, author}; their last good
    # version keeps being served until they are fixed.
    rejected: list[dict] = field(default_factory=list)

    def summary(self) -> str:
        if not self.ok:
            return f"Đồng bộ không thành công: {self.message}"
        parts = [f"nhận {len(self.changed)} tệp thay đổi"]
        if self.conflicts:
            parts.append(f"{len(self.conflicts)} mục sửa trùng (bản ở đây thành bản sửa chờ duyệt)")
        if self.ledger_clashes:
            parts.append(f"{len(self.ledger_clashes)} sổ nhân rộng có bản ghi sửa trùng (giữ bản của kho chung)")
        parts.append("đã gửi đi" if self.pushed else "chưa gửi được, sẽ thử lại lần sau")
        if self.rejected:
            parts.append(f"{len(self.rejected)} tệp nhận về có lỗi, vẫn dùng bản tốt trước đó")
        return "Đồng bộ xong: " + ", ".join(parts) + "."


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def sync(content_dir: Path, data_dir: Path, on_conflict=None, reindex=None, vet=None) -> SyncReport:
    """Commit, fetch, merge, push, then reindex what changed. One sync at a time across processes.

    on_conflict(rel, local_text, remote_text) records a local version that lost a conflict
    (a proposal); reindex(rels) brings the changed files into the database and the index and
    returns the (path, message) of files it had to skip; vet(content_dir) returns the errors of
    the vocabulary files (VOCABULARY_FILES): one that came in broken is put back as it was.
    """
    report = SyncReport(at=_now())
    with file_lock(data_dir / "sync.lock"):
        previous = last_report(data_dir)
        report.last_success = previous.last_success if previous else ""
        try:
            _sync(content_dir, data_dir, report, on_conflict, vet)
            report.last_success = report.at
        except GitError as exc:
            report.ok, report.message = False, str(exc)
        except Exception as exc:  # the database busy while a conflict became a proposal, a full disk…
            log.exception("Sync failed")  # the merge was undone: the next sync starts again from there
            report.ok, report.message = False, f"lỗi khi hợp nhất ({exc}); lần đồng bộ sau sẽ làm lại"
        if report.changed and reindex is not None:
            changed = set(report.changed)
            try:
                skipped = reindex(report.changed) or ()
            except Exception as exc:  # the files are merged: the next reindex (or sync) takes them
                log.exception("Reindexing after a sync failed")
                report.ok, report.message = False, f"lập chỉ mục sau khi đồng bộ không thành công ({exc})"
                skipped = ()
            for path, message in skipped:
                if path in changed:
                    report.rejected.append({"path": path, "message": message, **_last_commit(content_dir, path)})
        (data_dir / "sync.json").write_text(json.dumps(asdict(report), ensure_ascii=False), encoding="utf-8")
    return report


def _last_commit(content_dir: Path, path: str, rev: str = "HEAD") -> dict:
    """Return the short hash and author of the last commit that changed path (as of rev)."""
    commit = _git(content_dir, "log", "-1", "--format=%h|%an", rev, "--", path, check=False).stdout.strip()
    sha, _, author = commit.partition("|")
    return {"commit": sha, "author": author}


def _sync(content_dir: Path, data_dir: Path, report: SyncReport, on_conflict, vet) -> None:
    joined = _ensure_repo(content_dir)
    _exclude_temporary_files(content_dir)
    _git(content_dir, "fetch", "--quiet", "origin")  # the slow part, on a poor link: saves go on meanwhile
    with content_lock(data_dir, wait=None):  # no save writes while files are committed and merged
        commit_all(content_dir, "Sửa trực tiếp trên đĩa (ghi nhận khi đồng bộ)")
        before = "" if joined == "cloned" else _head(content_dir)  # a clone brings every file
        if _has_remote_branch(content_dir):
            if not _head(content_dir):  # nothing here yet: take the remote's history as it is
                _git(content_dir, "checkout", "--quiet", "-B", BRANCH, f"origin/{BRANCH}")
            elif before:
                _merge(content_dir, report, on_conflict)
                if vet is not None:
                    _hold_back(content_dir, before, report, vet)
        after = _head(content_dir)
    if before and after and before != after:
        diff = _names(_git(content_dir, "diff", "--name-only", "-z", "--no-renames", before, after))
        report.changed = [p for p in diff if not p.startswith(".")]
    elif not before and after:
        report.changed = _names(_git(content_dir, "ls-files", "-z"))
    if after and _remote_head(content_dir) == after:
        report.pushed = True  # nothing of ours the remote lacks (a reader, mostly): no second connection
    elif after:
        push = _git(content_dir, "push", "--quiet", "origin", f"HEAD:{BRANCH}", check=False)
        report.pushed = push.returncode == 0  # refused (the remote moved on): the next sync fetches first


def _remote_head(content_dir: Path) -> str:
    """Return the commit of the remote's branch as last fetched ("" if it has none)."""
    done = _git(content_dir, "rev-parse", "--verify", "--quiet", f"origin/{BRANCH}", check=False)
    return done.stdout.strip() if done.returncode == 0 else ""


def _merge(content_dir: Path, report: SyncReport, on_conflict) -> None:
    """Merge the remote's branch; where git cannot, serve the remote's version and keep ours aside."""
    # Unrelated histories: a second existing site joins with content of its own; what both have
    # alike merges cleanly, what differs is a conflict like any other.
    merged = _git(content_dir, "merge", "--quiet", "--no-edit", "--no-ff", "--allow-unrelated-histories",
                  f"origin/{BRANCH}", "-m", "Đồng bộ với kho chung", check=False)  # fmt: skip
    if merged.returncode == 0:
        return
    conflicted = _names(_git(content_dir, "diff", "--name-only", "-z", "--diff-filter=U"))
    if not conflicted:
        _git(content_dir, "merge", "--abort", check=False)
        raise GitError(f"git merge: {(merged.stderr or merged.stdout).strip()[:500]}")
    try:
        _settle(content_dir, conflicted, report, on_conflict)
    except BaseException:  # never leave a half-settled merge (conflict markers) for the next commit
        _git(content_dir, "merge", "--abort", check=False)
        report.conflicts.clear()
        raise
    _git(content_dir, "commit", "--quiet", "--no-verify", "--no-edit")


def _hold_back(content_dir: Path, before: str, report: SyncReport, vet) -> None:
    """Put back the version before the merge of each vocabulary file that came in broken.

    Fields, province names and synonyms shape every entry and every search: a broken one is
    never served. The file as it was is committed again (and so pushed): the other sites get it
    back too, and the report names the commit and author of the broken one.
    """
    came = set(_names(_git(content_dir, "diff", "--name-only", "-z", before, "HEAD")))
    bad = {p.path: p for p in vet(content_dir) if p.path in came}
    if not bad:
        return
    for rel, problem in bad.items():
        report.rejected.append({"path": rel, "message": f"dòng {problem.line}: {problem.message}",
                                **_last_commit(content_dir, rel)})  # fmt: skip
        _git(content_dir, "checkout", before, "--", rel, check=False)
    still = {p.path for p in vet(content_dir)}
    for rel in bad.keys() & still:  # it was broken before too: nothing better to serve
        _git(content_dir, "checkout", "HEAD", "--", rel)
    commit_all(
        content_dir, "Giữ bản tốt trước đó của " + ", ".join(sorted(bad.keys() - still)) + " (bản nhận về có lỗi)"
    )


def _names(done: subprocess.CompletedProcess) -> list[str]:
    """Return the paths git listed with -z (any character in a name, quoted by nothing)."""
    return [name for name in done.stdout.split("\0") if name]


def _settle(content_dir: Path, conflicted: list[str], report: SyncReport, on_conflict) -> None:
    """Serve the remote's version of each conflicted file; hand this site's entry text to on_conflict.

    The replication ledger's files merge record by record instead (both sites' new records kept).
    """
    for rel in conflicted:
        # Which sides have the file: stage 1 is the common base, 2 ours, 3 theirs.
        stages = {line.split()[2] for line in _git(content_dir, "ls-files", "-u", "--", rel).stdout.splitlines()}
        if rel.startswith(f"{LEDGER_DIR}/") and _merge_ledger(content_dir, rel, stages, report):
            continue
        ours = _git(content_dir, "show", f":2:{rel}", check=False) if "2" in stages and rel.endswith(".md") else None
        # Served: the remote's version; deleted there and edited here, the edit (a photo is bytes: git writes it).
        _git(content_dir, "checkout", "--theirs" if "3" in stages else "--ours", "--", rel)
        _git(content_dir, "add", "--", rel)
        if ours is not None and ours.returncode == 0 and "3" in stages and on_conflict is not None:
            on_conflict(rel, ours.stdout, (content_dir / rel).read_text(encoding="utf-8", errors="replace"))
        report.conflicts.append(rel)


def _merge_ledger(content_dir: Path, rel: str, stages: set[str], report: SyncReport) -> bool:
    """Merge a ledger file's two versions record by record; return False if a side cannot be read."""
    sides = [_git(content_dir, "show", f":{n}:{rel}").stdout.encode() if n in stages else None for n in "123"]
    try:
        merged, clashed = merge_ledgers(rel, *sides)
    except InvalidEntry:
        return False  # served as any other file: the remote's version
    atomic_write(content_dir / rel, merged)
    _git(content_dir, "add", "--", rel)
    if clashed:
        report.ledger_clashes.append(rel)
    return True


def errors(problems) -> list[tuple[str, str]]:
    """Return a reindex's errors (not its warnings) as (path, message), for the sync's report."""
    return [(p.path, p.message) for p in problems if not p.warning]


def last_report(data_dir: Path) -> SyncReport | None:
    """Return the last sync's report, or None if the site never synced."""
    try:
        return SyncReport(**json.loads((data_dir / "sync.json").read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
