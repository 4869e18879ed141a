"""The `git` command, as the sync runs it: a fixed identity, no prompts, a time limit, Vietnamese errors.

Also the few questions the sync asks git (which commit, is a merge under way, who last wrote a
file) and the commits saves make. Why the command and not a library: see kb.gitsync.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
from pathlib import Path

__all__ = [
    "BRANCH",
    "GitError",
    "commit_all",
    "commit_quietly",
    "enabled",
    "git",
    "head",
    "is_repo",
    "last_commit",
    "merging",
    "names",
    "remote",
    "remote_head",
    "site_name",
]

log = logging.getLogger(__name__)
BRANCH = "main"
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


def git(content_dir: Path, *args: str, check: bool = True, author: str = "") -> subprocess.CompletedProcess:
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


def is_repo(content_dir: Path) -> bool:
    return (content_dir / ".git").exists()


def head(content_dir: Path) -> str:
    done = git(content_dir, "rev-parse", "--verify", "--quiet", "HEAD", check=False)
    return done.stdout.strip() if done.returncode == 0 else ""


def remote_head(content_dir: Path) -> str:
    """Return the commit of the remote's branch as last fetched ("" if it has none)."""
    done = git(content_dir, "rev-parse", "--verify", "--quiet", f"origin/{BRANCH}", check=False)
    return done.stdout.strip() if done.returncode == 0 else ""


def merging(content_dir: Path) -> bool:
    """Return True while a merge is under way (or was left half-done by a crash)."""
    return (content_dir / ".git" / "MERGE_HEAD").exists()


def names(done: subprocess.CompletedProcess) -> list[str]:
    """Return the paths git listed with -z (any character in a name, quoted by nothing)."""
    return [name for name in done.stdout.split("\0") if name]


def last_commit(content_dir: Path, path: str, rev: str = "HEAD") -> dict:
    """Return the short hash and author of the last commit that changed path (as of rev)."""
    # The last commit that wrote it, not a merge that only brought it here.
    commit = git(content_dir, "log", "-1", "--no-merges", "--format=%h|%an", rev, "--", path, check=False).stdout
    commit = commit.strip()
    sha, _, author = commit.partition("|")
    return {"commit": sha, "author": author}


def commit_all(content_dir: Path, message: str, author: str = "", paths: list[str] | None = None) -> str:
    """Commit the changes in the content folder, or only in paths; return the commit, or "" if none.

    Nothing is committed while a merge is under way: its files may hold conflict markers.
    """
    if not enabled() or not is_repo(content_dir) or merging(content_dir):
        return ""
    if paths is not None:  # a save's own files: not someone's hand edit waiting for the next sync
        known = names(git(content_dir, "ls-files", "-z", "--", *paths)) if paths else []
        paths = [p for p in paths if (content_dir / p).exists() or any(k == p or k.startswith(f"{p}/") for k in known)]
        if not paths:
            return ""
    git(content_dir, "add", "--all", "--", *(paths if paths is not None else ["."]))
    if git(content_dir, "diff", "--cached", "--quiet", "--", *(paths or []), check=False).returncode == 0:
        return ""
    git(content_dir, "commit", "--quiet", "--no-verify", "-m", message, "--", *(paths or []), author=author)
    return head(content_dir)


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
