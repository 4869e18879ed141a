"""Back up the knowledge base into one archive, and bring it back on a fresh machine.

An archive holds the content folder and a snapshot of the SQLite database taken with SQLite's
backup API, which is consistent even while the site writes. The search index is not included:
it is rebuilt from the content after a restore.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import sqlite3
import stat
import tarfile
import tempfile
from contextlib import closing, suppress
from pathlib import Path

from .store import DB_NAME

__all__ = ["BackupError", "make_backup", "restore_backup"]

MANIFEST = "kho-mo-hinh-hay.json"
FORMAT = 1
# What a restore may unpack before it refuses. A knowledge base is text: a backup of 1 000 entries
# of bench/corpus.py unpacks to 9.3 MB (3 MB of Markdown, a 6 MB database; measured 2026-12-02),
# so the 50 000 entries of the largest benchmark come to about 470 MB, and each revision adds its
# text (~3 KB); entries' photos add what they weigh at display size (1 600 px) and as thumbnails.
# 4 GiB leaves room for those with some twenty revisions each, yet a hostile archive
# can no longer fill the disk (gzip turns 1 MB into 1 GiB of zeros). `kb restore --max-size`
# raises it for a backup known to be larger.
MAX_UNPACKED_BYTES = 4 * 1024**3
MAX_MEMBERS = 200_000  # files and folders: 50 000 entries fit four times over


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message is for the user, in Vietnamese."""


def _snapshot(data_dir: Path, target: Path) -> dict[str, int]:
    """Copy the live database to target with the backup API; return row counts of its main tables."""
    source = data_dir / DB_NAME
    if not source.exists():
        raise BackupError(f"Không tìm thấy cơ sở dữ liệu {source}.")
    _create_private(target)  # archived with its mode: a restored database is the owner's only
    with closing(sqlite3.connect(source, timeout=30)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
        tables = {r[0] for r in dst.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "sessions" in tables:  # restoring a backup must never bring back a session signed out since
            with dst:
                dst.execute("DELETE FROM sessions")
        wanted = ("entries", "revisions", "users", "replications", "proposals", "audit")
        return {t: dst.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in wanted if t in tables}


def make_backup(content_dir: Path, data_dir: Path, dest: Path | None = None) -> tuple[Path, dict]:
    """Write a .tar.gz with content/ and data/kb.sqlite3; return its path and the manifest."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    if dest is None:  # the default folder holds every account's password hash: its owner's only
        _owner_only(data_dir / "backups", folder=True)
    dest = dest or data_dir / "backups" / f"kho-mo-hinh-hay-{stamp}.tar.gz"
    if dest.is_dir() or not dest.name.endswith((".tar.gz", ".tgz")):  # a folder to put it in
        dest = dest / f"kho-mo-hinh-hay-{stamp}.tar.gz"
    if dest.resolve().is_relative_to(content_dir.resolve()):
        raise BackupError("Không lưu bản sao lưu vào trong thư mục nội dung (nó sẽ tự chép chính nó).")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent) as tmp:
        snapshot = Path(tmp) / DB_NAME
        counts = _snapshot(data_dir, snapshot)
        files = sum(1 for p in content_dir.rglob("*") if p.is_file())
        manifest = {"format": FORMAT, "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "content_files": files, "rows": counts}  # fmt: skip
        partial = Path(tmp) / "archive.tar.gz"
        _create_private(partial)  # it holds the password hashes; the mode survives the rename
        with tarfile.open(partial, "w:gz") as tar:
            data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(data), int(dt.datetime.now().timestamp())
            tar.addfile(info, io.BytesIO(data))
            tar.add(content_dir, arcname="content", filter=_no_links)
            tar.add(snapshot, arcname=f"data/{DB_NAME}")
        os.replace(partial, dest)  # the archive appears whole or not at all
    return dest, manifest


def _create_private(path: Path) -> None:
    """Create an empty file readable by its owner only (0600, or stricter if the umask says so)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _owner_only(path: Path, folder: bool = False) -> None:
    """Take group and others' access from a file or folder (creating the folder 0700 if missing)."""
    if folder:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        with suppress(PermissionError):  # another account's: not this process's to change
            os.chmod(path, mode & (0o700 if folder else 0o600))


def _no_links(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    """Leave out links (a symlink could point outside the content folder) and unfinished saves.

    A save killed mid-write leaves its temporary file (".<name>.<random>.tmp") beside the entry.
    """
    name = info.name.rsplit("/", 1)[-1]
    if info.issym() or info.islnk() or (name.startswith(".") and name.endswith(".tmp")):
        return None
    return info


def restore_backup(
    archive: Path,
    content_dir: Path,
    data_dir: Path,
    max_bytes: int = MAX_UNPACKED_BYTES,
    max_members: int = MAX_MEMBERS,
) -> dict:
    """Unpack an archive into an empty content folder and an empty data folder; return its manifest."""
    # A fresh data folder may already hold the session key the app made on start: that is fine.
    in_use = {
        content_dir: content_dir.exists() and any(content_dir.iterdir()),
        data_dir: (data_dir / DB_NAME).exists() or (data_dir / "index").exists(),
    }
    for folder, what in ((content_dir, "thư mục nội dung"), (data_dir, "thư mục dữ liệu")):
        if in_use[folder]:
            raise BackupError(f"{what.capitalize()} {folder} không trống; khôi phục chỉ vào thư mục mới hoặc trống.")
    try:
        tar = tarfile.open(archive, "r:gz")  # noqa: SIM115 - closed by the with below
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"Không đọc được tệp sao lưu {archive}: {exc}") from None
    with tar, tempfile.TemporaryDirectory() as tmp:
        try:
            _check_members(tar, archive, max_bytes, max_members)  # headers only: nothing is unpacked yet
        except (OSError, EOFError, tarfile.TarError) as exc:
            raise BackupError(f"Tệp sao lưu {archive} bị hỏng: {exc}") from None
        try:
            manifest = json.load(tar.extractfile(MANIFEST))
        except (KeyError, ValueError, TypeError, AttributeError, tarfile.TarError):
            raise BackupError(f"{archive} không phải tệp sao lưu của Kho mô hình hay.") from None
        if manifest.get("format") != FORMAT:
            raise BackupError(
                f"Tệp sao lưu có định dạng {manifest.get('format')}, phiên bản này đọc định dạng {FORMAT}."
            )
        try:
            tar.extractall(tmp, filter="data")  # no absolute paths, no escaping the folder, no devices
        except (OSError, tarfile.TarError) as exc:
            raise BackupError(f"Tệp sao lưu {archive} bị hỏng: {exc}") from None
        _check_unpacked(Path(tmp), archive)  # before anything is moved into place
        content_dir.mkdir(parents=True, exist_ok=True)
        data_dir.mkdir(parents=True, exist_ok=True)
        for item in (Path(tmp) / "content").iterdir():
            shutil.move(str(item), content_dir / item.name)
        shutil.move(str(Path(tmp) / "data" / DB_NAME), data_dir / DB_NAME)
        _owner_only(data_dir / DB_NAME)  # an archive from an older version stored it 0644
    with sqlite3.connect(data_dir / DB_NAME) as db:  # jobs that ran on the old machine run no more
        db.execute("UPDATE jobs SET status = 'interrupted' WHERE status IN ('queued', 'running')")
        db.execute("DELETE FROM pending")  # the full reindex after a restore takes every file
    return manifest


def _check_members(tar: tarfile.TarFile, archive: Path, max_bytes: int, max_members: int) -> None:
    """Raise BackupError at the first link, special file, or member past the bounds of size and count.

    Reading stops at that member's header, before its data is decompressed. Links are refused even
    when they point inside the archive: once moved, a `content/models` link to `../instance`
    would let the next save write into the data folder. Backups made by `kb backup` hold none.
    """
    total = 0
    for count, member in enumerate(tar, 1):
        if member.issym() or member.islnk():
            raise BackupError(
                f"Tệp sao lưu {archive} chứa liên kết {member.name} → {member.linkname}; "
                "bản sao lưu của Kho mô hình hay không có liên kết nào, nên không khôi phục tệp này."
            )
        if not (member.isfile() or member.isdir()):
            raise BackupError(
                f"Tệp sao lưu {archive} chứa {member.name}, không phải tệp hay thư mục thường; không khôi phục."
            )
        total += member.size
        if total > max_bytes:
            raise BackupError(
                f"Tệp sao lưu {archive} giải nén ra hơn {_gib(max_bytes)} (đến {member.name}); không khôi phục. "
                "Nếu đúng là bản sao lưu của bạn và đĩa còn đủ chỗ, chạy lại với --max-size <số GiB>."
            )
        if count > max_members:
            raise BackupError(
                f"Tệp sao lưu {archive} có hơn {max_members} tệp và thư mục (đến {member.name}); không khôi phục. "
                "Nếu đúng là bản sao lưu của bạn, chạy lại với --max-files <số tệp>."
            )


def _gib(size: int) -> str:
    """Write a size in GiB the Vietnamese way (decimal comma)."""
    return f"{size / 1024**3:.3g} GiB".replace(".", ",")


def _check_unpacked(folder: Path, archive: Path) -> None:
    """Raise BackupError unless an unpacked archive has its content and a sound database."""
    database = folder / "data" / DB_NAME
    if not (folder / "content").is_dir() or not database.is_file():
        raise BackupError(f"Tệp sao lưu {archive} thiếu thư mục nội dung hoặc cơ sở dữ liệu.")
    try:
        with closing(sqlite3.connect(database)) as db:
            ok = db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    except sqlite3.Error:
        ok = False
    if not ok:
        raise BackupError(f"Cơ sở dữ liệu trong {archive} bị hỏng.")
