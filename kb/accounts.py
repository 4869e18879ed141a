"""Accounts, roles, sign-in throttling and the audit log, kept in SQLite."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import sqlite3
import time
from dataclasses import dataclass, replace
from pathlib import Path

import sqlite_utils
from werkzeug.security import check_password_hash, generate_password_hash

from .store import now_iso, write_audit, write_transaction

__all__ = [
    "PASSWORD_MIN",
    "ROLES",
    "AccountError",
    "SignIn",
    "User",
    "audit",
    "authenticate",
    "create_user",
    "end_session",
    "end_sessions",
    "find_user",
    "get_user",
    "has_admin",
    "list_users",
    "load_secret_key",
    "session_user",
    "set_disabled",
    "set_password",
    "set_role",
    "start_session",
]

ROLES = ("member", "editor", "admin")
ROLE_LABELS = {"member": "Thành viên", "editor": "Biên tập viên", "admin": "Quản trị viên"}
RANKS = {role: rank for rank, role in enumerate(ROLES)}  # each role may do what the ones before it may
PASSWORD_MIN = 10
NAME_MAX = 64
# Failed sign-ins allowed in the window, per account name and per address, before a pause.
FAILURES_PER_ACCOUNT = 5
FAILURES_PER_ADDRESS = 20
WINDOW_S = 15 * 60
# A session's "last seen" time is written at most this often, not at every request.
SEEN_EVERY_S = 60
# Hashed once, checked when the account does not exist, so both answers take as long.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message is for the user, in Vietnamese."""


@dataclass(frozen=True)
class User:
    """A signed-in person: an editor or an admin."""

    id: int
    name: str
    role: str
    disabled: bool = False
    created_at: str | None = None
    session_version: int = 0  # bumped to end every session of the account
    session: str = ""  # the token of the browser session this object was loaded for

    # Flask-Login's user protocol.
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        """Return True: a User object only exists for an account."""
        return True

    @property
    def is_active(self) -> bool:
        """Return False for a disabled account (it cannot sign in or stay signed in)."""
        return not self.disabled

    @property
    def is_admin(self) -> bool:
        """Return True for admins."""
        return self.role == "admin"

    @property
    def is_editor(self) -> bool:
        """Return True for editors and admins (who may write entries and see drafts)."""
        return self.may("editor")

    def may(self, role: str) -> bool:
        """Return True if this account has role or a higher one."""
        return RANKS.get(self.role, -1) >= RANKS[role]

    @property
    def role_label(self) -> str:
        """Return the role in Vietnamese."""
        return ROLE_LABELS.get(self.role, self.role)

    def get_id(self) -> str:
        """Return what the session cookie stores: this browser's token, looked up on every request."""
        return self.session


@dataclass(frozen=True)
class SignIn:
    """What became of a sign-in attempt: the account, or the seconds to wait before trying again."""

    user: User | None = None
    wait: int = 0


def _key(name: str) -> str:
    """Return the form of a name used to compare accounts (case-insensitive)."""
    return " ".join(name.split()).casefold()


def _user(row: dict) -> User:
    return User(
        row["id"], row["name"], row["role"], bool(row["disabled"]), row["created_at"], row.get("session_version") or 0
    )


def check_name(name: str) -> str:
    """Return a cleaned account name, or raise AccountError."""
    name = " ".join(name.split())
    if not name:
        raise AccountError("Tên tài khoản không được để trống.")
    if len(name) > NAME_MAX:
        raise AccountError(f"Tên tài khoản dài tối đa {NAME_MAX} ký tự.")
    if any(not (c.isalnum() or c in "._-@ ") for c in name):
        raise AccountError("Tên tài khoản chỉ gồm chữ, số, dấu chấm, gạch ngang, gạch dưới hoặc @.")
    return name


def check_password(password: str) -> None:
    """Raise AccountError if a new password is too weak."""
    if len(password) < PASSWORD_MIN:
        raise AccountError(f"Mật khẩu cần ít nhất {PASSWORD_MIN} ký tự.")
    if password.strip() != password or not password.strip():
        raise AccountError("Mật khẩu không được bắt đầu hay kết thúc bằng khoảng trắng.")


def create_user(db: sqlite_utils.Database, name: str, password: str, role: str) -> User:
    """Create an account; raise AccountError if the name is taken or a value is invalid."""
    name = check_name(name)
    check_password(password)
    if role not in ROLES:
        raise AccountError(f"Vai trò phải là một trong: {', '.join(ROLES)}.")
    now = now_iso()
    try:
        with db.conn:
            db["users"].insert(
                {"name": name, "name_key": _key(name), "role": role, "disabled": 0,
                 "password_hash": generate_password_hash(password), "created_at": now, "updated_at": now}
            )  # fmt: skip
    except sqlite_utils.utils.sqlite3.IntegrityError:
        raise AccountError(f"Tài khoản '{name}' đã có.") from None
    found = find_user(db, name)
    assert found is not None
    return found


def find_user(db: sqlite_utils.Database, name: str) -> User | None:
    """Return the account with this name (any case), or None."""
    row = next(db["users"].rows_where("name_key = ?", [_key(name)], limit=1), None)
    return _user(row) if row else None


def get_user(db: sqlite_utils.Database, user_id: int | str) -> User | None:
    """Return the account with this id, or None."""
    try:
        row = next(db["users"].rows_where("id = ?", [int(user_id)], limit=1), None)
    except (TypeError, ValueError):
        return None
    return _user(row) if row else None


def _digest(token: str) -> str:
    """Return what the sessions table keeps of a token: its hash, so a copy of the database opens no session."""
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(db: sqlite_utils.Database, user: User, idle_s: float, lifetime_s: float, address: str = "") -> User:
    """Open a session for a browser that just signed in, with its audit line; return the user carrying its token.

    Both are written in one transaction (StoreBusy if the database stays locked): a sign-in
    is recorded exactly when it happened.
    """
    token, now = secrets.token_urlsafe(32), time.time()
    with write_transaction(db) as conn:
        conn.execute(
            "INSERT INTO sessions (id, user_id, version, created, seen) VALUES (?, ?, ?, ?, ?)",
            [_digest(token), user.id, user.session_version, now, now],
        )
        conn.execute("DELETE FROM sessions WHERE seen < ? OR created < ?", [now - idle_s, now - lifetime_s])
        write_audit(conn, user.name, "login", user.name, address=address)
    return replace(user, session=token)


def end_session(db: sqlite_utils.Database, token: str) -> None:
    """Sign one browser out: its token no longer opens anything, whoever replays the cookie."""
    with db.conn:
        db.execute("DELETE FROM sessions WHERE id = ?", [_digest(token)])


def session_user(
    db: sqlite_utils.Database, token: str, idle_s: float, lifetime_s: float, now: float | None = None
) -> User | None:
    """Return the account a session token belongs to, or None if it was ended, expired or disabled since.

    A session ends when the browser signs out, after idle_s without a request, lifetime_s after
    signing in, and when the account's session version moves (new password, role or disabling).
    """
    now = time.time() if now is None else now
    row = next(
        db.query(
            "SELECT s.version AS s_version, s.created AS s_created, s.seen AS s_seen, u.* "
            "FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?",
            [_digest(str(token))],
        ),
        None,
    )
    if row is None:
        return None
    user = replace(_user(row), session=str(token))
    alive = now - row["s_seen"] <= idle_s and now - row["s_created"] <= lifetime_s
    if not alive or not user.is_active or row["s_version"] != user.session_version:
        _best_effort(db, "DELETE FROM sessions WHERE id = ?", [_digest(user.session)])
        return None
    if now - row["s_seen"] >= SEEN_EVERY_S:
        _best_effort(db, "UPDATE sessions SET seen = ? WHERE id = ?", [now, _digest(user.session)])
    return user


def _best_effort(db: sqlite_utils.Database, sql: str, params: list) -> None:
    """Run a small write that may be skipped: while another process holds the write lock, give up at once.

    Reading a page must not wait the connection's full busy timeout for bookkeeping: a "last
    seen" time missed now is written at the next request.
    """
    (previous,) = db.execute("PRAGMA busy_timeout").fetchone()
    try:
        db.execute("PRAGMA busy_timeout = 100")
        with db.conn:
            db.execute(sql, params)
    except sqlite3.OperationalError:
        pass
    finally:
        db.execute(f"PRAGMA busy_timeout = {int(previous)}")


def end_sessions(db: sqlite_utils.Database, user: User) -> None:
    """Sign the account out everywhere (after a password change, a new role, or disabling)."""
    with db.conn:
        db.execute("UPDATE users SET session_version = coalesce(session_version, 0) + 1 WHERE id = ?", [user.id])
        db.execute("DELETE FROM sessions WHERE user_id = ?", [user.id])


def list_users(db: sqlite_utils.Database) -> list[User]:
    """Return every account, by name."""
    return [_user(r) for r in db["users"].rows_where(order_by="name_key")]


def has_admin(db: sqlite_utils.Database) -> bool:
    """Return True if an active admin account exists."""
    return db["users"].count_where("role = 'admin' AND disabled = 0") > 0


_OTHER_ADMIN = "(SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0 AND id != :id) > 0"


def set_role(db: sqlite_utils.Database, user: User, role: str) -> None:
    """Change an account's role, never leaving the site without an active admin (one statement)."""
    if role not in ROLES:
        raise AccountError(f"Vai trò phải là một trong: {', '.join(ROLES)}.")
    with db.conn:
        done = db.execute(
            f"UPDATE users SET role = :role, updated_at = :now, session_version = coalesce(session_version, 0) + 1 "
            f"WHERE id = :id AND (:role = 'admin' OR role != 'admin' OR disabled = 1 OR {_OTHER_ADMIN})",
            {"role": role, "now": now_iso(), "id": user.id},
        ).rowcount
    if not done:
        raise AccountError("Không thể bỏ quyền của quản trị viên cuối cùng.")


def set_disabled(db: sqlite_utils.Database, user: User, disabled: bool) -> None:
    """Disable (signing it out) or re-enable an account; its history stays. The last admin stays enabled."""
    with db.conn:
        done = db.execute(
            f"UPDATE users SET disabled = :disabled, updated_at = :now, "
            f"session_version = coalesce(session_version, 0) + :disabled "
            f"WHERE id = :id AND (:disabled = 0 OR role != 'admin' OR {_OTHER_ADMIN})",
            {"disabled": int(disabled), "now": now_iso(), "id": user.id},
        ).rowcount
    if not done:
        raise AccountError("Không thể khóa quản trị viên cuối cùng.")


def set_password(db: sqlite_utils.Database, user: User, password: str) -> None:
    """Give an account a new password."""
    check_password(password)
    db["users"].update(user.id, {"password_hash": generate_password_hash(password), "updated_at": now_iso()})
    end_sessions(db, user)


def _wait(db: sqlite_utils.Database, key: str, address: str, now: float) -> tuple[int, str]:
    """Return the seconds to wait before this name or address may try again, and which one is paused."""
    waits = {}
    limits = (("name_key", key, FAILURES_PER_ACCOUNT), ("address", address, FAILURES_PER_ADDRESS))
    for column, value, limit in limits:
        rows = db.execute(
            f"SELECT at FROM login_attempts WHERE {column} = ? AND at > ? AND ok = 0 ORDER BY at DESC LIMIT ?",
            [value, now - WINDOW_S, limit],
        ).fetchall()
        if len(rows) >= limit:
            waits[column] = int(rows[-1][0] + WINDOW_S - now) + 1
    if not waits:
        return 0, ""
    return max(waits.values()), "address" if "address" in waits else "name_key"


def authenticate(db: sqlite_utils.Database, name: str, password: str, address: str) -> SignIn:
    """Check a sign-in under the throttle and record it; the answer never says whether an account exists.

    One BEGIN IMMEDIATE transaction counts the recent failures and records this attempt as one
    before any password is compared, so parallel attempts (threads, or gunicorn's worker
    processes) never compare more passwords than the limit. A paused attempt compares nothing
    and adds to one audit row per account (or address) and window rather than a row of its own.
    A wrong password, an unknown name and a disabled account all fail the same way.
    """
    key, now = _key(name), time.time()
    with write_transaction(db):
        wait, paused = _wait(db, key, address, now)
        if wait:
            if paused == "address":  # any name from there: one row for the address
                _audit_repeat(db, "", "login_throttled_address", "", f"tên gần nhất: {name}", address, now)
            else:
                _audit_repeat(db, name, "login_throttled", key, "", address, now)
            return SignIn(wait=wait)
        attempt = db.execute(
            "INSERT INTO login_attempts (name_key, address, at, ok) VALUES (?, ?, ?, 0)", [key, address, now]
        ).lastrowid
        db.execute("DELETE FROM login_attempts WHERE at < ?", [now - 24 * 3600])
    row = next(db["users"].rows_where("name_key = ?", [key], limit=1), None)
    good = check_password_hash(row["password_hash"] if row else _DUMMY_HASH, password)
    if not (row and good and not row["disabled"]):
        return SignIn()
    with db.conn:  # a success clears the account's failures
        db.execute("UPDATE login_attempts SET ok = 1 WHERE rowid = ?", [attempt])
        db.execute("DELETE FROM login_attempts WHERE name_key = ? AND ok = 0", [key])
    return SignIn(user=_user(row))


def _iso(seconds: float) -> str:
    """Return a Unix time as the audit log writes times (UTC, ISO 8601, to the second)."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).replace(microsecond=0).isoformat()


def _audit_repeat(
    db: sqlite_utils.Database, actor: str, action: str, target: str, detail: str, address: str, now: float
) -> None:
    """Count an event in the audit row that started it within the window, or start one (in a transaction)."""
    found = db.execute(
        "SELECT id FROM audit WHERE at > ? AND action = ? AND target = ? AND address = ? ORDER BY id DESC LIMIT 1",
        [_iso(now - WINDOW_S), action, target, address],
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


def audit(
    db: sqlite_utils.Database, actor: str | None, action: str, target: str = "", detail: str = "", address: str = ""
) -> None:
    """Append one line to the audit log (StoreBusy if the database stays locked)."""
    with write_transaction(db) as conn:
        write_audit(conn, actor, action, target, detail, address)


def load_secret_key(data_dir: Path) -> str:
    """Return the session signing key kept in the data dir, creating it once (mode 600)."""
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = data_dir / f".secret_key.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)  # fails if another process made it first: theirs wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()
