"""Accounts and roles, kept in SQLite: who may sign in, with which password, to do what."""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils
from werkzeug.security import generate_password_hash

from .store import now_iso

# How passwords are hashed (werkzeug): scrypt with its default cost. Only the test suite lowers the
# cost (tests/conftest.py), so that hundreds of accounts are not each worth a quarter second.
PASSWORD_METHOD = "scrypt"

__all__ = [
    "NAME_MAX",
    "PASSWORD_MIN",
    "ROLES",
    "ROLE_LABELS",
    "AccountError",
    "User",
    "create_user",
    "end_sessions",
    "find_user",
    "get_user",
    "has_admin",
    "list_users",
    "name_key",
    "set_disabled",
    "set_password",
    "set_role",
    "user_from_row",
]

ROLES = ("member", "editor", "admin")
ROLE_LABELS = {"member": "Thành viên", "editor": "Biên tập viên", "admin": "Quản trị viên"}
RANKS = {role: rank for rank, role in enumerate(ROLES)}  # each role may do what the ones before it may
PASSWORD_MIN = 10
NAME_MAX = 64


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


def name_key(name: str) -> str:
    """Return the form of a name used to compare accounts (case-insensitive)."""
    return " ".join(name.split()).casefold()


def user_from_row(row: dict) -> User:
    """Return the account a row of the users table describes."""
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
                {"name": name, "name_key": name_key(name), "role": role, "disabled": 0,
                 "password_hash": _hash(password), "created_at": now, "updated_at": now}
            )  # fmt: skip
    except sqlite_utils.utils.sqlite3.IntegrityError:
        raise AccountError(f"Tài khoản '{name}' đã có.") from None
    found = find_user(db, name)
    assert found is not None
    return found


def find_user(db: sqlite_utils.Database, name: str) -> User | None:
    """Return the account with this name (any case), or None."""
    row = next(db["users"].rows_where("name_key = ?", [name_key(name)], limit=1), None)
    return user_from_row(row) if row else None


def get_user(db: sqlite_utils.Database, user_id: int | str) -> User | None:
    """Return the account with this id, or None."""
    try:
        row = next(db["users"].rows_where("id = ?", [int(user_id)], limit=1), None)
    except (TypeError, ValueError):
        return None
    return user_from_row(row) if row else None


def end_sessions(db: sqlite_utils.Database, user: User) -> None:
    """Sign the account out everywhere (after a password change, a new role, or disabling)."""
    with db.conn:
        db.execute("UPDATE users SET session_version = coalesce(session_version, 0) + 1 WHERE id = ?", [user.id])
        db.execute("DELETE FROM sessions WHERE user_id = ?", [user.id])


def list_users(db: sqlite_utils.Database) -> list[User]:
    """Return every account, by name."""
    return [user_from_row(r) for r in db["users"].rows_where(order_by="name_key")]


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
    db["users"].update(user.id, {"password_hash": _hash(password), "updated_at": now_iso()})
    end_sessions(db, user)


def _hash(password: str) -> str:
    """Return a password's hash, salted, with the method of the moment (PASSWORD_METHOD)."""
    return generate_password_hash(password, method=PASSWORD_METHOD)
