"""Administration: the health of the index, background reindexing, accounts, the audit and search logs."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from indexer import IndexMissing

from .. import gitsync
from ..accounts import ROLE_LABELS, AccountError, create_user, get_user, list_users, set_disabled, set_password
from ..accounts import set_role as change_role
from ..audit import ACTION_LABELS, audit, audit_page, describe
from ..drafts import STATUS_LABELS
from ..editing import open_proposals
from ..jobs import get_job, last_job, running_job, start_reindex
from ..scanning import scan_entries
from ..sharing import start_sync
from ..stats import search_summary
from ..store import entry_title, get_meta, house_state, indexed_files
from .auth import actor, client_address, role_required
from .confirm import Confirmation, confirmation_page, confirmed
from .forms import NewUserForm, PasswordForm, RoleForm, SimpleForm
from .resources import get_db, get_index

bp = Blueprint("admin", __name__, url_prefix="/admin")

AUDIT_PAGE = 100
TOP_QUERIES = 30


def _stale_files(db) -> list[dict]:
    """Return the entry files whose content differs from what was indexed (or never indexed)."""
    content_dir = current_app.config["KB_CONTENT_DIR"]
    rows, pending, broken = indexed_files(db)
    stale = []
    for path in scan_entries(content_dir):
        rel = path.relative_to(content_dir).as_posix()
        row = rows.get(rel)
        if rel in broken:
            continue  # listed with its problems
        if row is None:
            stale.append({"path": rel, "title": None, "why": "chưa được lập chỉ mục"})
        elif rel in pending or hashlib.sha256(path.read_bytes()).hexdigest() != row["content_hash"]:
            stale.append({"path": rel, "title": row["title"], "slug": row["slug"], "why": "đã sửa sau lần lập chỉ mục"})
    return stale


@bp.get("")
@role_required("admin")
def dashboard():
    """The state of the house: entries by status, index vs entries, last reindex, problems."""
    db = get_db()
    house = house_state(db)
    try:
        indexed = get_index().search("", per_page=1, cache=False).total
        index_total = get_index().doc_count()
    except IndexMissing:
        indexed, index_total = None, None
    last = get_meta(db, "last_reindex")
    return render_template(
        "admin/dashboard.html", by_status=house["by_status"], status_labels=STATUS_LABELS, indexed=indexed,
        index_total=index_total, last=json.loads(last) if last else None, job=running_job(db) or last_job(db),
        stale=_stale_files(db), problems=house["problems"], review=house["review"], form=SimpleForm(),
        proposals=[{**p, "title": entry_title(db, p["slug"])} for p in open_proposals(db)],
        **_sync_state(),
    )  # fmt: skip


def _sync_state() -> dict:
    """What the dashboard says about syncing with the shared repository (nothing for a single site)."""
    if not gitsync.enabled():
        return {"sync_remote": ""}
    report = gitsync.last_report(current_app.config["KB_DATA_DIR"])
    since = ""
    if report and report.last_success:
        hours = (dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(report.last_success)).total_seconds() / 3600
        since = f"{int(hours // 24)} ngày" if hours >= 48 else f"{int(hours)} giờ" if hours >= 1 else "chưa tới 1 giờ"
    running = gitsync.running(current_app.config["KB_DATA_DIR"])
    return {"sync_remote": gitsync.remote(), "sync": report, "since": since, "sync_running": running}


@bp.post("/sync")
@role_required("admin")
def sync_now():
    """Start a sync with the shared repository in the background (unless one runs); the page shows its result."""
    if not SimpleForm().validate():
        abort(400)
    if not gitsync.enabled():
        abort(404)
    config = current_app.config
    if start_sync(config["KB_CONTENT_DIR"], config["KB_DATA_DIR"]):
        audit(get_db(), actor(), "sync", gitsync.remote(), "Bắt đầu đồng bộ", address=client_address())
        flash("Đã bắt đầu đồng bộ. Tải lại trang sau ít giây để xem kết quả.")
    else:
        flash("Một lần đồng bộ đang chạy. Tải lại trang sau ít giây để xem kết quả.")
    return redirect(url_for(".dashboard") + "#dong-bo")


@bp.post("/reindex")
@role_required("admin")
def reindex():
    """Start a full reindex in the background (or show the one already running)."""
    if not SimpleForm().validate():
        abort(400)
    config = current_app.config
    job_id, started = start_reindex(config["KB_CONTENT_DIR"], config["KB_DATA_DIR"], actor())
    if started:
        audit(get_db(), actor(), "reindex", f"job {job_id}", address=client_address())
    else:
        flash("Một lần lập chỉ mục đang chạy; đây là tiến độ của nó.")
    return redirect(url_for(".job", job_id=job_id))


@bp.get("/jobs/<int:job_id>")
@role_required("admin")
def job(job_id: int):
    """Show a job's progress (the page refreshes itself) or, as JSON, its state for the script."""
    row = get_job(get_db(), job_id)
    if row is None:
        abort(404)
    if request.args.get("format") == "json" or request.accept_mimetypes.best == "application/json":
        keys = ("id", "status", "phase", "done", "total", "summary", "seconds", "started_at", "finished_at")
        return {**{k: row[k] for k in keys}, "problems": row["problems"]}
    return render_template("admin/job.html", job=row)


@bp.route("/users", methods=["GET", "POST"])
@role_required("admin")
def users():
    """List accounts and create one."""
    db = get_db()
    form = NewUserForm()
    error = None
    if form.validate_on_submit():
        try:
            user = create_user(db, form.name.data, form.password.data, form.role.data)
        except AccountError as exc:
            error = str(exc)
        else:
            audit(db, actor(), "user_create", user.name, ROLE_LABELS[user.role], address=client_address())
            flash(f"Đã tạo tài khoản {user.name}.")
            return redirect(url_for(".users"))
    return render_template(
        "admin/users.html", users=list_users(db), form=form, error=error, role_form=RoleForm(),
        action_form=SimpleForm(), password_form=PasswordForm(), role_labels=ROLE_LABELS,
    ), (422 if request.method == "POST" else 200)  # fmt: skip


@bp.post("/users/<int:user_id>/<action>")
@role_required("admin")
def user_action(user_id: int, action: str):
    """Change a role, disable or enable an account, or set its password."""
    db = get_db()
    user = get_user(db, user_id)
    if user is None:
        abort(404)
    forms = {"role": RoleForm, "disable": SimpleForm, "enable": SimpleForm, "password": PasswordForm}
    if action not in forms:
        abort(404)
    form = forms[action]()
    if not form.validate():
        flash("; ".join(m for errors in form.errors.values() for m in errors) or "Yêu cầu không hợp lệ.")
        return redirect(url_for(".users"))
    try:
        if action == "role":
            change_role(db, user, form.role.data)
            audit(db, actor(), "user_role", user.name, ROLE_LABELS[form.role.data], address=client_address())
        elif action in ("disable", "enable"):
            if action == "disable" and user.id == current_user.id:
                raise AccountError("Bạn không thể tự khóa tài khoản của mình.")
            if action == "disable" and not confirmed():
                return confirmation_page(_disable_confirmation(user), form)
            set_disabled(db, user, action == "disable")
            audit(db, actor(), f"user_{action}", user.name, address=client_address())
        else:
            set_password(db, user, form.password.data)
            audit(db, actor(), "user_password", user.name, address=client_address())
    except AccountError as exc:
        flash(str(exc))
    else:
        flash(f"Đã cập nhật tài khoản {user.name}.")
    return redirect(url_for(".users"))


def _disable_confirmation(user) -> Confirmation:
    """Say what disabling an account will do."""
    return Confirmation(
        f"Khóa tài khoản {user.name}?",
        [f"{user.name} bị đăng xuất ngay trên mọi thiết bị và không đăng nhập được cho tới khi được mở khóa.",
         "Các mục, bản sửa và lịch sử do tài khoản này viết được giữ nguyên.",
         "Bạn có thể mở khóa lại bất cứ lúc nào trên trang Tài khoản."],
        "Xác nhận khóa tài khoản", url_for(".user_action", user_id=user.id, action="disable"), url_for(".users"),
    )  # fmt: skip


@bp.get("/audit")
@role_required("admin")
def audit_log():
    """The audit log, newest first, a page at a time."""
    try:
        page = max(1, min(int(request.args.get("page", 1)), 100_000))
    except ValueError:
        page = 1
    action = request.args.get("action", "")
    action = action if action in ACTION_LABELS else ""  # one kind of line (the syncs), or every line
    db = get_db()
    rows, more = audit_page(db, page, AUDIT_PAGE, action)
    return render_template("admin/audit.html", lines=describe(db, rows), page=page, more=more, action=action,
                           action_label=ACTION_LABELS.get(action, ""))  # fmt: skip


@bp.get("/searches")
@role_required("admin")
def searches():
    """The most frequent searches, and the most frequent ones that found nothing (models to write)."""
    return render_template("admin/searches.html", **search_summary(get_db(), TOP_QUERIES))
