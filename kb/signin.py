"""Signing in: a password checked under a throttle on failures, per account name and per address."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import sqlite_utils
from werkzeug.security import check_password_hash, generate_password_hash

from .accounts import PASSWORD_METHOD, User, name_key, user_from_row
from .audit import audit_repeat
from .store import write_transaction

__all__ = ["FAILURES_PER_ACCOUNT", "FAILURES_PER_ADDRESS", "WINDOW_S", "SignIn", "authenticate"]

# Failed sign-ins allowed in the window, per account name and per address, before a pause.
FAILURES_PER_ACCOUNT = 5
FAILURES_PER_ADDRESS = 20
WINDOW_S = 15 * 60
# Hashed once, checked when the account does not exist, so both answers take as long.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16), method=PASSWORD_METHOD)


@dataclass(frozen=True)
class SignIn:
    """What became of a sign-in attempt: the account, or the seconds to wait before trying again."""

    user: User | None = None
    wait: int = 0


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
    key, now = name_key(name), time.time()
    with write_transaction(db):
        wait, paused = _wait(db, key, address, now)
        if wait:
            if paused == "address":  # any name from there: one row for the address
                audit_repeat(db, "", "login_throttled_address", "", f"tên gần nhất: {name}", address, now, WINDOW_S)
            else:
                audit_repeat(db, name, "login_throttled", key, "", address, now, WINDOW_S)
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
    return SignIn(user=user_from_row(row))
