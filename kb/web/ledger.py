"""The replication ledger in the browser: record, correct and remove units that adopted a model."""

from __future__ import annotations

from contextlib import suppress

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from ..catalog import reindex_files
from ..dates import show_date
from ..entries import STATUSES
from ..replications import (
    Change,
    LedgerBroken,
    add_replication,
    check,
    delete_replication,
    get_replication,
    update_replication,
)
from ..store import StoreBusy, get_entry
from .auth import actor, client_address, role_required
from .confirm import Confirmation, confirmation_page, confirmed
from .forms import ReplicationForm, SimpleForm
from .resources import get_db, get_vocabulary

bp = Blueprint("ledger", __name__)


def _entry_or_404(slug: str, any_status: bool = False) -> dict:
    """Return a published entry's row (only published models are adopted; records of an entry
    unpublished since can still be corrected or removed by editors: any_status)."""
    row = get_entry(get_db(), slug, STATUSES if any_status else ("published",))
    if row is None:
        abort(404)
    return row


def _record_or_404(slug: str, key: str) -> tuple[dict, object, dict]:
    """Return the entry's row (any status), the database and one of the entry's records."""
    row = _entry_or_404(slug, any_status=True)
    db = get_db()
    record = get_replication(db, slug, key)
    if record is None:
        abort(404)
    return row, db, record


def _dirs() -> tuple:
    config = current_app.config
    return config["KB_CONTENT_DIR"], config["KB_DATA_DIR"]


def _broken(exc: LedgerBroken) -> None:
    """Say that the model's ledger file must be fixed by hand first (nothing was written)."""
    first = exc.problems[0]
    flash(f"Sổ nhân rộng của mô hình này (tệp {first.path}) đang có lỗi ở dòng {first.line}: {first.message}. "
          "Chưa ghi gì; hãy báo quản trị viên sửa tệp rồi thử lại.")  # fmt: skip


def _change(row: dict) -> Change:
    """Describe a ledger change by the signed-in account to an entry (queued for the index with it)."""
    return Change(actor(), client_address(), row["path"])


def _reindex(row: dict) -> None:
    """Give the entry its new evidence level and count in search at once.

    The change itself queued the entry for the index: if the database or the index is busy
    now, the next reindex (or server start) takes it.
    """
    config = current_app.config
    with suppress(StoreBusy):
        reindex_files(config["KB_CONTENT_DIR"], config["KB_DATA_DIR"], [row["path"]])


def _page(form, row, record=None, problems=None, code=200):
    for name, message in (problems or {}).items():  # the ledger's own checks, beside their fields
        field = getattr(form, name)
        if message not in field.errors:
            field.errors = [*field.errors, message]
    places = sorted(set(get_vocabulary().regions.values()))
    return render_template(
        "replication.html", form=form, entry=row, record=record, problems=problems or {}, places=places
    ), code


@bp.route("/models/<slug>/replications/new", methods=["GET", "POST"])
@role_required("member")
def new(slug: str):
    """Record that a unit adopted this model (any signed-in account)."""
    row = _entry_or_404(slug)
    form = ReplicationForm()
    if request.method == "POST":
        valid, record = form.validate(), form.to_record()
        problems = check(record)
        if valid and not problems:
            try:
                add_replication(*_dirs(), get_db(), slug, record, _change(row))
            except LedgerBroken as exc:
                _broken(exc)
                return _page(form, row, code=409)  # what was typed stays in the form
            _reindex(row)
            flash(f"Đã ghi nhận: {record.unit} áp dụng mô hình này.")
            return redirect(url_for("public.entry", slug=slug) + "#nhan-rong")
        return _page(form, row, problems=problems, code=422)
    return _page(form, row)


@bp.route("/models/<slug>/replications/<key>/edit", methods=["GET", "POST"])
@role_required("editor")
def edit(slug: str, key: str):
    """Correct a record (editors and admins)."""
    row, db, record = _record_or_404(slug, key)
    shown = {**record, "start_date": show_date(record["start_date"])}  # typed back as 15/03/2024
    form = ReplicationForm(data=shown if request.method == "GET" else None)
    if request.method == "POST":
        valid, new_record = form.validate(), form.to_record()
        problems = check(new_record)
        if valid and not problems:
            try:
                update_replication(*_dirs(), db, slug, key, new_record, _change(row))
            except LedgerBroken as exc:
                _broken(exc)
                return _page(form, row, record, code=409)
            except LookupError:  # removed meanwhile (here, or on another site)
                abort(404)
            _reindex(row)
            flash("Đã sửa bản ghi nhân rộng.")
            return redirect(url_for("public.entry", slug=slug) + "#nhan-rong")
        return _page(form, row, record, problems, 422)
    return _page(form, row, record)


@bp.post("/models/<slug>/replications/<key>/delete")
@role_required("editor")
def delete(slug: str, key: str):
    """Remove a record (editors and admins); the audit log keeps what it said."""
    row, db, record = _record_or_404(slug, key)
    form = SimpleForm()
    if not form.validate():
        abort(400)
    if not confirmed():
        ask = Confirmation(
            f"Xóa bản ghi nhân rộng của {record['unit']}?",
            ["Bản ghi biến mất khỏi trang của mô hình, và số đơn vị đã nhân rộng được tính lại ngay.",
             "Nhật ký hoạt động vẫn giữ toàn bộ nội dung bản ghi, nhưng không thể khôi phục nó trên trang."],
            "Xác nhận xóa", url_for(".delete", slug=slug, key=key),
            url_for("public.entry", slug=slug) + "#nhan-rong",
        )  # fmt: skip
        return confirmation_page(ask, form)
    try:
        before = delete_replication(*_dirs(), db, slug, key, _change(row))
    except LedgerBroken as exc:
        _broken(exc)
        return redirect(url_for("public.entry", slug=slug) + "#nhan-rong")
    except LookupError:
        abort(404)
    _reindex(row)
    flash(f"Đã xóa bản ghi: {before.get('unit', '')}.")
    return redirect(url_for("public.entry", slug=slug) + "#nhan-rong")
