"""Writing entries in the browser: the edit form, preview, workflow, history and restore."""

# Size: every page of one audience, the editors (form, preview, status, history, proposals), in one blueprint.

from __future__ import annotations

from contextlib import suppress

import yaml
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from wtforms import SelectChoice

from ..audit import audit
from ..catalog import heal_entry
from ..changes import compare
from ..dates import show_time
from ..drafts import STATUS_LABELS, Draft, compose, read_draft, transitions, with_status_of
from ..editing import (
    REJECTED_SHOWN_DAYS,
    Note,
    Who,
    apply_proposal,
    decide_proposal,
    entry_proposals,
    file_state,
    get_proposal,
    open_proposals,
    propose,
    rejected_proposals,
    release_proposal_files,
    save_entry,
    save_text,
)
from ..entries import STATUSES, InvalidEntry, load_fields, parse_entry
from ..media import describe as describe_media
from ..render import RenderRefused, render_bounded
from ..revisions import diff_lines, get_revision, list_revisions, revision_text
from ..sections import SECTIONS, leftover_guidance
from ..store import StoreBusy, editorial_rows, entry_title, get_entry
from ..uploads import Limits
from .attachments import AttachmentForm, accepts_uploads, read_attachment_form
from .auth import actor, client_address, csrf_failed, role_required
from .confirm import Confirmation, confirmation_page, confirmed
from .forms import EntryForm, RejectForm, SimpleForm
from .resources import get_db, get_vocabulary

bp = Blueprint("editor", __name__)


def _dirs():
    return current_app.config["KB_CONTENT_DIR"], current_app.config["KB_DATA_DIR"]


def _form(**kwargs) -> EntryForm:
    """Return the entry form with the fields of content/fields.yml as choices."""
    form = EntryForm(**kwargs)
    form.fields.choices = [SelectChoice(f, f) for f in load_fields(_dirs()[0] / "fields.yml")]
    return form


def _places() -> list[tuple[str, str]]:
    """Return (name, hint) of every province name the vocabulary knows, today's names first."""
    vocab = get_vocabulary()
    today = sorted(set(vocab.regions.values()))
    former = sorted(n for n, now in vocab.regions.items() if n != now)
    return [(n, "") for n in today] + [(n, f"nay thuộc {vocab.regions[n]}") for n in former]


def _preview_entry(draft: Draft) -> dict:
    """Return what the entry page shows for a draft, rendered the same way (within the limits)."""
    vocab = get_vocabulary()
    try:
        body_html, refused = render_bounded(draft.body), ""
    except RenderRefused as exc:
        body_html, refused = "", str(exc)
    url = draft.source_url if draft.source_url.lower().startswith(("http://", "https://")) else ""  # never javascript:
    source = {"title": draft.source_title, "url": url} if draft.source_title or url else None
    return {
        "title": draft.title or "(chưa có tên)",
        "summary": draft.summary,
        "unit": draft.unit,
        "province": draft.province or None,
        "year": draft.year,
        "fields": draft.fields,
        "tags": draft.tags,
        "contact": draft.contact,
        "source": source,
        "body_html": body_html,
        "refused": refused,
        "region": vocab.region(draft.province or None),
        "status": draft.status,
    }


def _next_status(action: str, status: str) -> str:
    """Return the status a save button leads to (only changes the role may make)."""
    wanted = {"submit": "review", "publish": "published"}.get(action)
    if wanted and wanted in dict(transitions(status, current_user.role)):
        return wanted
    return status


def _save(form: EntryForm, slug: str | None, status: str, files: AttachmentForm):
    """Save a valid form; return a redirect, or a page (conflict, problems, busy) to show instead."""
    content_dir, data_dir = _dirs()
    db = get_db()
    action = request.form.get("action", "save")
    new_status = _next_status(action, status)
    draft = form.to_draft(new_status)
    draft.attachments = list(files.listed)
    media = files.change(content_dir, data_dir)
    who = Who(actor(), client_address())
    comment = form.comment.data or ""
    # An editor's change to a published entry goes live only when an admin applies it.
    if slug is not None and status == "published" and not current_user.is_admin:
        result = propose(content_dir, data_dir, db, draft, slug=slug, base_hash=form.base_hash.data or "", author=who,
                         comment=comment, reopens=_reopened(db, slug, form.reopens.data), media=media)  # fmt: skip
    else:
        detail = f"{STATUS_LABELS.get(status, status)} → {STATUS_LABELS[new_status]}" if new_status != status else ""
        notes = (Note("create" if slug is None else "save", detail),) + ((Note("status", detail),) if detail else ())
        result = save_entry(content_dir, data_dir, db, draft, slug=slug, base_hash=form.base_hash.data or "",
                            author=who, comment=comment, notes=notes, media=media)  # fmt: skip
    if result.outcome == "conflict":
        audit(db, actor(), "save_conflict", slug or "", address=client_address())
        mine = compose(draft, result.current_text or None)
        form.base_hash.data = result.current_hash  # saving again overwrites, knowingly
        page = render_template(
            "conflict.html", form=form, slug=slug, current=result.current_text, mine=mine,
            diff=diff_lines(result.current_text, mine), changes=compare(result.current_text, mine), places=_places(),
            status=status,
            status_labels=STATUS_LABELS, action=action if action in ("save", "submit", "publish") else "save",
            files=files,
        )  # fmt: skip
        return make_response(page, 409), None
    if result.outcome == "invalid":
        return None, result.problems
    if result.outcome == "busy":
        flash(BUSY_MESSAGE)
        page, code = _edit_page(form, slug, status, code=503, files=files)
        return _retry_later(make_response(page, code)), None
    if result.outcome == "proposed":
        flash("Đã gửi bản sửa để quản trị viên duyệt. Mục đang xuất bản giữ nguyên cho tới khi được duyệt.")
        session["kb_clear_draft"] = request.path
        return redirect(url_for("public.entry", slug=result.slug)), None
    flash("Đã lưu." + _busy_note(result.indexed) + _guidance_note(draft.body))
    session["kb_clear_draft"] = request.path  # the browser may forget its copy of what was typed
    return redirect(url_for("public.entry", slug=result.slug)), None


def _guidance_note(body: str) -> str:
    """Say so when a saved draft still holds guidance sentences of the new-entry form."""
    left = leftover_guidance(body)
    if not left:
        return ""
    sections = ", ".join(dict.fromkeys(f"“{section.heading}”" for _line, section in left))
    return (f" Lưu ý: nội dung còn {len(left)} câu gợi ý của mẫu (phần {sections}); hãy thay bằng nội dung thật "
            "trước khi gửi duyệt hay xuất bản.")  # fmt: skip


def _reopened(db, slug: str, value: str | None) -> int | None:
    """Return the id of the rejected proposal of this entry that a form takes up again, if it names one."""
    if not value or not value.isdigit():
        return None
    found = get_proposal(db, slug, int(value))
    return found["id"] if found is not None and found["state"] == "rejected" else None


BUSY_MESSAGE = (
    "Hệ thống đang bận ghi dữ liệu khác nên chưa lưu được. Nội dung bạn gõ vẫn còn nguyên dưới đây: "
    "hãy đợi vài giây rồi bấm Lưu lại."
)


def _retry_later(response):
    """Tell the browser (and any proxy) the refusal is momentary."""
    response.headers["Retry-After"] = "5"
    return response


def _busy_note(indexed: bool) -> str:
    """Say so when a change waits for the running reindex to reach search."""
    if indexed:
        return ""
    return " Chỉ mục đang bận; thay đổi sẽ có trong tìm kiếm khi lần lập chỉ mục đang chạy kết thúc."


def _edit_page(form, slug, status, problems=(), preview=None, code=200, files: AttachmentForm | None = None,
               **proposal):  # fmt: skip
    """Render the edit form; proposal: what a drafted entry says (kb/web/drafting.py)."""
    reopens = form.reopens.data or ""
    reopening = get_proposal(get_db(), slug, int(reopens)) if slug and reopens.isdigit() else None
    files = files or AttachmentForm()
    listed = describe_media(_dirs()[0], slug, files.listed) if slug else []
    return render_template(
        "edit.html", form=form, slug=slug, status=status, status_labels=STATUS_LABELS, problems=problems,
        preview=preview, places=_places(), transitions=transitions(status, current_user.role), reopening=reopening,
        sections=SECTIONS, leftover=leftover_guidance(form.body.data or ""), first_error=_first_error(form),
        listed=listed, removed=set(files.removed), staged=files.staged, upload_errors=files.errors,
        upload_limits=Limits.from_env(), **proposal,
    ), code  # fmt: skip


def _first_error(form) -> str:
    """Return the id of the first field in error: it takes the focus on load, without JavaScript too."""
    return next((f.id for f in form if f.errors and f.type not in ("CSRFTokenField", "HiddenField")), "")


@bp.route("/edit/new", methods=["GET", "POST"])
@accepts_uploads
@role_required("editor")
def new():
    """Write a new entry: the form prefilled with the recommended sections."""
    form = _form()
    if request.method == "GET":
        # From the admin's list of searches that found nothing: the words people typed.
        form.fill(Draft(title=(request.args.get("title") or "").strip()[:200]))
        return _edit_page(form, None, "draft")
    return _handle_post(form, None, "draft", [])


@bp.route("/models/<slug>/edit", methods=["GET", "POST"])
@accepts_uploads
@role_required("editor")
def edit(slug: str):
    """Edit an existing entry, opened at the version on disk."""
    row = get_entry(get_db(), slug, STATUSES)
    if row is not None:
        heal_entry(*_dirs(), row)  # a file newer than its row (a save cut short): search follows it now
    state = file_state(_dirs()[0], get_db(), slug)
    if state is None:
        abort(404)
    data, digest = state
    try:
        draft, _meta = read_draft(data)
    except yaml.YAMLError:
        msg = "Tệp của mục này đang có lỗi YAML nên không sửa được trên trình duyệt. Hãy chạy 'kb check' và sửa tệp."
        return render_template("error.html", code=409, message=msg), 409
    if draft.status == "archived" and not current_user.is_admin:
        return render_template("error.html", code=403, message="Mục đã lưu trữ chỉ quản trị viên mới sửa được."), 403
    form = _form()
    if request.method == "GET":
        reopened = _reopened(get_db(), slug, request.args.get("reopen"))
        shown, shown_data = draft, data
        if reopened is not None:  # a rejected proposal taken up again: its text, on the file as it is now
            shown_data = get_proposal(get_db(), slug, reopened)["text"].encode()
            with suppress(yaml.YAMLError):
                shown = read_draft(shown_data)[0]
            form.reopens.data = str(reopened)
        with suppress(InvalidEntry):  # field names as fields.yml spells them, so each box is ticked
            fields = load_fields(_dirs()[0] / "fields.yml")
            shown.fields = list(parse_entry(shown_data, f"models/{slug}.md", fields).fields)
        form.fill(shown)
        form.base_hash.data = digest
        return _edit_page(form, slug, draft.status, files=AttachmentForm(listed=list(shown.attachments)))
    return _handle_post(form, slug, draft.status, draft.attachments)


def _handle_post(form: EntryForm, slug: str | None, status: str, known: list[dict]):
    """Preview, or validate and save; every typed value (and every file sent) comes back on any failure."""
    action = request.form.get("action", "save")
    files = read_attachment_form(*_dirs(), slug, known)
    if action == "preview":
        form.validate()  # show messages beside the fields, but save nothing
        return _edit_page(form, slug, status, preview=_preview_entry(form.to_draft(status)), files=files)
    valid = form.validate()
    if not valid or files.errors:
        return _edit_page(form, slug, status, code=422, files=files)
    response, problems = _save(form, slug, status, files)
    if response is not None:
        return response
    return _edit_page(form, slug, status, problems=problems, code=422, files=files)


@bp.post("/edit/preview")
@role_required("editor")
def preview():
    """Return the entry as its page will show it, for the live preview (an HTML fragment)."""
    form = _form()
    form.validate()
    entry = _preview_entry(form.to_draft(request.form.get("status", "draft")))
    return render_template("_entry_article.html", entry=entry, region=entry["region"], preview=True)


@bp.post("/models/<slug>/status")
@role_required("editor")
def change_status(slug: str):
    """Move an entry along the workflow (submit, publish, archive…), if the role allows it."""
    content_dir, data_dir = _dirs()
    db = get_db()
    form = SimpleForm()
    state = file_state(content_dir, db, slug)
    if state is None or not form.validate():
        abort(404 if state is None else 400)
    draft, _meta = read_draft(state[0])
    old_status = draft.status
    wanted = request.form.get("to", "")
    allowed = dict(transitions(draft.status, current_user.role))
    if wanted not in allowed:
        abort(403)
    if _takes_down(old_status, wanted) and not confirmed():
        return confirmation_page(_status_confirmation(slug, draft.title, old_status, wanted, form), form)
    draft.status = wanted
    detail = f"{STATUS_LABELS.get(old_status, old_status)} → {STATUS_LABELS[wanted]}"
    result = save_entry(
        content_dir, data_dir, db, draft, slug=slug, base_hash=form.base_hash.data or "",
        author=Who(actor(), client_address()), comment=allowed[wanted], notes=(Note("status", detail),),
    )  # fmt: skip
    if result.outcome == "conflict":
        flash("Mục vừa được người khác sửa; hãy xem lại rồi thực hiện lại.")
        return redirect(url_for("public.entry", slug=slug))
    if result.outcome == "busy":
        flash("Hệ thống đang bận ghi dữ liệu khác nên chưa đổi được trạng thái; hãy thử lại sau vài giây.")
        return redirect(url_for("public.entry", slug=slug))
    if result.outcome == "invalid":
        flash("Không đổi được trạng thái: " + "; ".join(p.message for p in result.problems))
        return redirect(url_for("editor.edit", slug=slug))
    flash(f"Đã chuyển sang trạng thái: {STATUS_LABELS[wanted]}." + _busy_note(result.indexed))
    return redirect(url_for("public.entry", slug=slug))


GONE_FROM_PUBLIC = "Mục bị gỡ khỏi trang công khai, kết quả tìm kiếm và tin mới ngay lập tức."


def _takes_down(old: str, new: str) -> bool:
    """Return whether a status change is one to confirm first: archiving, or taking a published entry down."""
    return new == "archived" or (old == "published" and new != "published")


def _status_confirmation(slug: str, title: str, old: str, new: str, form: SimpleForm) -> Confirmation:
    """Say what archiving or unpublishing an entry will do."""
    if new == "archived":
        question, button = f"Lưu trữ mục “{title}”?", "Xác nhận lưu trữ"
        lines = [GONE_FROM_PUBLIC] if old == "published" else []
        lines += ["Chỉ quản trị viên còn xem và sửa được mục; biên tập viên không sửa được nữa.",
                  "Tệp, nội dung và lịch sử sửa đổi được giữ nguyên; quản trị viên có thể khôi phục mục "
                  "thành bản nháp."]  # fmt: skip
    else:
        question, button = f"Gỡ mục “{title}” xuống thành {STATUS_LABELS[new].lower()}?", "Xác nhận gỡ xuống"
        lines = [GONE_FROM_PUBLIC,
                 "Nội dung và lịch sử sửa đổi được giữ nguyên; mục có thể được xuất bản lại sau."]  # fmt: skip
    return Confirmation(
        question, lines, button, url_for(".change_status", slug=slug), url_for("public.entry", slug=slug),
        hidden={"to": new, "base_hash": form.base_hash.data or ""},
    )  # fmt: skip


@bp.get("/models/<slug>/history")
@role_required("editor")
def history(slug: str):
    """List an entry's revisions, newest first, with links to compare and restore."""
    db = get_db()
    revisions = list_revisions(db, slug)
    state = file_state(_dirs()[0], db, slug)
    if not revisions and state is None:
        abort(404)
    current_hash = state[1] if state else ""
    return render_template(
        "history.html", slug=slug, revisions=revisions, current_hash=current_hash, form=SimpleForm(),
        status_labels=STATUS_LABELS, title=entry_title(db, slug), proposals=entry_proposals(db, slug),
    )  # fmt: skip


@bp.get("/models/<slug>/diff")
@role_required("editor")
def diff(slug: str):
    """Compare two revisions (or a revision with the file as it is now)."""
    db = get_db()

    def text_of(which: str) -> tuple[str, str] | None:
        if which == "current":
            state = file_state(_dirs()[0], db, slug)
            return ("Bản hiện tại", state[0].decode("utf-8", "replace")) if state else None
        if not which.isdigit():
            return None
        rev = get_revision(db, slug, int(which))
        return (f"Phiên bản #{rev['id']} ({show_time(rev['created_at'])})", rev["text"]) if rev else None

    old, new = text_of(request.args.get("from", "")), text_of(request.args.get("to", "current"))
    if old is None or new is None:
        abort(404)
    return render_template(
        "diff.html", slug=slug, old=old, new=new, changes=compare(old[1], new[1]), diff=diff_lines(old[1], new[1]),
        title=entry_title(db, slug),
    )  # fmt: skip


@bp.get("/models/<slug>/revisions/<int:revision_id>")
@role_required("editor")
def revision(slug: str, revision_id: int):
    """Show the full text of one revision."""
    rev = get_revision(get_db(), slug, revision_id)
    if rev is None:
        abort(404)
    return render_template("revision.html", slug=slug, rev=rev, form=SimpleForm(), title=entry_title(get_db(), slug))


@bp.post("/models/<slug>/revisions/<int:revision_id>/restore")
@role_required("admin")
def restore(slug: str, revision_id: int):
    """Bring a revision back as the entry's text: itself a new revision; the status stays."""
    content_dir, data_dir = _dirs()
    db = get_db()
    form = SimpleForm()
    rev = get_revision(db, slug, revision_id)
    state = file_state(content_dir, db, slug)
    if rev is None:
        abort(404)
    if not form.validate():
        abort(400)
    text = rev["text"]
    if state is not None:
        with suppress(yaml.YAMLError):  # restore the words, not the workflow state
            text = with_status_of(text, state[0])
    if not form.base_hash.data:
        abort(400)  # the version the admin looked at: without it a restore could overwrite unseen work
    base = form.base_hash.data
    result = save_text(
        content_dir, data_dir, db, slug, text, base_hash=base, author=Who(actor(), client_address()),
        comment=f"Khôi phục phiên bản #{revision_id}", notes=(Note("restore", f"phiên bản #{revision_id}"),),
    )  # fmt: skip
    if result.outcome == "conflict":
        flash("Mục vừa được sửa trong lúc bạn xem; hãy xem lại lịch sử rồi khôi phục lại.")
        return redirect(url_for(".history", slug=slug))
    if result.outcome == "busy":
        flash("Hệ thống đang bận ghi dữ liệu khác nên chưa khôi phục được; hãy thử lại sau vài giây.")
        return redirect(url_for(".history", slug=slug))
    if result.outcome == "invalid":
        flash("Không khôi phục được: " + "; ".join(str(p) for p in result.problems))
        return redirect(url_for(".history", slug=slug))
    flash(f"Đã khôi phục phiên bản #{revision_id}." + _busy_note(result.indexed))
    return redirect(url_for("public.entry", slug=slug))


@bp.get("/edit")
@role_required("editor")
def desk():
    """The editor's desk: drafts and entries waiting for review, and a button to write one."""
    return render_template(
        "desk.html",
        rows=editorial_rows(get_db()),
        status_labels=STATUS_LABELS,
        proposals=_with_titles(get_db(), open_proposals(get_db())),
        rejected=_with_titles(get_db(), rejected_proposals(get_db(), current_user.name)),
        shown_days=REJECTED_SHOWN_DAYS,
    )


def _with_titles(db, proposals: list[dict]) -> list[dict]:
    """Add each proposal's entry title."""
    return [{**p, "title": entry_title(db, p["slug"])} for p in proposals]


@bp.get("/models/<slug>/proposals/<int:proposal_id>")
@role_required("editor")
def proposal(slug: str, proposal_id: int):
    """Show an editor's proposed change to a published entry against the entry as it is now."""
    db = get_db()
    found = get_proposal(db, slug, proposal_id)
    state = file_state(_dirs()[0], db, slug)
    if found is None or state is None:
        abort(404)
    current = state[0].decode("utf-8", "replace")
    moved = state[1] != found["base_hash"]
    base = found.get("base_text") or revision_text(db, slug, found["base_hash"])
    applied = found["text"]
    with suppress(yaml.YAMLError):  # what applying writes: the proposal's words, the entry's status
        applied = with_status_of(found["text"], state[0])
    own = (None, None)
    if moved and base is not None:  # written against an older version: what its author changed, too
        own = (compare(base, found["text"]), diff_lines(base, found["text"]))
    return render_template(
        "proposal.html", slug=slug, proposal=found, changes=compare(current, applied),
        diff=diff_lines(current, applied), base_hash=state[1], moved=moved, own_changes=own[0], own_diff=own[1],
        reopened_as=next((p["id"] for p in entry_proposals(db, slug) if p["reopened_from"] == proposal_id), None),
        form=SimpleForm(), title=entry_title(db, slug), new_files=_new_files(slug, current, applied),
    )  # fmt: skip


def _new_files(slug: str, current: str, proposed: str) -> list[dict]:
    """Return the files a proposal adds to the entry, as pages show them (a reviewer sees each photo)."""
    with suppress(yaml.YAMLError):
        now = {a["file"] for a in read_draft(current.encode())[0].attachments}
        added = [a for a in read_draft(proposed.encode())[0].attachments if a["file"] not in now]
        return describe_media(_dirs()[0], slug, added)
    return []


@bp.post("/models/<slug>/proposals/<int:proposal_id>/<decision>")
@role_required("admin")
def decide(slug: str, proposal_id: int, decision: str):
    """Apply an editor's proposed change (a new revision of the published entry) or reject it."""
    content_dir, data_dir = _dirs()
    db = get_db()
    form = RejectForm() if decision == "reject" else SimpleForm()
    found = get_proposal(db, slug, proposal_id)
    if found is None or decision not in ("apply", "reject"):
        abort(404)
    valid = form.validate()  # the token is checked before any view; a reason too long is said on the page
    if not form.base_hash.data:
        abort(400)
    if found["state"] != "open":
        flash("Bản sửa này đã được xử lý.")
        return redirect(url_for("public.entry", slug=slug))
    if decision == "reject":
        return _reject(found, form, valid)
    if not valid:
        abort(400)
    # The admin saw the difference against the version whose hash the form carries.
    result = apply_proposal(
        content_dir, data_dir, db, found, base_hash=form.base_hash.data, admin=Who(actor(), client_address())
    )
    if result.outcome == "conflict":
        flash("Mục vừa thay đổi trong lúc bạn xem; hãy xem lại khác biệt rồi áp dụng lại.")
        return redirect(url_for(".proposal", slug=slug, proposal_id=proposal_id))
    if result.outcome == "busy":
        flash("Hệ thống đang bận ghi dữ liệu khác nên chưa áp dụng được; hãy thử lại sau vài giây.")
        return redirect(url_for(".proposal", slug=slug, proposal_id=proposal_id))
    if result.outcome == "decided":
        flash("Bản sửa này đã được xử lý.")
        return redirect(url_for("public.entry", slug=slug))
    if result.outcome == "invalid":
        flash("Không áp dụng được: " + "; ".join(str(p) for p in result.problems))
        return redirect(url_for(".proposal", slug=slug, proposal_id=proposal_id))
    flash("Đã áp dụng bản sửa." + _busy_note(result.indexed))
    return redirect(url_for("public.entry", slug=slug))


def _reject_confirmation(found: dict, base_hash: str) -> Confirmation:
    """Say what rejecting a proposal does, and ask why."""
    slug, proposal_id, author = found["slug"], found["id"], found["author"]
    return Confirmation(
        f"Từ chối bản sửa #{proposal_id} của {author}?",
        ["Mục giữ nguyên như hiện tại; bản sửa không được áp dụng.",
         f"{author} sẽ thấy bản sửa bị từ chối, cùng lý do bạn ghi dưới đây, trên trang Biên tập của mình và trong "
         "lịch sử của mục, và có thể sửa lại rồi gửi thành bản sửa mới."],
        "Xác nhận từ chối", url_for(".decide", slug=slug, proposal_id=proposal_id, decision="reject"),
        url_for(".proposal", slug=slug, proposal_id=proposal_id), hidden={"base_hash": base_hash},
    )  # fmt: skip


def _reject(found: dict, form: RejectForm, valid: bool):
    """Ask for a reason and a confirmation, then reject a proposal; the reason is kept and shown to its author."""
    ask = _reject_confirmation(found, form.base_hash.data)
    if not (valid and confirmed()):
        return confirmation_page(ask, form, 200 if valid else 422)
    try:
        rejected = decide_proposal(get_db(), found["id"], "rejected", Who(actor(), client_address()),
                                   reason=form.reason.data or "")  # fmt: skip
    except StoreBusy:
        flash("Hệ thống đang bận ghi dữ liệu khác nên chưa từ chối được. Lý do bạn ghi vẫn còn dưới đây: "
              "hãy đợi vài giây rồi bấm xác nhận lại.")  # fmt: skip
        return _retry_later(make_response(*confirmation_page(ask, form, 503)))
    if rejected:
        release_proposal_files(*_dirs(), get_db(), found["id"])
    flash("Đã từ chối bản sửa." if rejected else "Bản sửa này đã được xử lý.")
    return redirect(url_for("public.entry", slug=found["slug"]))


@bp.errorhandler(CSRFError)
def csrf_failed_on_form(exc: CSRFError):
    """Answer a stale form token: the edit form comes back with everything typed and a fresh token."""
    if request.endpoint in ("editor.new", "editor.edit") and current_user.is_authenticated and current_user.is_editor:
        return _rescue_form()
    args = request.view_args or {}
    if request.endpoint == "editor.decide" and args.get("decision") == "reject" and current_user.is_authenticated:
        found = get_proposal(get_db(), args["slug"], args["proposal_id"]) if current_user.is_admin else None
        if found is not None and found["state"] == "open":  # keep the reason typed; ask again with a fresh token
            flash("Phiên làm việc của biểu mẫu đã hết hạn nên chưa từ chối. Lý do bạn ghi vẫn còn dưới đây: "
                  "bấm xác nhận lại.")  # fmt: skip
            return confirmation_page(_reject_confirmation(found, request.form.get("base_hash", "")), RejectForm(), 400)
    return csrf_failed(exc)


def _rescue_form():
    """Show the edit form again with what was posted (its token had expired): nothing is lost."""
    slug = (request.view_args or {}).get("slug")
    status = "draft"
    if slug:
        state = file_state(_dirs()[0], get_db(), slug)
        if state is None:
            abort(404)
        with suppress(yaml.YAMLError):
            status = read_draft(state[0])[0].status
    form = _form()  # the posted values; the page carries a fresh token
    flash("Phiên làm việc của biểu mẫu đã hết hạn nên chưa lưu. Nội dung bạn gõ vẫn còn dưới đây: bấm Lưu lại.")
    return _edit_page(form, slug, status, code=400)
