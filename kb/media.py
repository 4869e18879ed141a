"""Entries' photos and documents: kept in the content folder beside the entries they belong to.

    content/media/<slug>/<file>           what pages show and link (a photo at display size)
    content/media/<slug>/thumbs/<file>    a photo's thumbnail (gallery, print brief)
    content/media/<slug>/originals/<file> a photo at full size, only where KB_KEEP_ORIGINALS is set

The entry's front matter lists its files (`attachments:`), so the Markdown file stays the source
of truth and the files travel with it (backup, restore, a copy of the folder, git).

An upload is checked and prepared first (kb/uploads.py: type by content, limits, photos
re-encoded without metadata), then *staged* in the data folder under a random token: a form
that comes back with a mistake keeps its files without a second upload. A save places the staged
files under their final names before its transaction and takes them away again if the save does
not happen (MediaChange). A file taken off the list is moved out of the content folder into the
data folder (data/media-removed/), where an admin can still find it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .atomic import atomic_write
from .entries import ATTACHMENT_RE, Attachment
from .extract import extract
from .uploads import (
    IMAGE_KINDS,
    KIND_LABELS,
    FileRefused,
    Limits,
    display_name,
    human_size,
    prepare_image,
    safe_name,
    sniff,
)

__all__ = [
    "MediaChange",
    "Staged",
    "attachment_text",
    "describe",
    "discard_staged",
    "find_media_problems",
    "keep_originals",
    "media_dir",
    "media_file",
    "placed",
    "prune_staged",
    "removed_names",
    "settle_media",
    "stage",
    "staged",
]

STAGED_HOURS = 24  # an upload whose form was never saved is removed after this long
_TOKEN = re.compile(r"^[0-9a-f]{32}$")
TEXT_KINDS = {"pdf", "docx"}  # attachments whose words are searched


def keep_originals() -> bool:
    """Say whether an admin chose to keep photos at full size (KB_KEEP_ORIGINALS=1)."""
    return os.environ.get("KB_KEEP_ORIGINALS", "").strip().lower() in ("1", "true", "yes", "có")


def media_dir(content_dir: Path, slug: str) -> Path:
    return content_dir / "media" / slug


def media_file(content_dir: Path, slug: str, name: str, variant: str = "") -> Path | None:
    """Return the stored file of an attachment (variant "thumbs" or "originals"), or None if not a valid name.

    A link is never an attachment: one in the media folder (made by hand, or come from another
    site) could point a photo's name at any file the server can read.
    """
    if not ATTACHMENT_RE.match(name) or variant not in ("", "thumbs", "originals"):
        return None
    folder = media_dir(content_dir, slug)
    path = (folder / variant / name) if variant else folder / name
    try:
        if path.is_symlink() or not path.resolve().is_relative_to((content_dir / "media").resolve()):
            return None
    except (OSError, RuntimeError):  # a loop of links
        return None
    return path


@dataclass
class Staged:
    """An upload checked, prepared and waiting in the data folder for its form to be saved."""

    token: str
    name: str  # the name it was uploaded with, for showing
    ext: str
    size: int  # bytes of the file as it will be stored
    caption: str = ""
    credit: str = ""
    has_thumb: bool = False
    has_original: bool = False
    text: str = field(default="", repr=False)  # the words inside a PDF or DOCX
    owner: str = ""  # the account that uploaded it: only its forms may use it

    @property
    def kind(self) -> str:
        return KIND_LABELS.get(self.ext, self.ext.upper())

    @property
    def size_text(self) -> str:
        return human_size(self.size)


def _staging(data_dir: Path, token: str) -> Path:
    return data_dir / "uploads" / token


def stage(data_dir: Path, data: bytes, name: str, limits: Limits, keep_text: bool = True, owner: str = "") -> Staged:
    """Check and prepare one upload, then keep it under a new token; raise FileRefused with the reason."""
    prune_staged(data_dir)  # forms left unsaved for a day: their files go
    ext = sniff(data, name, limits)
    files: dict[str, bytes] = {}
    text = ""
    if ext in IMAGE_KINDS:
        picture = prepare_image(data, name, limits)
        ext = picture.ext
        files["file"], files["thumb"] = picture.display, picture.thumb
        if keep_originals():
            files["original"] = picture.full
    else:
        files["file"] = data
        if ext in TEXT_KINDS:  # a PDF that loops or a damaged DOCX is refused here, before it is kept
            found = extract(data, ext, name, limits)
            text = found.text if keep_text else ""
    token = secrets.token_hex(16)
    folder = _staging(data_dir, token)
    folder.mkdir(parents=True)
    for part, content in files.items():
        (folder / part).write_bytes(content)
    item = Staged(token, display_name(name), ext, len(files["file"]), has_thumb="thumb" in files,
                  has_original="original" in files, text=text, owner=owner)  # fmt: skip
    (folder / "text.txt").write_text(text, encoding="utf-8")
    (folder / "meta.json").write_text(json.dumps({k: v for k, v in asdict(item).items() if k != "text"}), "utf-8")
    return item


def staged(data_dir: Path, token: str, owner: str | None = None) -> Staged | None:
    """Return a staged upload by its token (from a form), or None if unknown, expired or another account's."""
    if not _TOKEN.match(token or ""):
        return None
    folder = _staging(data_dir, token)
    try:
        meta = json.loads((folder / "meta.json").read_text("utf-8"))
        text = (folder / "text.txt").read_text("utf-8")
    except (OSError, ValueError):
        return None
    item = Staged(**{**meta, "token": token, "text": text})
    return item if owner is None or item.owner == owner else None


def discard_staged(data_dir: Path, token: str) -> None:
    if _TOKEN.match(token or ""):
        shutil.rmtree(_staging(data_dir, token), ignore_errors=True)


def prune_staged(data_dir: Path, hours: float = STAGED_HOURS) -> int:
    """Remove uploads staged longer ago than hours (forms never saved); return how many."""
    root, removed = data_dir / "uploads", 0
    cutoff = time.time() - hours * 3600
    for folder in root.iterdir() if root.is_dir() else ():
        try:
            if folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        except OSError:
            continue
    return removed


def _cache_text(data_dir: Path, data: bytes, text: str) -> None:
    """Keep the words of a document by its content's digest, so a reindex does not read it again."""
    folder = data_dir / "extracted"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{hashlib.sha256(data).hexdigest()}.txt"
    if not target.exists():
        tmp = folder / f".{target.name}.{secrets.token_hex(4)}"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)


def attachment_text(content_dir: Path, data_dir: Path, slug: str, attachment: Attachment) -> str:
    """Return the words inside a PDF or DOCX attachment ("" for others, or a file that cannot be read)."""
    if attachment.ext not in TEXT_KINDS:
        return ""
    path = media_file(content_dir, slug, attachment.file)
    try:
        data = path.read_bytes() if path else b""
    except OSError:
        return ""
    if not data:
        return ""
    cached = data_dir / "extracted" / f"{hashlib.sha256(data).hexdigest()}.txt"
    try:
        return cached.read_text(encoding="utf-8")
    except OSError:
        pass
    try:
        text = extract(data, attachment.ext, attachment.file).text
    except FileRefused:
        text = ""  # a file put there by hand that cannot be read: its words are not searched
    _cache_text(data_dir, data, text)
    return text


@dataclass
class MediaChange:
    """The files one save adds to an entry and takes off it: placed with the save, or not at all."""

    content_dir: Path
    data_dir: Path
    added: list[Staged] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    _placed: list[Path] = field(default_factory=list)
    _names: list[str] = field(default_factory=list)
    slug: str = ""

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)

    def assign(self, slug: str, attachments: list[dict[str, str]]) -> list[dict[str, str]]:
        """Choose the added files' names in the entry's folder; return the list with them appended."""
        self.slug = slug
        folder = media_dir(self.content_dir, slug)
        taken = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
        # A name the entry's history may list again (a restored revision) is never given to another file.
        taken |= {a.get("file", "") for a in attachments} | removed_names(self.data_dir, slug)
        kept = [a for a in attachments if a.get("file") not in self.removed]
        self._names = []
        for item in self.added:
            name = safe_name(item.name, item.ext, taken)
            taken.add(name)
            self._names.append(name)
            kept.append({"file": name, "caption": item.caption, "credit": item.credit})
        return kept

    def place(self) -> None:
        """Copy the staged files to their places (before the save's transaction commits)."""
        for item, name in zip(self.added, self._names, strict=True):
            source = _staging(self.data_dir, item.token)
            parts = (
                [("file", "")]
                + [("thumb", "thumbs")] * item.has_thumb
                + [("original", "originals")] * item.has_original
            )
            for part, variant in parts:
                target = media_file(self.content_dir, self.slug, name, variant)
                data = (source / part).read_bytes()
                atomic_write(target, data)
                self._placed.append(target)
            if item.ext in TEXT_KINDS:
                _cache_text(self.data_dir, (source / "file").read_bytes(), item.text)

    def undo(self) -> None:
        """Take placed files away again: the save did not happen."""
        for path in self._placed:
            path.unlink(missing_ok=True)
        self._placed.clear()

    def finish(self) -> None:
        """After the save: forget the staged uploads (they are in place now)."""
        for item in self.added:
            discard_staged(self.data_dir, item.token)


@contextmanager
def placed(media: MediaChange | None) -> Iterator[None]:
    """Place a save's new files for the duration of its transaction: kept if it commits, taken away if not."""
    if not media:
        yield
        return
    media.place()
    try:
        yield
    except BaseException:
        media.undo()
        raise
    media.finish()


_VARIANTS = ("", "thumbs", "originals")
_STAMP = 16  # "20261203-064450-": when a file was moved aside


def removed_names(data_dir: Path, slug: str) -> set[str]:
    """Return the names of an entry's files moved aside (by a save or a rejection), which may come back."""
    folder = data_dir / "media-removed" / slug / "files"
    return {p.name[_STAMP:] for p in folder.iterdir()} if folder.is_dir() else set()


def settle_media(content_dir: Path, data_dir: Path, slug: str, before: set[str], after: set[str]) -> None:
    """After a save: move files the entry no longer lists out of the content folder, and bring back
    files it lists again (a restored revision) from where they were moved. Best effort: a file
    left behind is what `kb check` reports."""
    removed = data_dir / "media-removed" / slug
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for name in sorted(before - after):
        for variant in _VARIANTS:
            path = media_file(content_dir, slug, name, variant)
            if path is not None and path.is_file():
                target = removed / (variant or "files") / f"{stamp}-{name}"
                target.parent.mkdir(parents=True, exist_ok=True)
                with suppress(OSError):
                    shutil.move(str(path), str(target))
    for name in sorted(after - before):
        main = media_file(content_dir, slug, name)
        if main is None or main.exists():
            continue
        for variant in _VARIANTS:
            kept = sorted((removed / (variant or "files")).glob(f"*-{name}")) if removed.is_dir() else []
            target = media_file(content_dir, slug, name, variant)
            if kept and target is not None:
                target.parent.mkdir(parents=True, exist_ok=True)
                with suppress(OSError):
                    shutil.move(str(kept[-1]), str(target))


def describe(content_dir: Path, slug: str, attachments: list[dict]) -> list[dict]:
    """Return an entry's attachments as pages show them: kind, size, photo or document, present or not."""
    out = []
    for item in attachments:
        name = item.get("file", "")
        path = media_file(content_dir, slug, name)
        try:
            size = path.stat().st_size if path else None
        except OSError:
            size = None
        ext = name.rsplit(".", 1)[-1]
        thumb = media_file(content_dir, slug, name, "thumbs")
        out.append({
            **item, "ext": ext, "kind": KIND_LABELS.get(ext, ext.upper()), "is_image": ext in IMAGE_KINDS,
            "present": size is not None, "size": human_size(size) if size is not None else "",
            "has_thumb": bool(thumb and thumb.exists()),
        })  # fmt: skip
    return out


def find_media_problems(content_dir: Path, listed: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Return (path, message) for files listed but missing, and files present but listed by no entry."""
    problems = []
    root = content_dir / "media"
    for slug, names in sorted(listed.items()):
        for name in sorted(names):
            path = media_file(content_dir, slug, name)
            if path is None or not path.is_file():
                problems.append((f"models/{slug}.md", f"tệp đính kèm '{name}' không có trong media/{slug}/"))
    for folder in sorted(root.iterdir()) if root.is_dir() else ():
        if not folder.is_dir():
            continue
        names = listed.get(folder.name, set())
        for path in sorted(folder.rglob("*")):
            if path.is_symlink():
                rel = path.relative_to(content_dir).as_posix()
                problems.append(
                    (rel, "là liên kết (symlink), không dùng được làm tệp đính kèm; hãy thay bằng tệp thật")
                )
            elif path.is_file() and path.name not in names and not path.name.startswith("."):
                rel = path.relative_to(content_dir).as_posix()
                problems.append((rel, "tệp không thuộc danh sách đính kèm của mục nào (có thể xóa, hoặc thêm vào mục)"))
    return problems
