"""The audit log: who did what, when and from where, kept in SQLite, and told in Vietnamese."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field, fields

import sqlite_utils
import yaml

from .accounts import ROLE_LABELS
from .dates import show_date
from .drafts import STATUS_LABELS, Draft, read_draft
from .revisions import audit_moments, saved_texts
from .store import entry_title, write_audit, write_transaction

__all__ = ["ACTION_LABELS", "AuditLine", "audit", "audit_page", "audit_repeat", "describe"]

ACTION_LABELS = {
    "login": "Đăng nhập",
    "login_failed": "Đăng nhập thất bại",
    "login_throttled": "Đăng nhập bị tạm chặn",
    "login_throttled_address": "Đăng nhập bị tạm chặn theo địa chỉ",
    "logout": "Đăng xuất",
    "create": "Tạo mục",
    "save": "Lưu mục",
    "save_conflict": "Lưu bị từ chối (xung đột)",
    "status": "Đổi trạng thái",
    "restore": "Khôi phục phiên bản",
    "propose": "Gửi bản sửa",
    "replication_add": "Ghi nhận nhân rộng",
    "replication_edit": "Sửa bản ghi nhân rộng",
    "replication_delete": "Xóa bản ghi nhân rộng",
    "proposal_apply": "Áp dụng bản sửa",
    "proposal_reject": "Từ chối bản sửa",
    "reindex": "Lập chỉ mục",
    "sync": "Đồng bộ với kho chung",
    "import": "Nhập từ bảng tính",
    "user_create": "Tạo tài khoản",
    "user_role": "Đổi vai trò",
    "user_disable": "Khóa tài khoản",
    "user_enable": "Mở khóa tài khoản",
    "user_password": "Đặt lại mật khẩu",
}
ENTRY_ACTIONS = {"create", "save", "save_conflict", "status", "restore", "propose", "proposal_apply",
                 "proposal_reject", "replication_add", "replication_edit", "replication_delete"}  # fmt: skip
SAVES = {"create", "save", "restore", "proposal_apply"}  # lines written with a revision
DRAFT_LABELS = {
    "title": "Tên mô hình", "summary": "Tóm tắt", "unit": "Đơn vị", "province": "Tỉnh, thành phố",
    "fields": "Lĩnh vực", "tags": "Từ khóa", "year": "Năm", "source_title": "Tên nguồn",
    "source_url": "Địa chỉ nguồn", "source_date": "Ngày của nguồn", "contact": "Liên hệ", "body": "Nội dung",
    "status": "Trạng thái", "attachments": "Ảnh và tệp đính kèm",
}  # fmt: skip
RECORD_LABELS = {
    "unit": "Đơn vị áp dụng", "province": "Tỉnh, thành phố", "start_date": "Bắt đầu từ", "status": "Tình trạng",
    "adapted": "Đã điều chỉnh", "result": "Kết quả", "contact": "Liên hệ",
}  # fmt: skip
SHORT = 80  # characters of a value shown in a change; longer text is only named


def audit(
    db: sqlite_utils.Database, actor: str | None, action: str, target: str = "", detail: str = "", address: str = ""
) -> None:
    """Append one line to the audit log (StoreBusy if the database stays locked)."""
    with write_transaction(db) as conn:
        write_audit(conn, actor, action, target, detail, address)


def _iso(seconds: float) -> str:
    """Return a Unix time as the audit log writes times (UTC, ISO 8601, to the second)."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).replace(microsecond=0).isoformat()


def audit_repeat(
    db: sqlite_utils.Database,
    actor: str,
    action: str,
    target: str,
    detail: str,
    address: str,
    now: float,
    window: float,
) -> None:
    """Count an event in the audit row that started it within window seconds, or start one (in a transaction)."""
    found = db.execute(
        "SELECT id FROM audit WHERE at > ? AND action = ? AND target = ? AND address = ? ORDER BY id DESC LIMIT 1",
        [_iso(now - window), action, target, address],
    ).fetchone()
    if found:
        db.execute(
            "UPDATE audit SET repeats = repeats + 1, last_at = ?, detail = ? WHERE id = ?",
            [_iso(now), detail, found[0]],
        )
    else:
        db.execute(
            "INSERT INTO audit (at, actor, action, target, detail, address, repeats, last_at) "
            "VALUES (?, ?, ?, ?, ?, ?, 1, ?)",
            [_iso(now), actor, action, target, detail, address, _iso(now)],
        )


def audit_page(db: sqlite_utils.Database, page: int, size: int, action: str = "") -> tuple[list[dict], bool]:
    """Return one page of the audit log (of one action, or all), newest first, and whether older lines follow."""
    where, args = ("WHERE action = ?", [action]) if action else ("", [])
    rows = list(db.query(f"SELECT * FROM audit {where} ORDER BY id DESC LIMIT ? OFFSET ?",
                         [*args, size + 1, (page - 1) * size]))  # fmt: skip
    return rows[:size], len(rows) > size


@dataclass
class AuditLine:
    """One line of the audit log as people read it: Vietnamese words, titles, and changes field by field."""

    at: str
    actor: str
    action: str
    target: str  # an entry's title, an account's name, "Lần lập chỉ mục #3"
    address: str = ""
    slug: str = ""  # the entry the line is about (for a link)
    job: int | None = None  # the reindex job (for a link)
    proposal: int | None = None  # the proposed change the line is about (for a link)
    facts: list[str] = field(default_factory=list)  # "Vai trò: Biên tập viên"
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (field, before, after)
    repeats: int = 1
    last_at: str = ""


def describe(db: sqlite_utils.Database, rows: list[dict]) -> list[AuditLine]:
    """Return audit rows as people read them (rows written by older versions too)."""
    titles: dict[str, str] = {}
    lines = []
    for row in rows:
        action, target, detail = row["action"], row["target"] or "", row["detail"] or ""
        line = AuditLine(
            at=row["at"], actor=row["actor"] or "", action=ACTION_LABELS.get(action, action), target=target,
            address=row["address"] or "", repeats=row.get("repeats") or 1, last_at=row.get("last_at") or "",
        )  # fmt: skip
        if action in ENTRY_ACTIONS and target:
            if target not in titles:
                titles[target] = entry_title(db, target)
            line.slug, line.target = target, titles[target]
        _explain(db, line, row, action, detail)
        lines.append(line)
    return lines


def _explain(db: sqlite_utils.Database, line: AuditLine, row: dict, action: str, detail: str) -> None:
    """Fill a line's facts and changes from its detail (and, for a save, from its revision)."""
    if action == "reindex" and (job := re.fullmatch(r"job (\d+)", line.target)):
        line.job, line.target = int(job[1]), f"Lần lập chỉ mục #{job[1]}"
    elif action in ("user_create", "user_role") and detail:
        role = ROLE_LABELS.get(detail, detail)  # accounts made with the `kb` command wrote the role's code
        line.facts.append(f"Vai trò mới: {role}" if action == "user_role" else f"Vai trò: {role}")
    elif action in ("replication_add", "replication_delete"):
        line.facts.extend(f"{label}: {value}" for label, value in _record(detail).items())
    elif action == "replication_edit":
        before, _, after = detail.partition(" — sau: ")
        old, new = _record(before.removeprefix("trước: ")), _record(after)
        line.changes = [(k, old.get(k, ""), new.get(k, "")) for k in RECORD_LABELS.values() if old.get(k) != new.get(k)]
    elif action == "sync" and detail:  # the summary, then each file that needs a look
        line.facts.extend(detail.splitlines())
    elif action in ("status", "create", "save") and "→" in detail:
        line.facts.append(f"Trạng thái: {detail}")
    elif action == "restore" and detail:
        line.facts.append(f"Về {detail}")
    elif action == "propose":
        if detail:
            line.facts.append(f"Ghi chú: “{detail}”")
        _proposal_changes(db, line, _proposal_at(db, row["target"] or "", row["actor"] or "", row["at"]))
    elif action in ("proposal_apply", "proposal_reject") and detail.startswith("#"):
        line.facts.append(f"Bản sửa {detail}")
        if number := re.match(r"#(\d+)", detail):
            _proposal_changes(db, line, int(number[1]))
    elif detail:
        line.facts.append(detail)
    if action in SAVES and line.slug:
        line.changes = _draft_changes(db, line.slug, row["actor"] or "", row["at"])
        if line.changes:  # the status change is among them
            line.facts = [f for f in line.facts if not f.startswith("Trạng thái:")]


def _record(text: str) -> dict[str, str]:
    """Return a replication record written as JSON in the log as {Vietnamese label: value}."""
    try:
        record = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(record, dict):
        return {}
    out = {}
    for key, label in RECORD_LABELS.items():
        value = record.get(key)
        if value not in (None, ""):
            out[label] = show_date(str(value)) if key == "start_date" else _short(str(value))
    return out


def _short(text: str) -> str:
    """Return a value on one line, cut to SHORT characters."""
    text = " ".join(text.split())
    return text if len(text) <= SHORT else text[: SHORT - 1] + "…"


def _proposal_at(db: sqlite_utils.Database, slug: str, author: str, at: str) -> int | None:
    """Return the proposal an author sent at this time (audit line), or None."""
    times = audit_moments(at)
    if times is None:
        return None
    row = db.execute(
        "SELECT id FROM proposals WHERE slug = ? AND author = ? AND created_at IN (?, ?) ORDER BY id DESC LIMIT 1",
        [slug, author, *times],
    ).fetchone()
    return row[0] if row else None


def _proposal_changes(db: sqlite_utils.Database, line: AuditLine, number: int | None) -> None:
    """Fill a line with what a proposed change changes, field by field, and link it."""
    if number is None:
        return
    row = db.execute("SELECT base_text, text FROM proposals WHERE id = ?", [number]).fetchone()
    if row is None:  # pruned, or a database restored from before it
        return
    line.proposal = number
    if row[0]:
        line.changes = _text_changes(row[0], row[1])


def _draft_changes(db: sqlite_utils.Database, slug: str, author: str, at: str) -> list[tuple[str, str, str]]:
    """Return what a save changed, field by field, from its revision and the one before."""
    texts = saved_texts(db, slug, author, at)
    if texts is None or texts[0] is None:
        return []
    return _text_changes(texts[0], texts[1])


def _text_changes(before_text: str, after_text: str) -> list[tuple[str, str, str]]:
    """Return what changed between two texts of an entry file, field by field."""
    try:
        old, new = read_draft(before_text.encode())[0], read_draft(after_text.encode())[0]
    except (ValueError, yaml.YAMLError):  # a text that is not an entry file
        return []
    changes = []
    for f in fields(Draft):
        before, after = getattr(old, f.name), getattr(new, f.name)
        if f.name == "body":  # blank lines around the text or Windows line ends are no change to a reader
            before, after = (text.replace("\r\n", "\n").strip() for text in (before, after))
        if before == after or f.name not in DRAFT_LABELS:
            continue
        if f.name == "body":
            changes.append((DRAFT_LABELS["body"], "", ""))  # too long to show: the history page compares
        else:
            changes.append((DRAFT_LABELS[f.name], _value(f.name, before), _value(f.name, after)))
    return changes


def _value(name: str, value) -> str:
    """Return a draft's value as text for a change."""
    if value in (None, "", []):
        return ""
    if name == "status":
        return STATUS_LABELS.get(value, value)
    if name == "source_date":
        return show_date(value)
    if name == "attachments":
        return _short(", ".join(item.get("file", "") for item in value))
    return _short(", ".join(value) if isinstance(value, list) else str(value))
