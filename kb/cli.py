"""The `kb` commands (`kb …` in the virtualenv, or `flask --app app kb …`): reindex, check, accounts, backups."""

from __future__ import annotations

import sys
import time
from contextlib import nullcontext, suppress
from dataclasses import replace
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from indexer import IndexBusy

from . import gitsync
from .accounts import ROLE_LABELS, ROLES, AccountError, create_user, has_admin
from .audit import audit
from .backup import MAX_MEMBERS, MAX_UNPACKED_BYTES, BackupError, make_backup, restore_backup
from .catalog import check_content, reindex
from .editing import Who
from .entries import InvalidEntry
from .importing import apply_import, plan_import
from .sharing import sync_site
from .spreadsheets import SheetRefused, read_sheet
from .store import open_db
from .uploads import Limits

kb_cli = AppGroup("kb", help="Quản lý kho mô hình hay: lập chỉ mục, kiểm tra nội dung, tài khoản.")

# Below this many entries to analyse a run is short: no progress bar.
PROGRESS_FROM = 20


def _dirs() -> tuple[Path, Path]:
    """Return the configured content and data directories."""
    return current_app.config["KB_CONTENT_DIR"], current_app.config["KB_DATA_DIR"]


def _echo_problems(problems, content_dir: Path) -> None:
    """Print each problem as path:line: message, the path relative to the working directory."""
    for problem in problems:
        path = Path(problem.path)
        shown = path if path.is_absolute() else content_dir / path
        with suppress(ValueError):
            shown = shown.relative_to(Path.cwd())
        click.echo(str(replace(problem, path=str(shown))), err=True)


def _progress(items, total):
    """Show a progress bar while a long run analyses entries."""
    if total < PROGRESS_FROM:
        return nullcontext(items)
    return click.progressbar(items, length=total, label="Đang phân tích và lập chỉ mục", file=sys.stderr)


@kb_cli.command("reindex")
@click.option("--full", is_flag=True, help="Dựng lại toàn bộ chỉ mục rồi chuyển sang bản mới một cách nguyên tử.")
def reindex_command(full: bool) -> None:
    """Lập chỉ mục các mục mới, đã sửa hoặc đã xóa (hoặc toàn bộ với --full)."""
    content_dir, data_dir = _dirs()
    try:
        report = reindex(content_dir, data_dir, full=full, progress=_progress)
    except InvalidEntry as exc:
        _echo_problems(exc.problems, content_dir)
        raise click.ClickException("không thể lập chỉ mục khi còn các lỗi trên") from None
    except IndexBusy as exc:
        raise click.ClickException(str(exc)) from None
    _echo_problems(report.problems, content_dir)
    click.echo(report.summary())
    if not has_admin(open_db(data_dir)):
        click.echo(
            "Chưa có tài khoản quản trị. Tạo bằng lệnh:\n  .venv/bin/kb create-user TÊN --role admin",
            err=True,
        )


@kb_cli.command("create-user")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(ROLES),
    required=True,
    help="member (thành viên: ghi nhận nhân rộng), editor (biên tập viên) hoặc admin (quản trị viên).",
)
@click.option("--password-stdin", is_flag=True, help="Đọc mật khẩu từ dòng đầu của đầu vào chuẩn thay vì hỏi.")
def create_user_command(name: str, role: str, password_stdin: bool) -> None:
    """Tạo tài khoản NAME; mật khẩu được hỏi hai lần (hoặc đọc từ đầu vào chuẩn)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Mật khẩu", hide_input=True, confirmation_prompt="Nhập lại mật khẩu")
    db = open_db(_dirs()[1])
    try:
        user = create_user(db, name, password, role)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    audit(db, "(dòng lệnh)", "user_create", user.name, ROLE_LABELS[user.role])
    click.echo(f"Đã tạo tài khoản '{user.name}' với vai trò {user.role_label.lower()}.")


@kb_cli.command("check")
def check_command() -> None:
    """Kiểm tra mọi tệp mục; in 'tệp:dòng: vấn đề' và thoát với mã 1 nếu có bất kỳ vấn đề nào."""
    content_dir, _ = _dirs()
    try:
        report = check_content(content_dir)
    except InvalidEntry as exc:
        _echo_problems(exc.problems, content_dir)
        raise SystemExit(1) from None
    _echo_problems(report.problems, content_dir)
    errors, warnings = len(report.errors), len(report.problems) - len(report.errors)
    click.echo(f"Đã kiểm tra {report.files} tệp: {errors} lỗi, {warnings} cảnh báo.")
    if report.problems:  # warnings too: an unknown key is usually a typo worth fixing
        raise SystemExit(1)


@kb_cli.command("sync")
@click.option("--every", type=click.IntRange(min=10), default=None,
              help="Đồng bộ lặp lại, cách nhau chừng ấy giây (máy chủ dùng khi đặt KB_SYNC_INTERVAL).")  # fmt: skip
def sync_command(every: int | None) -> None:
    """Đồng bộ nội dung với kho chung (KB_GIT_REMOTE): ghi nhận, lấy về, hợp nhất, gửi đi, lập chỉ mục."""
    content_dir, data_dir = _dirs()
    if not gitsync.enabled():
        raise click.ClickException("Chưa đặt KB_GIT_REMOTE (địa chỉ kho git chung): trạm này chạy một mình.")
    while True:
        try:
            report = sync_site(content_dir, data_dir)
        except Exception as exc:  # the loop outlives one bad sync; by hand, the error shows in full
            if every is None:
                raise
            click.echo(f"Đồng bộ gặp lỗi: {exc}", err=True)
            time.sleep(every)
            continue
        click.echo(report.summary())
        if every is None:
            break
        time.sleep(every)  # a link that is down is tried again next time; the site keeps serving
    if not report.ok:
        raise SystemExit(1)


@kb_cli.command("backup")
@click.option(
    "--to", "dest", type=click.Path(path_type=Path), help="Tệp hoặc thư mục đích (mặc định: <dữ liệu>/backups/)."
)
def backup_command(dest: Path | None) -> None:
    """Sao lưu nội dung và cơ sở dữ liệu (an toàn khi trang đang chạy) vào một tệp .tar.gz."""
    content_dir, data_dir = _dirs()
    try:
        path, manifest = make_backup(content_dir, data_dir, dest)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    rows = ", ".join(f"{k} {v}" for k, v in manifest["rows"].items())
    click.echo(f"Đã sao lưu {manifest['content_files']} tệp nội dung và cơ sở dữ liệu ({rows}) vào {path}")


@kb_cli.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--max-size", type=click.FloatRange(min=0, min_open=True), default=MAX_UNPACKED_BYTES / 1024**3,
    show_default=True, help="Dung lượng giải nén tối đa (GiB); lớn hơn thì từ chối.",
)  # fmt: skip
@click.option(
    "--max-files", type=click.IntRange(min=1), default=MAX_MEMBERS, show_default=True,
    help="Số tệp và thư mục tối đa trong bản sao lưu; nhiều hơn thì từ chối.",
)  # fmt: skip
def restore_command(archive: Path, max_size: float, max_files: int) -> None:
    """Khôi phục ARCHIVE vào thư mục nội dung và dữ liệu mới (trống), rồi lập chỉ mục toàn bộ."""
    content_dir, data_dir = _dirs()
    try:
        manifest = restore_backup(archive, content_dir, data_dir, int(max_size * 1024**3), max_files)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    report = reindex(content_dir, data_dir, full=True, progress=_progress)
    _echo_problems(report.problems, content_dir)
    click.echo(f"Đã khôi phục bản sao lưu lúc {manifest['created_at']}. {report.summary()}")


@kb_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Chỉ kiểm tra và liệt kê kết quả từng dòng, không ghi gì.")
@click.option("--yes", is_flag=True, help="Tạo bản nháp ngay sau khi kiểm tra, không hỏi lại.")
def import_command(file: Path, dry_run: bool, yes: bool) -> None:
    """Nhập các mô hình từ bảng tính FILE (.xlsx hoặc .csv) thành bản nháp; chạy lại thì cập nhật, không trùng."""
    content_dir, data_dir = _dirs()
    db = open_db(data_dir)
    try:
        plan = plan_import(read_sheet(file.read_bytes(), file.name, Limits.from_env()), content_dir, db)
    except (SheetRefused, InvalidEntry) as exc:
        raise click.ClickException(str(exc)) from None
    for note in plan.notes:
        click.echo(note, err=True)
    for row in plan.rows:
        click.echo(f"Dòng {row.row}: {row.title or '(không có tên)'} — {row.label}")
        for message in row.messages:
            click.echo(f"{file}: {message}", err=True)
    if not plan.to_save:
        click.echo(f"Không có dòng nào cần tạo hay cập nhật: {plan.summary()}.")
    elif dry_run or not (yes or click.confirm(f"Tạo hoặc cập nhật {plan.to_save} bản nháp?")):
        click.echo(f"Chạy thử, chưa ghi gì: {plan.summary()}.")
    else:
        checked = [row for row in plan.rows if row.action != "error"]
        apply_import(plan, content_dir, data_dir, db, Who("(dòng lệnh)"))
        for row in checked:
            if row.action == "error":  # passed the check, then refused at its save (busy, changed meanwhile)
                click.echo(f"{file}: {row.messages[0]}", err=True)
        click.echo(f"Đã nhập “{file.name}”: {plan.summary(done=True)}.")
    if plan.count("error"):
        raise SystemExit(1)


def init_app(app: Flask) -> None:
    """Register the `kb` command group."""
    app.cli.add_command(kb_cli)
