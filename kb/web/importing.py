"""Bulk import for admins: upload a spreadsheet, read the dry run, confirm to create the drafts.

Admins only: an import writes many entries at once, which is the administrators' call (editors
still write drafts one at a time, and see the imported drafts on their desk).
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for

from ..editing import Who
from ..entries import InvalidEntry, load_fields
from ..importing import COLUMNS, LABELS, ImportPlan, apply_import, column_notes, plan_import
from ..spreadsheets import SheetRefused, drop_upload, keep_upload, read_sheet, take_upload, template_csv, template_xlsx
from ..uploads import Limits, human_size
from .auth import actor, client_address, role_required
from .forms import SimpleForm
from .resources import get_db

bp = Blueprint("importing", __name__, url_prefix="/admin/import")

TEMPLATE_NAME = "mau-nhap-mo-hinh"
# Seconds one confirmation spends saving rows (about 50 ms a row): well within a proxy's 60 s
# (deploy/nginx.conf). Rows left over are saved by confirming again.
SAVE_BUDGET = 40.0
EXAMPLE = [
    "Tủ thuốc biên cương", "Tủ thuốc đặt tại đồn biên phòng để cấp thuốc thông thường cho người dân.",
    "Đồn Biên phòng Thanh Thủy", "Tuyên Quang", "Y tế; Dân vận", "tủ thuốc, sức khỏe", "2022",
    "Báo Biên phòng", "https://www.bienphong.com.vn/", "15/06/2024", "Đồn Biên phòng Thanh Thủy",
    "## Cách làm\n\nMỗi đồn có một tủ thuốc…",
]  # fmt: skip


def _fields() -> tuple[str, ...]:
    """Return the fields of content/fields.yml, for the guide to the columns (none while the file is broken)."""
    try:
        return load_fields(current_app.config["KB_CONTENT_DIR"] / "fields.yml")
    except InvalidEntry:  # the import itself then says what is wrong with the file
        return ()


def _page(plan: ImportPlan | None = None, token: str = "", error: str = "", done: bool = False, code: int = 200):
    """Render the import page: the upload form, and the dry run's (or the import's) results."""
    return render_template(
        "admin/import.html", form=SimpleForm(), plan=plan, token=token, error=error, done=done,
        notes=column_notes(_fields()), template_name=TEMPLATE_NAME,
        largest=human_size(current_app.config["MAX_CONTENT_LENGTH"] or Limits.from_env().file_bytes),
    ), code  # fmt: skip


def _plan(data: bytes, name: str) -> ImportPlan:
    """Read a file and check its rows against the knowledge base as it is now (SheetRefused)."""
    sheet = read_sheet(data, name, Limits.from_env())
    return plan_import(sheet, current_app.config["KB_CONTENT_DIR"], get_db())


@bp.get("")
@role_required("admin")
def page():
    """The upload form, how to fill the spreadsheet, and the template to download."""
    return _page()


@bp.get(f"/{TEMPLATE_NAME}.<any(xlsx, csv):kind>")
@role_required("admin")
def template(kind: str):
    """Download the spreadsheet to fill (XLSX with a guide sheet, or CSV with the header row)."""
    headers = [LABELS[c] for c in COLUMNS]
    if kind == "xlsx":
        data = template_xlsx(headers, column_notes(_fields()), EXAMPLE)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        data, mimetype = template_csv(headers), "text/csv; charset=utf-8"
    return Response(data, mimetype=mimetype,
                    headers={"Content-Disposition": f"attachment; filename={TEMPLATE_NAME}.{kind}"})  # fmt: skip


@bp.post("")
@role_required("admin")
def dry_run():
    """Check an uploaded file and list what each row would do; nothing is written but the file, kept to confirm."""
    if not SimpleForm().validate():
        abort(400)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page(error="Hãy chọn một tệp .xlsx hoặc .csv để nhập.", code=422)
    data = upload.read()
    try:
        plan = _plan(data, upload.filename)
    except (SheetRefused, InvalidEntry) as exc:
        return _page(error=str(exc), code=422)
    token = keep_upload(current_app.config["KB_DATA_DIR"], data, plan.name, actor()) if plan.to_save else ""
    return _page(plan, token)


@bp.post("/<token>")
@role_required("admin")
def confirm(token: str):
    """Create and update the drafts of a file checked in a dry run; rows with errors are skipped."""
    if not SimpleForm().validate():
        abort(400)
    data_dir = current_app.config["KB_DATA_DIR"]
    kept = take_upload(data_dir, token, actor())
    if kept is None:
        flash("Tệp đã kiểm tra không còn được giữ (quá một giờ, hoặc đã nhập rồi). Hãy tải tệp lên lại.")
        return redirect(url_for(".page"))
    try:  # checked again: entries may have changed since the dry run
        plan = _plan(*kept)
    except (SheetRefused, InvalidEntry) as exc:
        drop_upload(data_dir, token)
        return _page(error=str(exc), code=422)
    who = Who(actor(), client_address())
    apply_import(plan, current_app.config["KB_CONTENT_DIR"], data_dir, get_db(), who, budget=SAVE_BUDGET)
    if plan.count("later"):  # the file stays kept: the next confirmation goes on where this one stopped
        return _page(plan, token, done=True)
    drop_upload(data_dir, token)
    return _page(plan, done=True)
