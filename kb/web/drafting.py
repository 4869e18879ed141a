"""Drafting a new entry from a document: a report uploaded or a news article pasted ("Tạo từ tài liệu").

The proposal opens in the ordinary edit form (kb/web/editor.py); nothing is saved until the
editor saves. An uploaded DOCX or PDF is staged (kb/media.py) so the save keeps it as the entry's
first attachment. The proposing itself is kb/drafting.py's.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_login import current_user

from ..drafting import FIELD_LABELS, PASTE_MAX, gather, propose, read_document
from ..media import stage
from ..uploads import FileRefused, Limits, display_name, human_size
from .attachments import AttachmentForm, accepts_uploads
from .auth import role_required
from .editor import _edit_page, _form
from .forms import SimpleForm
from .resources import get_db, get_index, get_vocabulary

bp = Blueprint("drafting", __name__)


def _page(error: str = "", text: str = "", url: str = "", code: int = 200):
    """Render the page that takes a document or an article."""
    largest = human_size(Limits.from_env().file_bytes)  # the request may be larger (accepts_uploads)
    return render_template("draft_from_document.html", form=SimpleForm(), error=error, text=text, url=url,
                           largest=largest), code  # fmt: skip


class NothingToRead(Exception):
    """What was sent cannot be read (no file, no text, a bad address); the message says so in Vietnamese."""


def _posted() -> tuple[bytes, str, str]:
    """Return (bytes, file name or "" for a pasted text, address) of what was sent; raise NothingToRead."""
    upload = request.files.get("document")
    text, url = (request.form.get("text") or "").strip(), (request.form.get("url") or "").strip()
    if url and not url.lower().startswith(("http://", "https://")):
        raise NothingToRead("Địa chỉ bài báo phải bắt đầu bằng http:// hoặc https://")
    if upload is not None and upload.filename:
        return upload.read(), upload.filename, url
    if len(text) > PASTE_MAX:
        raise NothingToRead(f"Nội dung dán vào dài quá {PASTE_MAX:,} ký tự.".replace(",", "."))
    if not text:
        raise NothingToRead("Hãy chọn một tệp, hoặc dán nội dung bài báo vào ô dưới đây.")
    return text.encode("utf-8"), "", url


@bp.route("/edit/new/from-document", methods=["GET", "POST"])
@accepts_uploads
@role_required("editor")
def start():
    """Take a report or an article and open the edit form with a proposed draft; nothing is saved."""
    if request.method == "GET":
        return _page()
    if not SimpleForm().validate():
        abort(400)
    text, url = request.form.get("text") or "", request.form.get("url") or ""
    limits = Limits.from_env()
    try:
        data, name, url = _posted()
        document, kind = read_document(data, name or "bai-bao.txt", limits)
        keep = kind in ("docx", "pdf")  # the report itself becomes the entry's first attachment, for this account
        staged = [stage(current_app.config["KB_DATA_DIR"], data, name, limits, owner=current_user.name)] if keep else []
    except (NothingToRead, FileRefused) as exc:  # nothing was kept
        return _page(str(exc), text if len(text) <= PASTE_MAX else "", url, 422)
    knowledge = gather(current_app.config["KB_CONTENT_DIR"], get_db(), get_index(), get_vocabulary().regions)
    proposal = propose(document, knowledge, source_url=url, name=name)
    for item in staged:  # the attachment's caption: the document's title
        item.caption = proposal.draft.source_title or proposal.draft.title or display_name(name)
    form = _form()
    form.fill(proposal.draft)
    return _edit_page(form, None, "draft", files=AttachmentForm(staged=staged), proposed=proposal.proposed,
                      missing=proposal.missing, document=display_name(name) if name else "", labels=FIELD_LABELS,
                      form_action=url_for("editor.new"))  # fmt: skip
