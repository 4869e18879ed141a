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
push that is refused (the remote moved) is retried after the next fetch, never forced. Content
from other sites is not trusted: links are checked out as plain files (core.symlinks=false), a
merge interrupted by a crash is undone before anything else is committed, and broken files are
reported while their last good version serves.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

from indexer.locks import file_lock

from .atomic import atomic_write
from .entries import CONFLICT_MARKER
from .gitcmd import (
    BRANCH,
    GitError,
    commit_all,
    commit_quietly,
    enabled,
    git,
    head,
    is_repo,
    last_commit,
    merging,
    names,
    remote,
    remote_head,
    site_name,
)
from .ledgerfiles import LEDGER_DIR, check_ledger, merge_ledgers
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
    "running",
    "site_name",
    "sync",
]

log = logging.getLogger(__name__)


def _ensure_repo(content_dir: Path) -> str:
    """Make the content folder a working tree of the remote; return what was done ("" if nothing)."""
    url = remote()
    if is_repo(content_dir):
        if git(content_dir, "remote", "get-url", "origin", check=False).stdout.strip() != url:
            git(content_dir, "remote", "remove", "origin", check=False)
            git(content_dir, "remote", "add", "origin", url)
        return ""
    content_dir.mkdir(parents=True, exist_ok=True)
    if not any(content_dir.iterdir()):  # a new site joins: its content is the remote's
        git(content_dir.parent, "clone", "--quiet", "-c", "core.symlinks=false", "--branch", BRANCH, url,
             str(content_dir), check=False)  # fmt: skip
        if is_repo(content_dir):
            return "cloned"
    # An existing single site becomes a synced one: its content is committed as it is.
    git(content_dir, "init", "--quiet", "--initial-branch", BRANCH)
    git(content_dir, "remote", "add", "origin", url)
    return "initialised"


def _configure(content_dir: Path) -> None:
    """Set what every sync relies on: links from other sites as plain files, temporary files ignored."""
    # A link in the shared repository could point a photo's name at any file this server reads.
    git(content_dir, "config", "core.symlinks", "false")
    exclude = content_dir / ".git" / "info" / "exclude"
    pattern = ".*.tmp"  # the files a save writes before renaming them
    try:
        lines = exclude.read_text(encoding="utf-8").splitlines() if exclude.exists() else []
        if pattern not in lines:
            exclude.parent.mkdir(parents=True, exist_ok=True)
            exclude.write_text("\n".join([*lines, pattern]) + "\n", encoding="utf-8")
    except OSError:
        pass


@dataclass
class SyncReport:
    """What one sync did, as the admin page shows it."""

    at: str = ""
    ok: bool = True
    changed: list[str] = field(default_factory=list)  # files changed by the sync (received, or edited here by hand)
    conflicts: list[str] = field(default_factory=list)  # entries whose local version became a proposal
    # Other files both sites changed, and what was done (Vietnamese, one sentence each).
    notes: list[str] = field(default_factory=list)
    pushed: bool = False
    local_head: str = ""  # this site's commit before the merge: what came after it was received
    message: str = ""
    last_success: str = ""
    # Files that do not pass `kb check` after the sync: {path, message, commit, author}; their last
    # good version keeps being served until they are fixed.
    rejected: list[dict] = field(default_factory=list)

    def summary(self) -> str:
        if not self.ok:
            return f"Đồng bộ không thành công: {self.message}"
        parts = [f"{len(self.changed)} tệp thay đổi"]
        if self.conflicts:
            parts.append(f"{len(self.conflicts)} mục sửa trùng (bản ở đây thành bản sửa chờ duyệt)")
        if self.notes:
            parts.append(f"{len(self.notes)} tệp khác cần xem (xem chi tiết)")
        parts.append("đã gửi đi")
        if self.rejected:
            parts.append(f"{len(self.rejected)} tệp có lỗi, vẫn dùng bản tốt trước đó")
        return "Đồng bộ xong: " + ", ".join(parts) + "."


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def running(data_dir: Path) -> bool:
    """Return True if a sync is running on this site now."""
    with file_lock(data_dir / "sync.lock", wait=0) as free:
        return not free


def sync(content_dir: Path, data_dir: Path, on_conflict=None, reindex=None, vet=None) -> SyncReport:
    """Commit, fetch, merge, push, then reindex what changed. One sync at a time across processes.

    on_conflict(rel, local_text, remote_text, local_author) records a local version that lost a
    conflict (a proposal); reindex(rels, origin) brings the changed files into the database and
    the index (origin(path) says who wrote one, for its history) and returns the (path, message)
    of files it had to skip; vet(content_dir) returns the
    errors of the vocabulary files: one that came in broken is put back as it was.
    """
    report = SyncReport(at=_now())
    with file_lock(data_dir / "sync.lock"):
        previous = last_report(data_dir)
        report.last_success = previous.last_success if previous else ""
        try:
            _sync(content_dir, data_dir, report, on_conflict, vet)
        except GitError as exc:
            report.ok, report.message = False, str(exc)
        except Exception as exc:  # the database busy while a conflict became a proposal, a full disk…
            log.exception("Sync failed")  # the merge was undone: the next sync starts again from there
            report.ok, report.message = False, f"lỗi khi hợp nhất ({exc}); lần đồng bộ sau sẽ làm lại"
        if report.changed and reindex is not None:
            changed = set(report.changed)
            try:
                skipped = reindex(report.changed, lambda path: _origin(content_dir, path, report.local_head)) or ()
            except Exception as exc:  # the files are merged: the next reindex (or sync) takes them
                log.exception("Reindexing after a sync failed")
                report.ok, report.message = False, f"lập chỉ mục sau khi đồng bộ không thành công ({exc})"
                skipped = ()
            for path, message in skipped:
                if path in changed and all(r["path"] != path for r in report.rejected):
                    report.rejected.append({"path": path, "message": message, **last_commit(content_dir, path)})
        if report.ok:
            report.last_success = report.at  # both ways: received and sent
        (data_dir / "sync.json").write_text(json.dumps(asdict(report), ensure_ascii=False), encoding="utf-8")
    return report


def _sync(content_dir: Path, data_dir: Path, report: SyncReport, on_conflict, vet) -> None:
    joined = _ensure_repo(content_dir)
    _configure(content_dir)
    git(content_dir, "fetch", "--quiet", "origin")  # the slow part, on a poor link: saves go on meanwhile
    with content_lock(data_dir, wait=None):  # no save writes while files are committed and merged
        _undo_half_merge(content_dir)
        before = "" if joined == "cloned" else head(content_dir)  # a clone brings every file
        hand = "Sửa trực tiếp trên đĩa" if before else "Nội dung ban đầu"
        commit_all(content_dir, f"{hand} ở {site_name()} (ghi nhận khi đồng bộ)")
        if remote_head(content_dir):
            if not head(content_dir):  # nothing here yet: take the remote's history as it is
                git(content_dir, "checkout", "--quiet", "-B", BRANCH, f"origin/{BRANCH}")
            else:
                mine = report.local_head = head(content_dir)
                _merge(content_dir, report, on_conflict)
                if before:
                    _hold_back(content_dir, [mine, before], report, vet)
        after = head(content_dir)
    if before and after and before != after:
        diff = names(git(content_dir, "diff", "--name-only", "-z", "--no-renames", before, after))
        report.changed = [p for p in diff if not p.startswith(".")]
    elif not before and after:
        report.changed = names(git(content_dir, "ls-files", "-z"))
    if after and remote_head(content_dir) == after:
        report.pushed = True  # nothing of ours the remote lacks (a reader, mostly): no second connection
    elif after:
        git(content_dir, "push", "--quiet", "origin", f"HEAD:{BRANCH}")  # refused: the next sync fetches first
        report.pushed = True


def _undo_half_merge(content_dir: Path) -> None:
    """Undo a merge a crash left half-done, keeping the files saved since (call under the content lock).

    git's own `merge --abort` refuses when a file the merge wrote was saved again meanwhile; so the
    files changed since the merge wrote them are kept aside, the merge is undone, and they are put
    back: they are saves, and the sync commits them. Files still holding conflict markers are the
    merge's own, never a save (an entry with markers cannot be opened for editing).
    """
    if not merging(content_dir):
        return
    unmerged = set(names(git(content_dir, "diff", "--name-only", "-z", "--diff-filter=U")))
    kept: dict[str, bytes] = {}
    for rel in names(git(content_dir, "diff", "--name-only", "-z")):  # the working tree against the merge
        path = content_dir / rel
        if rel not in unmerged and path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            if not CONFLICT_MARKER.search(data.decode("utf-8", "replace")):
                kept[rel] = data
    git(content_dir, "reset", "--hard", "--quiet", "HEAD")  # HEAD is still the commit before the merge
    for rel, data in kept.items():
        atomic_write(content_dir / rel, data)
    log.warning("Undid a merge left half-done; kept %d files saved since", len(kept))


def _merge(content_dir: Path, report: SyncReport, on_conflict) -> None:
    """Merge the remote's branch; where git cannot, serve the remote's version and keep ours aside."""
    # Unrelated histories: a second existing site joins with content of its own; what both have
    # alike merges cleanly, what differs is a conflict like any other. Nothing new here: a fast
    # forward, so that sites with nothing to add settle on the same commit.
    merged = git(content_dir, "merge", "--quiet", "--no-edit", "--allow-unrelated-histories",
                  f"origin/{BRANCH}", "-m", f"Đồng bộ với kho chung ({site_name()})", check=False)  # fmt: skip
    if merged.returncode == 0:
        return
    conflicted = names(git(content_dir, "diff", "--name-only", "-z", "--diff-filter=U"))
    if not conflicted:
        git(content_dir, "merge", "--abort", check=False)
        raise GitError(f"git merge: {(merged.stderr or merged.stdout).strip()[:500]}")
    try:
        _settle(content_dir, conflicted, report, on_conflict)
    except BaseException:  # never leave a half-settled merge (conflict markers) for the next commit
        git(content_dir, "merge", "--abort", check=False)
        report.conflicts.clear()
        report.notes.clear()
        raise
    git(content_dir, "commit", "--quiet", "--no-verify", "--no-edit")


def _hold_back(content_dir: Path, versions: list[str], report: SyncReport, vet) -> None:
    """Put back this site's version of each vocabulary or ledger file that is broken after the merge.

    Fields, province names and synonyms shape every entry and every search, and a ledger broken
    here could not take new records: a broken one is never kept. This site's version from before
    the merge is tried first, then the one from before the sync (when this site's own hand edit
    broke it); the version put back is committed (and so pushed): the other sites get it back too,
    and the report names the commit and author that broke it.
    """
    came = names(git(content_dir, "diff", "--name-only", "-z", versions[-1], "HEAD"))
    bad = _broken(content_dir, came, vet)
    if not bad:
        return
    for rel, problem in bad.items():  # blamed on the commit that brought it, else this site's own
        blame = last_commit(content_dir, rel, f"{versions[0]}..origin/{BRANCH}")
        report.rejected.append({"path": rel, "message": problem, **(blame if blame["commit"] else
                                                                     last_commit(content_dir, rel))})  # fmt: skip
    left = sorted(bad)
    for version in versions:
        for rel in left:
            git(content_dir, "checkout", version, "--", rel, check=False)
        left = sorted(_broken(content_dir, left, vet))
        if not left:
            break
    for rel in left:  # broken in every version: nothing better to serve
        git(content_dir, "checkout", "HEAD", "--", rel)
    if kept := [rel for rel in sorted(bad) if rel not in left]:
        commit_all(content_dir, f"Giữ bản tốt trước đó của {', '.join(kept)} (bản sau khi đồng bộ có lỗi)")


def _broken(content_dir: Path, rels: list[str], vet) -> dict[str, str]:
    """Return what is wrong with each vocabulary or ledger file of rels as it is now (others left out)."""
    found = {}
    for rel in rels:
        path = content_dir / rel
        ledger = rel.startswith(f"{LEDGER_DIR}/") and rel.endswith(".yml") and path.is_file() and not path.is_symlink()
        if ledger and (problem := _problem(path.read_bytes(), rel)):
            found[rel] = problem
    if vet is not None and any("/" not in rel and rel.endswith(".yml") for rel in rels):  # vocabularies sit on top
        wanted = set(rels)
        for problem in vet(content_dir):  # once for every vocabulary file
            if problem.path in wanted and problem.path not in found:
                found[problem.path] = f"dòng {problem.line}: {problem.message}"
    return found


def _settle(content_dir: Path, conflicted: list[str], report: SyncReport, on_conflict) -> None:
    """Serve the remote's version of each conflicted file; hand this site's entry text to on_conflict.

    The replication ledger's files merge record by record instead (both sites' new records kept).
    """
    for rel in conflicted:
        # Which sides have the file: stage 1 is the common base, 2 ours, 3 theirs.
        stages = {line.split()[2] for line in git(content_dir, "ls-files", "-u", "--", rel).stdout.splitlines()}
        if rel.startswith(f"{LEDGER_DIR}/") and _merge_ledger(content_dir, rel, stages, report):
            continue
        ours = git(content_dir, "show", f":2:{rel}", check=False) if "2" in stages and rel.endswith(".md") else None
        author = last_commit(content_dir, rel)["author"]  # HEAD is this site's side until the merge is committed
        # Served: the remote's version; deleted there and edited here, the edit (a photo is bytes: git writes it).
        git(content_dir, "checkout", "--theirs" if "3" in stages else "--ours", "--", rel)
        git(content_dir, "add", "--", rel)
        if ours is not None and ours.returncode == 0 and "3" in stages and on_conflict is not None:
            on_conflict(rel, ours.stdout, (content_dir / rel).read_text(encoding="utf-8", errors="replace"), author)
            report.conflicts.append(rel)
        elif "3" not in stages:
            report.notes.append(f"{rel}: đã bị xóa ở nơi khác nhưng được sửa ở đây: giữ bản sửa")
        elif "2" not in stages:
            report.notes.append(f"{rel}: đã bị xóa ở đây nhưng được sửa ở nơi khác: giữ bản sửa")
        else:
            report.notes.append(f"{rel}: sửa ở cả hai nơi: dùng bản của kho chung (bản ở đây còn trong lịch sử git)")


def _merge_ledger(content_dir: Path, rel: str, stages: set[str], report: SyncReport) -> bool:
    """Merge a ledger file's two versions record by record; return False to let git's checkout decide.

    A side that cannot be read is not merged: when the remote's is broken, this site's version is
    kept (the broken one is reported with its commit and author); when ours is, the remote's. A
    common version that cannot be read is left out: every record of both sides is kept.
    """
    base, ours, theirs = (git(content_dir, "show", f":{n}:{rel}").stdout.encode() if n in stages else None
                          for n in "123")  # fmt: skip
    if ours is None or theirs is None or _problem(ours, rel):
        return False  # an edit against a deletion, or ours broken: served as any other file
    if problem := _problem(theirs, rel):
        report.rejected.append({"path": rel, "message": problem, **last_commit(content_dir, rel, f"origin/{BRANCH}")})
        merged, clashed = ours, []
    else:
        merged, clashed = merge_ledgers(rel, None if base is None or _problem(base, rel) else base, ours, theirs)
    atomic_write(content_dir / rel, merged)
    git(content_dir, "add", "--", rel)
    for key in clashed:
        report.notes.append(f"{rel}: bản ghi {key} sửa ở cả hai nơi: dùng bản của kho chung "
                            "(bản ở đây còn trong lịch sử git)")  # fmt: skip
    return True


def _problem(raw: bytes, rel: str) -> str:
    """Return what is wrong with a ledger file's bytes, as `kb check` says it first ("" if nothing)."""
    errors = [p for p in check_ledger(raw, rel)[1] if not p.warning]
    return f"dòng {errors[0].line}: {errors[0].message}" if errors else ""


def _origin(content_dir: Path, path: str, local_head: str) -> tuple[str, str]:
    """Return who wrote a file and why, as the last commit that changed it says: (author, comment).

    A commit this site already had before the merge (local_head) is its own; any other came with the sync.
    """
    done = git(content_dir, "log", "-1", "--format=%H|%h|%an|%s", "--", path, check=False).stdout.strip()
    full, sha, author, subject = [*done.split("|", 3), "", "", "", ""][:4]
    if not full:
        return "", "Qua đồng bộ"
    here = bool(local_head) and git(content_dir, "merge-base", "--is-ancestor", full, local_head,
                                    check=False).returncode == 0  # fmt: skip
    return author, f"{'' if here else 'Qua đồng bộ: '}{subject} (lần ghi {sha})"


def errors(problems) -> list[tuple[str, str]]:
    """Return a reindex's errors (not its warnings) as (path, message), for the sync's report."""
    return [(p.path, p.message) for p in problems if not p.warning]


def last_report(data_dir: Path) -> SyncReport | None:
    """Return the last sync's report, or None if the site never synced."""
    try:
        data = json.loads((data_dir / "sync.json").read_text(encoding="utf-8"))
        known = SyncReport.__dataclass_fields__
        return SyncReport(**{k: v for k, v in data.items() if k in known})  # a report of an earlier version too
    except (OSError, ValueError, TypeError):
        return None
