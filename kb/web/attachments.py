"""Photos and documents in the edit form, and serving them: as private as their entry.

The form carries three kinds of rows: files the entry lists already (`att_file`, with their
caption, credit and a "Gỡ" box), files uploaded with an earlier submission of this same form
and kept in the data folder (`staged`: a random token each), and new files (`files`, several
at once; the page's script adds dropped files to it). A refused file is named with its reason and
the others are kept staged, so a second submission never asks for them again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flask import Blueprint, abort, current_app, request, send_file
from flask_login import current_user

from ..entries import ATTACHMENT_RE
from ..media import MediaChange, Staged, discard_staged, media_dir, media_file, removed_names, stage, staged
from ..store import get_entry
from ..uploads import IMAGE_KINDS, FileRefused, Limits, display_name, human_size
from .resources import get_db

__all__ = ["AttachmentForm", "accepts_uploads", "bp", "read_attachment_form", "upload_limit"]

bp = Blueprint("media", __name__)

MIME = {
    "jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}  # fmt: skip
_FORM_ROOM = 2 * 1024 * 1024  # the rest of the form (the body may be long) besides its files


def accepts_uploads(view):
    """Mark a view whose form may carry files: its requests may be as large as the upload limit."""
    view.accepts_uploads = True
    return view


def upload_limit() -> int:
    """Return the largest request a form with files may send (bytes)."""
    return Limits.from_env().request_bytes + _FORM_ROOM


@dataclass
class AttachmentForm:
    """The attachment rows of a submitted edit form."""

    listed: list[dict[str, str]] = field(default_factory=list)  # the entry's files, captions as edited
    removed: list[str] = field(default_factory=list)  # listed files ticked "Gỡ"
    staged: list[Staged] = field(default_factory=list)  # uploads kept for this form, captions as edited
    errors: list[str] = field(default_factory=list)  # one sentence per refused file

    def change(self, content_dir: Path, data_dir: Path) -> MediaChange:
        """Return what a save of this form adds to and takes off the entry."""
        return MediaChange(content_dir, data_dir, added=list(self.staged), removed=list(self.removed))


def read_attachment_form(content_dir: Path, data_dir: Path, slug: str | None, known: list[dict]) -> AttachmentForm:
    """Read the attachment rows of the submitted form; stage the new files (refused ones named in errors).

    known: the attachments the entry's file lists now. A listed row naming a file the entry does
    not have is ignored: the form can only caption, keep or remove the entry's own files.
    """
    out = AttachmentForm()
    form = request.form
    owned = {a.get("file") for a in known}
    if slug:
        folder = media_dir(content_dir, slug)
        owned |= {p.name for p in folder.iterdir() if p.is_file()} if folder.is_dir() else set()
        owned |= removed_names(data_dir, slug)  # a reopened proposal's files, moved aside when it was rejected
    removed = set(form.getlist("att_remove"))
    for name, caption, credit in zip(form.getlist("att_file"), form.getlist("att_caption"),
                                     form.getlist("att_credit"), strict=False):  # fmt: skip
        if not ATTACHMENT_RE.match(name) or name not in owned or any(a["file"] == name for a in out.listed):
            continue
        if name in removed:
            out.removed.append(name)
        out.listed.append({"file": name, "caption": _short(caption), "credit": _short(credit)})
    dropped = set(form.getlist("staged_remove"))
    owner = current_user.name if current_user.is_authenticated else ""
    for token in dict.fromkeys(form.getlist("staged")):
        if token in dropped:  # "Bỏ tệp này": forgotten at once
            if staged(data_dir, token, owner):
                discard_staged(data_dir, token)
            continue
        item = staged(data_dir, token, owner)
        if item is None:  # saved meanwhile, cleared after a day unsaved, or not this account's
            name = form.get(f"staged_name-{token}") or form.get(f"staged_caption-{token}") or "một tệp"
            out.errors.append(f"Tệp đã tải lên trước đó ({_short(name)}) không còn được giữ (đã quá một ngày hoặc "
                              "đã được lưu ở nơi khác): hãy chọn lại tệp đó.")  # fmt: skip
            continue
        item.caption = _short(form.get(f"staged_caption-{token}", item.caption))
        item.credit = _short(form.get(f"staged_credit-{token}", item.credit))
        out.staged.append(item)
    limits = Limits.from_env()
    budget = limits.request_bytes
    for upload in request.files.getlist("files"):
        if not upload or not upload.filename:
            continue
        size = _size(upload)
        try:
            if size > limits.file_bytes:  # said with its real size, without reading it
                raise FileRefused(f"Tệp “{display_name(upload.filename)}” nặng {human_size(size)}, quá giới hạn "
                                  f"{human_size(limits.file_bytes)} cho một tệp.")  # fmt: skip
            data = upload.read(limits.file_bytes + 1)
            budget -= len(data)
            if budget < 0:
                raise FileRefused(f"Tệp “{display_name(upload.filename)}” vượt tổng dung lượng "
                                  f"{human_size(limits.request_bytes)} "
                                  "cho một lần gửi: hãy gửi nó ở lần lưu sau.")  # fmt: skip
            out.staged.append(stage(data_dir, data, upload.filename, limits, owner=owner))
        except FileRefused as exc:
            out.errors.append(str(exc))
    return out


def _size(upload) -> int:
    """Return the size of an uploaded file as received (Werkzeug keeps it in memory or a temporary file)."""
    try:
        stream = upload.stream
        size = stream.seek(0, 2)
        stream.seek(0)
        return size
    except (AttributeError, OSError, ValueError):
        return 0


def _short(text: str | None) -> str:
    return " ".join((text or "").split())[:300]


@bp.get("/media/<slug>/<name>")
@bp.get("/media/<slug>/<any(thumbs):variant>/<name>")
def media(slug: str, name: str, variant: str = ""):
    """Serve an entry's photo or document, to whoever may read the entry, from this site only."""
    editor = current_user.is_authenticated and current_user.is_editor
    row = get_entry(get_db(), slug, ("draft", "review", "published", "archived") if editor else ("published",))
    if row is None:
        abort(404)
    listed = {a.get("file") for a in row.get("attachments") or []}
    # Readers get what the entry lists; editors also a proposal's files waiting beside it.
    if name not in listed and not editor:
        abort(404)
    path = media_file(current_app.config["KB_CONTENT_DIR"], slug, name, variant)
    if path is None or not path.is_file():
        abort(404)
    ext = name.rsplit(".", 1)[1]
    response = send_file(path, mimetype=MIME[ext], conditional=True, max_age=3600,
                         as_attachment=ext not in IMAGE_KINDS, download_name=name)  # fmt: skip
    response.headers["X-Content-Type-Options"] = "nosniff"
    if row["status"] != "published" or name not in listed:  # a draft's or a proposal's files: no shared cache
        response.headers["Cache-Control"] = "private, no-store"
    return response
