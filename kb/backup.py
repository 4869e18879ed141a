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
import tarfile
import tempfile
from contextlib import closing
from pathlib import Path

from .store import DB_NAME

__all__ = ["BackupError", "make_backup", "restore_backup"]

MANIFEST = "kho-mo-hinh-hay.json"
FORMAT = 1


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message is for the user, in Vietnamese."""


def _snapshot(data_dir: Path, target: Path) -> dict[str, int]:
    """Copy the live database to target with the backup API; return row counts of its main tables."""
    source = data_dir / DB_NAME
    if not source.exists():
        raise BackupError(f"Không tìm thấy cơ sở dữ liệu {source}.")
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
        with tarfile.open(partial, "w:gz") as tar:
            data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(data), int(dt.datetime.now().timestamp())
            tar.addfile(info, io.BytesIO(data))
            tar.add(content_dir, arcname="content", filter=_no_links)
            tar.add(snapshot, arcname=f"data/{DB_NAME}")
        os.replace(partial, dest)  # the archive appears whole or not at all
    return dest, manifest


def _no_links(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    """Leave out links (a symlink could point outside the content folder)."""
    return None if info.issym() or info.islnk() else info


def restore_backup(archive: Path, content_dir: Path, data_dir: Path) -> dict:
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
    with sqlite3.connect(data_dir / DB_NAME) as db:  # jobs that ran on the old machine run no more
        db.execute("UPDATE jobs SET status = 'interrupted' WHERE status IN ('queued', 'running')")
        db.execute("DELETE FROM pending")  # the full reindex after a restore takes every file
    return manifest


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
