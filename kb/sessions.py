"""Browser sessions: the key that signs their cookies, and the record on the server that can end them."""

from __future__ import annotations

import hashlib
import os
import secrets
import sqlite3
import time
from dataclasses import replace
from pathlib import Path

import sqlite_utils

from .accounts import User, user_from_row
from .store import write_audit, write_transaction

__all__ = ["end_session", "load_secret_key", "session_user", "start_session"]

# A session's "last seen" time is written at most this often, not at every request.
SEEN_EVERY_S = 60


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
    user = replace(user_from_row(row), session=str(token))
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
