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
import os
import socket
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

from indexer.locks import file_lock

from .atomic import atomic_write
from .entries import InvalidEntry
from .ledgerfiles import LEDGER_DIR, merge_ledgers, read_ledger
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
    "origin",
    "remote",
    "running",
    "site_name",
    "sync",
]

BRANCH = "main"
log = logging.getLogger(__name__)
_EMAIL = "kho-mo-hinh-hay@localhost"  # git wants one; accounts have none
# A network command that makes no progress for this long is given up (the next sync tries again).
NETWORK_TIMEOUT_S = 900
# What each network command failing means, for the admin page (git's own words follow).
_FAILED = {"fetch": "không lấy được dữ liệu từ kho chung", "clone": "không sao chép được kho chung",
           "push": "không gửi được lên kho chung"}  # fmt: skip


class GitError(RuntimeError):
    """A git command that failed; the message says which and what git said."""


def remote() -> str:
    """Return KB_GIT_REMOTE, or "" when the site is a single site."""
    return os.environ.get("KB_GIT_REMOTE", "").strip()


def enabled() -> bool:
    return bool(remote())


def site_name() -> str:
    """Return this site's name for commits git makes on its own: KB_NODE_NAME, else the host's name."""
    return os.environ.get("KB_NODE_NAME", "").strip() or socket.gethostname()


def _git(content_dir: Path, *args: str, check: bool = True, author: str = "") -> subprocess.CompletedProcess:
    """Run one git command in the content folder, with a fixed identity, no prompts and a time limit."""
    committer = f"Kho mô hình hay ({site_name()})"
    env = {
        **os.environ,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": author or committer,
        "GIT_AUTHOR_EMAIL": _EMAIL,
        "GIT_COMMITTER_NAME": committer,
        "GIT_COMMITTER_EMAIL": _EMAIL,
        "LC_ALL": "C",
    }
    if "GIT_SSH_COMMAND" not in os.environ and "GIT_SSH" not in os.environ:  # a dead link fails, never hangs
        env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes -o ConnectTimeout=30 -o ServerAliveInterval=15"
    # Over http(s): give up on a transfer slower than 1 kB/s for a minute.
    command = ["git", "-c", "http.lowSpeedLimit=1000", "-c", "http.lowSpeedTime=60", *args]
    try:
        done = subprocess.run(command, cwd=content_dir, env=env, capture_output=True, text=True, check=False,
                              timeout=NETWORK_TIMEOUT_S)  # fmt: skip
    except subprocess.TimeoutExpired:
        raise GitError(f"{_FAILED.get(args[0], 'git ' + args[0])}: quá {NETWORK_TIMEOUT_S // 60} phút") from None
    if check and done.returncode != 0:
        said = (done.stderr or done.stdout).strip()[:500]
        raise GitError(
            f"{_FAILED[args[0]]} (git: {said})" if args[0] in _FAILED else f"git {' '.join(args[:2])}: {said}"
        )
    return done


def _is_repo(content_dir: Path) -> bool:
    return (content_dir / ".git").exists()


def _head(content_dir: Path) -> str:
    done = _git(content_dir, "rev-parse", "--verify", "--quiet", "HEAD", check=False)
    return done.stdout.strip() if done.returncode == 0 else ""


def _remote_head(content_dir: Path) -> str:
    """Return the commit of the remote's branch as last fetched ("" if it has none)."""
    done = _git(content_dir, "rev-parse", "--verify", "--quiet", f"origin/{BRANCH}", check=False)
    return done.stdout.strip() if done.returncode == 0 else ""


def _merging(content_dir: Path) -> bool:
    """Return True while a merge is under way (or was left half-done by a crash)."""
    return (content_dir / ".git" / "MERGE_HEAD").exists()


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
        _git(content_dir.parent, "clone", "--quiet", "-c", "core.symlinks=false", "--branch", BRANCH, url,
             str(content_dir), check=False)  # fmt: skip
        if _is_repo(content_dir):
            return "cloned"
    # An existing single site becomes a synced one: its content is committed as it is.
    _git(content_dir, "init", "--quiet", "--initial-branch", BRANCH)
    _git(content_dir, "remote", "add", "origin", url)
    return "initialised"


def _configure(content_dir: Path) -> None:
    """Set what every sync relies on: links from other sites as plain files, temporary files ignored."""
    # A link in the shared repository could point a photo's name at any file this server reads.
    _git(content_dir, "config", "core.symlinks", "false")
    exclude = content_dir / ".git" / "info" / "exclude"
    pattern = ".*.tmp"  # the files a save writes before renaming them
    try:
        lines = exclude.read_text(encoding="utf-8").splitlines() if exclude.exists() else []
        if pattern not in lines:
            exclude.parent.mkdir(parents=True, exist_ok=True)
            exclude.write_text("\n".join([*lines, pattern]) + "\n", encoding="utf-8")
    except OSError:
        pass


def commit_all(content_dir: Path, message: str, author: str = "", paths: list[str] | None = None) -> str:
    """Commit the changes in the content folder, or only in paths; return the commit, or "" if none.

    Nothing is committed while a merge is under way: its files may hold conflict markers.
    """
    if not enabled() or not _is_repo(content_dir) or _merging(content_dir):
        return ""
    if paths is not None:  # a save's own files: not someone's hand edit waiting for the next sync
        known = _names(_git(content_dir, "ls-files", "-z", "--", *paths)) if paths else []
        paths = [p for p in paths if (content_dir / p).exists() or any(k.startswith(p) for k in known)]
        if not paths:
            return ""
    _git(content_dir, "add", "--all", "--", *(paths if paths is not None else ["."]))
    if _git(content_dir, "diff", "--cached", "--quiet", "--", *(paths or []), check=False).returncode == 0:
        return ""
    _git(content_dir, "commit", "--quiet", "--no-verify", "-m", message, "--", *(paths or []), author=author)
    return _head(content_dir)


def commit_quietly(content_dir: Path, message: str, author: str, paths: list[str]) -> None:
    """With sites synced: make a change from the browser a commit of its files by its author.

    Never fails the change: a commit that cannot be made now (git busy, a full disk) is logged,
    and the next sync commits the files.
    """
    if not enabled():
        return
    try:
        commit_all(content_dir, message, author=author, paths=paths)
    except GitError:
        log.exception("A change could not be committed; the next sync commits it")


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
            parts.append(f"{len(self.notes)} tệp khác sửa ở cả hai nơi (xem chi tiết)")
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
    conflict (a proposal); reindex(rels) brings the changed files into the database and the
    index and returns the (path, message) of files it had to skip; vet(content_dir) returns the
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
                skipped = reindex(report.changed) or ()
            except Exception as exc:  # the files are merged: the next reindex (or sync) takes them
                log.exception("Reindexing after a sync failed")
                report.ok, report.message = False, f"lập chỉ mục sau khi đồng bộ không thành công ({exc})"
                skipped = ()
            for path, message in skipped:
                if path in changed and all(r["path"] != path for r in report.rejected):
                    report.rejected.append({"path": path, "message": message, **_last_commit(content_dir, path)})
        if report.ok:
            report.last_success = report.at  # both ways: received and sent
        (data_dir / "sync.json").write_text(json.dumps(asdict(report), ensure_ascii=False), encoding="utf-8")
    return report


def _last_commit(content_dir: Path, path: str, rev: str = "HEAD") -> dict:
    """Return the short hash and author of the last commit that changed path (as of rev)."""
    commit = _git(content_dir, "log", "-1", "--format=%h|%an", rev, "--", path, check=False).stdout.strip()
    sha, _, author = commit.partition("|")
    return {"commit": sha, "author": author}


def _sync(content_dir: Path, data_dir: Path, report: SyncReport, on_conflict, vet) -> None:
    joined = _ensure_repo(content_dir)
    _configure(content_dir)
    _git(content_dir, "fetch", "--quiet", "origin")  # the slow part, on a poor link: saves go on meanwhile
    with content_lock(data_dir, wait=None):  # no save writes while files are committed and merged
        if _merging(content_dir):  # a sync killed mid-merge: undo it, and merge again below
            _git(content_dir, "merge", "--abort", check=False)
        before = "" if joined == "cloned" else _head(content_dir)  # a clone brings every file
        hand = "Sửa trực tiếp trên đĩa" if before else "Nội dung ban đầu"
        commit_all(content_dir, f"{hand} ở {site_name()} (ghi nhận khi đồng bộ)")
        if _remote_head(content_dir):
            if not _head(content_dir):  # nothing here yet: take the remote's history as it is
                _git(content_dir, "checkout", "--quiet", "-B", BRANCH, f"origin/{BRANCH}")
            else:
                _merge(content_dir, report, on_conflict)
                if vet is not None and before:
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
        _git(content_dir, "push", "--quiet", "origin", f"HEAD:{BRANCH}")  # refused: the next sync fetches first
        report.pushed = True


def _merge(content_dir: Path, report: SyncReport, on_conflict) -> None:
    """Merge the remote's branch; where git cannot, serve the remote's version and keep ours aside."""
    # Unrelated histories: a second existing site joins with content of its own; what both have
    # alike merges cleanly, what differs is a conflict like any other. Nothing new here: a fast
    # forward, so that sites with nothing to add settle on the same commit.
    merged = _git(content_dir, "merge", "--quiet", "--no-edit", "--allow-unrelated-histories",
                  f"origin/{BRANCH}", "-m", f"Đồng bộ với kho chung ({site_name()})", check=False)  # fmt: skip
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
        report.notes.clear()
        raise
    _git(content_dir, "commit", "--quiet", "--no-verify", "--no-edit")


def _hold_back(content_dir: Path, before: str, report: SyncReport, vet) -> None:
    """Put back the version before the sync of each vocabulary file that is broken after it.

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
    kept = ", ".join(sorted(bad.keys() - still))
    commit_all(content_dir, f"Giữ bản tốt trước đó của {kept} (bản sau khi đồng bộ có lỗi)")


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
        author = _last_commit(content_dir, rel)["author"]  # HEAD is this site's side until the merge is committed
        # Served: the remote's version; deleted there and edited here, the edit (a photo is bytes: git writes it).
        _git(content_dir, "checkout", "--theirs" if "3" in stages else "--ours", "--", rel)
        _git(content_dir, "add", "--", rel)
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
    base, ours, theirs = (_git(content_dir, "show", f":{n}:{rel}").stdout.encode() if n in stages else None
                          for n in "123")  # fmt: skip
    if ours is None or theirs is None or _problem(ours, rel):
        return False  # an edit against a deletion, or ours broken: served as any other file
    if problem := _problem(theirs, rel):
        report.rejected.append({"path": rel, "message": problem, **_last_commit(content_dir, rel, f"origin/{BRANCH}")})
        merged, clashed = ours, []
    else:
        merged, clashed = merge_ledgers(rel, None if base is None or _problem(base, rel) else base, ours, theirs)
    atomic_write(content_dir / rel, merged)
    _git(content_dir, "add", "--", rel)
    for key in clashed:
        report.notes.append(f"{rel}: bản ghi {key} sửa ở cả hai nơi: dùng bản của kho chung "
                            "(bản ở đây còn trong lịch sử git)")  # fmt: skip
    return True


def _problem(raw: bytes, rel: str) -> str:
    """Return what is wrong with a ledger file's bytes ("" if nothing)."""
    try:
        read_ledger(raw, rel)
    except InvalidEntry as exc:
        return f"dòng {exc.problems[0].line}: {exc.problems[0].message}"
    return ""


def origin(content_dir: Path, path: str) -> tuple[str, str]:
    """Return who wrote a file and why, as the last commit that changed it says: (author, comment)."""
    done = _git(content_dir, "log", "-1", "--format=%h|%an|%s", "--", path, check=False).stdout.strip()
    sha, author, subject = [*done.split("|", 2), "", "", ""][:3]
    return author, f"Qua đồng bộ: {subject} (lần ghi {sha})" if sha else "Qua đồng bộ"


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
