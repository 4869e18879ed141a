"""Accounts and sign-in: hashing, throttling, sessions, CSRF, cookies, role boundaries, logs, the CLI."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import stat
import threading
import time

import pytest
import sqlite_utils
from helpers import PASSWORD, indexed, login, token

from kb import create_app
from kb.accounts import AccountError, create_user, find_user, has_admin, set_disabled
from kb.signin import FAILURES_PER_ACCOUNT, FAILURES_PER_ADDRESS
from kb.store import open_db


@pytest.fixture
def csrf_app(content_dir, data_dir):
    """The app with CSRF protection on, as in production, and one admin and one editor."""
    indexed(content_dir, data_dir)
    app = create_app({"TESTING": True, "KB_CONTENT_DIR": content_dir, "KB_DATA_DIR": data_dir})
    db = open_db(data_dir)
    create_user(db, "quantri", PASSWORD, "admin")
    create_user(db, "bientap", PASSWORD, "editor")
    return app


@pytest.mark.real_password_hashing
def test_passwords_are_stored_hashed_with_scrypt(csrf_app, data_dir):
    row = next(open_db(data_dir)["users"].rows_where("name = 'quantri'"))
    assert PASSWORD not in row["password_hash"]
    assert row["password_hash"].startswith("scrypt:")


def test_a_wrong_password_and_an_unknown_account_get_the_same_vietnamese_message(csrf_app):
    client = csrf_app.test_client()
    wrong = login(client, "quantri", "sai-mat-khau-roi")
    unknown = login(client, "khong-co-ai", "sai-mat-khau-roi")
    assert wrong.status_code == unknown.status_code == 401
    message = "Tên tài khoản hoặc mật khẩu không đúng."
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)
    assert client.get("/admin").status_code == 302  # still signed out


def test_sign_in_and_out_and_the_session_cookie_is_httponly_and_samesite(csrf_app):
    client = csrf_app.test_client()
    response = login(client, "QuanTri")  # names are not case-sensitive
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/admin").status_code == 200
    page = client.get("/").get_data(as_text=True)
    assert "Đăng xuất" in page
    client.post("/logout", data={"csrf_token": token(page)})
    assert client.get("/admin").status_code == 302


@pytest.mark.slow
def test_signing_in_or_out_while_the_database_is_locked_says_busy_and_decides_nothing(csrf_app, request):
    client = csrf_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    other = csrf_app.test_client()
    login(other, "bientap")
    home = other.get("/").get_data(as_text=True)
    locked = request.getfixturevalue("write_locked")
    busy = client.post("/login", data={"name": "quantri", "password": PASSWORD, "csrf_token": token(page)})
    assert busy.status_code == 503 and "Hệ thống đang bận" in busy.get_data(as_text=True)
    out = other.post("/logout", data={"csrf_token": token(home)})
    assert out.status_code == 503 and "Hệ thống đang bận" in out.get_data(as_text=True)
    locked.execute("ROLLBACK")
    assert other.get("/edit").status_code == 200  # the sign-out did not happen: still signed in, and told so
    assert login(client, "quantri").status_code == 302
    assert client.get("/admin").status_code == 200


def test_sign_in_goes_back_where_the_user_was_but_never_to_another_site(csrf_app):
    client = csrf_app.test_client()
    assert login(client, "bientap", next_url="/edit/new").headers["Location"] == "/edit/new"
    client = csrf_app.test_client()
    assert login(client, "bientap", next_url="//evil.example/x").headers["Location"] == "/"
    client = csrf_app.test_client()
    assert login(client, "bientap", next_url="/%5Cevil.example").headers["Location"] == "/"


def _sessions(data_dir, sql: str, params=()) -> None:
    """Change the stored sessions directly, as time passing would."""
    db = open_db(data_dir)
    with db.conn:
        db.execute(sql, list(params))


def test_a_copy_of_the_cookie_opens_nothing_after_sign_out_and_other_browsers_stay_signed_in(csrf_app):
    office, border_post = csrf_app.test_client(), csrf_app.test_client()
    login(office, "bientap")
    login(border_post, "bientap")
    copied = office.get_cookie("session").value
    office.post("/logout", data={"csrf_token": token(office.get("/").get_data(as_text=True))})
    replay = csrf_app.test_client()
    replay.set_cookie("session", copied)
    response = replay.get("/edit")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert "Đăng xuất" not in replay.get("/").get_data(as_text=True)
    assert border_post.get("/edit").status_code == 200  # signing out one browser leaves the others


def test_a_session_ends_after_its_idle_time_and_its_lifetime(csrf_app, data_dir):
    idle_s = csrf_app.config["KB_SESSION_IDLE_MINUTES"] * 60
    lifetime_s = csrf_app.config["KB_SESSION_MAX_HOURS"] * 3600
    assert (idle_s, lifetime_s) == (8 * 3600, 24 * 3600)  # the documented defaults
    client = csrf_app.test_client()
    login(client, "bientap")
    _sessions(data_dir, "UPDATE sessions SET seen = ?", [time.time() - idle_s + 60])
    assert client.get("/edit").status_code == 200  # a request within the idle time keeps it open
    _sessions(data_dir, "UPDATE sessions SET seen = ?", [time.time() - idle_s - 60])
    response = client.get("/edit")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    login(client, "bientap")
    assert client.get("/edit").status_code == 200
    _sessions(data_dir, "UPDATE sessions SET created = ?", [time.time() - lifetime_s - 60])
    assert client.get("/edit").status_code == 302  # however busy, a session ends a day after signing in


def test_the_last_seen_time_is_written_at_most_once_a_minute(csrf_app, data_dir):
    client = csrf_app.test_client()
    login(client, "bientap")
    seen = time.time() - 30
    _sessions(data_dir, "UPDATE sessions SET seen = ?", [seen])
    for _ in range(5):
        assert client.get("/edit").status_code == 200
    assert open_db(data_dir).execute("SELECT seen FROM sessions").fetchone()[0] == seen
    _sessions(data_dir, "UPDATE sessions SET seen = ?", [time.time() - 90])
    client.get("/edit")
    assert open_db(data_dir).execute("SELECT seen FROM sessions").fetchone()[0] > time.time() - 60


@pytest.mark.parametrize(
    "next_url",
    [
        "/%0d%0aSet-Cookie:x",
        "/%0aLocation:%20http://evil.example",
        "/%09/evil.example",
        "/edit%00",
        "/%7f",
        "/%c2%85",
        "%2F%2Fevil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "evil.example/x",
        "%20/edit",
        "/%5C%5Cevil.example",
    ],
)
def test_sign_in_with_a_hostile_next_goes_home(csrf_app, next_url):
    response = login(csrf_app.test_client(), "bientap", next_url=next_url)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Set-Cookie: x" not in str(response.headers)


def test_repeated_failures_pause_the_account_even_with_the_right_password(csrf_app, data_dir):
    client = csrf_app.test_client()
    for _ in range(FAILURES_PER_ACCOUNT):
        assert login(client, "bientap", "sai-mat-khau-roi").status_code == 401
    paused = login(client, "bientap")
    assert paused.status_code == 429
    assert "thử lại sau" in paused.get_data(as_text=True)
    actions = [r["action"] for r in open_db(data_dir)["audit"].rows_where("target = 'bientap'")]
    assert actions.count("login_failed") == FAILURES_PER_ACCOUNT and "login_throttled" in actions
    # Another account from the same address is not paused by these failures.
    assert login(csrf_app.test_client(), "quantri").status_code == 302


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(csrf_app, data_dir):
    client = csrf_app.test_client()
    login(client, "quantri")
    response = client.post("/admin/users", data={"name": "moi", "role": "editor", "password": PASSWORD})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert find_user(open_db(data_dir), "moi") is None
    bad = client.post("/edit/new", data={"title": "X", "csrf_token": "gia-mao"})
    assert bad.status_code == 400


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/admin"),
        ("get", "/admin/users"),
        ("get", "/admin/audit"),
        ("post", "/admin/reindex"),
        ("get", "/admin/jobs/1"),
        ("post", "/admin/users/1/disable"),
        ("post", "/models/tu-thuoc-bien-cuong/revisions/1/restore"),
    ],
)
def test_admin_routes_refuse_anonymous_users_and_editors(csrf_app, method, url):
    anonymous = csrf_app.test_client()
    response = getattr(anonymous, method)(url)
    assert response.status_code in (302, 400)  # to the login page (or refused before, for lack of a token)
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/login")
    editor = csrf_app.test_client()
    login(editor, "bientap")
    page = editor.get("/").get_data(as_text=True)
    assert getattr(editor, method)(url, data={"csrf_token": token(page)}).status_code == 403


def test_every_admin_route_refuses_anonymous_users_and_editors(csrf_app):
    """Every route of the admin blueprint, as the app lists them: none is left out by hand."""
    rules = [r for r in csrf_app.url_map.iter_rules() if r.endpoint.startswith("admin.")]
    assert len(rules) >= 7 and any(r.rule == "/admin/searches" for r in rules)
    editor = csrf_app.test_client()
    login(editor, "bientap")
    csrf = token(editor.get("/").get_data(as_text=True))
    for rule in rules:
        url = re.sub(r"<(?:(\w+):)?\w+>", lambda m: "1" if m.group(1) == "int" else "tu-thuoc-bien-cuong", rule.rule)
        for method in sorted(rule.methods & {"GET", "POST"}):
            anonymous = getattr(csrf_app.test_client(), method.lower())(url)
            assert anonymous.status_code in (302, 400), (method, url)  # to the login page, or no token
            if anonymous.status_code == 302:
                assert anonymous.headers["Location"].startswith("/login"), (method, url)
            assert getattr(editor, method.lower())(url, data={"csrf_token": csrf}).status_code == 403, (method, url)


@pytest.mark.parametrize(
    "url", ["/edit", "/edit/new", "/models/tu-thuoc-bien-cuong/edit", "/models/tu-thuoc-bien-cuong/history"]
)
def test_anonymous_users_cannot_edit_or_see_history(csrf_app, url):
    response = csrf_app.test_client().get(url)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_disabled_account_is_signed_out_and_cannot_sign_in(csrf_app, data_dir):
    editor = csrf_app.test_client()
    login(editor, "bientap")
    assert editor.get("/edit").status_code == 200
    admin = csrf_app.test_client()
    login(admin, "quantri")
    page = admin.get("/admin/users").get_data(as_text=True)
    user_id = find_user(open_db(data_dir), "bientap").id
    confirmed = {"csrf_token": token(page), "confirmed": "1"}  # the button on the confirmation page
    assert admin.post(f"/admin/users/{user_id}/disable", data=confirmed).status_code == 302
    assert editor.get("/edit").status_code == 302  # the session no longer counts
    assert login(csrf_app.test_client(), "bientap").status_code == 401


def test_an_admin_is_not_offered_to_lock_their_own_account(csrf_app, data_dir):
    admin = csrf_app.test_client()
    login(admin, "quantri")
    page = admin.get("/admin/users").get_data(as_text=True)
    own, other = find_user(open_db(data_dir), "quantri").id, find_user(open_db(data_dir), "bientap").id
    assert f'/admin/users/{other}/disable"' in page and f'/admin/users/{own}/disable"' not in page
    assert "Tài khoản của bạn: không tự khóa được." in page


def test_the_last_admin_cannot_be_demoted_or_disabled(csrf_app, data_dir):
    admin = csrf_app.test_client()
    login(admin, "quantri")
    page = admin.get("/admin/users").get_data(as_text=True)
    user_id = find_user(open_db(data_dir), "quantri").id
    admin.post(f"/admin/users/{user_id}/role", data={"csrf_token": token(page), "role": "editor"})
    assert find_user(open_db(data_dir), "quantri").role == "admin"
    assert "quản trị viên cuối cùng" in admin.get("/admin/users").get_data(as_text=True)


def test_admins_create_accounts_and_change_roles_and_it_is_audited(csrf_app, data_dir):
    admin = csrf_app.test_client()
    login(admin, "quantri")
    page = admin.get("/admin/users").get_data(as_text=True)
    short = admin.post(
        "/admin/users", data={"csrf_token": token(page), "name": "moi", "role": "editor", "password": "ngan"}
    )
    assert short.status_code == 422 and "Ít nhất 10 ký tự" in short.get_data(as_text=True)
    made = admin.post(
        "/admin/users", data={"csrf_token": token(page), "name": "moi", "role": "editor", "password": PASSWORD}
    )
    assert made.status_code == 302
    user = find_user(open_db(data_dir), "moi")
    admin.post(f"/admin/users/{user.id}/role", data={"csrf_token": token(page), "role": "admin"})
    assert find_user(open_db(data_dir), "moi").role == "admin"
    log = admin.get("/admin/audit").get_data(as_text=True)
    assert "Tạo tài khoản" in log and "Đổi vai trò" in log and "Đăng nhập" in log


def test_create_user_from_the_command_line_reads_the_password_twice_or_from_stdin(csrf_app, data_dir):
    runner = csrf_app.test_cli_runner()
    result = runner.invoke(
        args=["kb", "create-user", "tramtruong", "--role", "editor"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert find_user(open_db(data_dir), "tramtruong").role == "editor"
    piped = runner.invoke(args=["kb", "create-user", "quantri2", "--role", "admin", "--password-stdin"], input=PASSWORD)
    assert piped.exit_code == 0 and find_user(open_db(data_dir), "quantri2").is_admin
    taken = runner.invoke(
        args=["kb", "create-user", "tramtruong", "--role", "editor", "--password-stdin"], input=PASSWORD
    )
    assert taken.exit_code != 0 and "đã có" in taken.output
    weak = runner.invoke(args=["kb", "create-user", "yeu", "--role", "editor", "--password-stdin"], input="123")
    assert weak.exit_code != 0 and "ít nhất" in weak.output


def test_reindex_says_how_to_create_the_first_admin(content_dir, data_dir):
    app = create_app({"TESTING": True, "KB_CONTENT_DIR": content_dir, "KB_DATA_DIR": data_dir})
    result = app.test_cli_runner().invoke(args=["kb", "reindex"])
    assert "Chưa có tài khoản quản trị" in result.output and "create-user" in result.output


def test_the_secret_key_is_generated_once_into_the_data_dir(content_dir, data_dir, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = create_app({"KB_CONTENT_DIR": content_dir, "KB_DATA_DIR": data_dir}).config["SECRET_KEY"]
    second = create_app({"KB_CONTENT_DIR": content_dir, "KB_DATA_DIR": data_dir}).config["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert (data_dir / "secret_key").stat().st_mode & 0o077 == 0
    monkeypatch.setenv("SECRET_KEY", "tu-bien-moi-truong")
    assert (
        create_app({"KB_CONTENT_DIR": content_dir, "KB_DATA_DIR": data_dir}).config["SECRET_KEY"]
        == "tu-bien-moi-truong"
    )


DATABASE_FILES = ("kb.sqlite3", "kb.sqlite3-wal", "kb.sqlite3-shm")


def _modes(folder, names=DATABASE_FILES) -> dict[str, int]:
    return {name: stat.S_IMODE((folder / name).stat().st_mode) for name in names}


def test_the_database_of_password_hashes_is_readable_by_its_owner_only(data_dir, usual_umask):
    db = open_db(data_dir)
    create_user(db, "quantri", PASSWORD, "admin")
    assert _modes(data_dir) == dict.fromkeys(DATABASE_FILES, 0o600)  # the WAL files too, while in use


def test_a_database_an_older_version_made_readable_by_everyone_becomes_private(data_dir, usual_umask):
    data_dir.mkdir()
    older = sqlite_utils.Database(data_dir / "kb.sqlite3")  # as before: SQLite's default mode
    older.enable_wal()
    older["users"].insert({"name": "cu"})
    assert _modes(data_dir) == dict.fromkeys(DATABASE_FILES, 0o644)
    assert open_db(data_dir)["users"].count == 1
    assert _modes(data_dir) == dict.fromkeys(DATABASE_FILES, 0o600)


def test_the_last_admin_can_never_be_disabled_and_two_admins_cannot_lock_each_other_out(csrf_app, data_dir):
    db = open_db(data_dir)
    only = find_user(db, "quantri")
    with pytest.raises(AccountError, match="cuối cùng"):
        set_disabled(db, only, True)
    second = create_user(db, "quantri2", PASSWORD, "admin")
    set_disabled(db, second, True)
    with pytest.raises(AccountError):
        set_disabled(db, find_user(db, "quantri"), True)
    assert has_admin(db)


def test_a_new_password_ends_the_accounts_other_sessions(csrf_app, data_dir):
    editor = csrf_app.test_client()
    login(editor, "bientap")
    assert editor.get("/edit").status_code == 200
    admin = csrf_app.test_client()
    login(admin, "quantri")
    page = admin.get("/admin/users").get_data(as_text=True)
    user_id = find_user(open_db(data_dir), "bientap").id
    admin.post(f"/admin/users/{user_id}/password", data={"csrf_token": token(page), "password": "mot-mat-khau-moi"})
    assert editor.get("/edit").status_code == 302
    assert login(csrf_app.test_client(), "bientap", "mot-mat-khau-moi").status_code == 302


def test_readers_get_no_cookie(csrf_app):
    client = csrf_app.test_client()
    for url in ("/", "/search?q=tủ+thuốc", "/models/tu-thuoc-bien-cuong"):
        assert "Set-Cookie" not in client.get(url).headers


def test_restoring_a_backup_never_brings_back_a_session_signed_out_since(csrf_app, content_dir, data_dir, tmp_path):
    from kb.backup import make_backup, restore_backup

    client = csrf_app.test_client()
    login(client, "bientap")
    copied = client.get_cookie("session").value
    archive, _manifest = make_backup(content_dir, data_dir, tmp_path / "bk")
    client.post("/logout", data={"csrf_token": token(client.get("/").get_data(as_text=True))})
    new_content, new_data = tmp_path / "restored" / "content", tmp_path / "restored" / "instance"
    new_data.mkdir(parents=True)
    shutil.copy(data_dir / "secret_key", new_data / "secret_key")  # the same machine, the same key
    restore_backup(archive, new_content, new_data)
    restored = create_app({"TESTING": True, "KB_CONTENT_DIR": new_content, "KB_DATA_DIR": new_data})
    replay = restored.test_client()
    replay.set_cookie("session", copied)
    assert replay.get("/edit").status_code == 302
    assert login(restored.test_client(), "bientap").status_code == 302  # accounts came back


@pytest.mark.slow
def test_parallel_wrong_passwords_never_check_more_than_the_limit(csrf_app, data_dir):
    attempts = 40
    ready = threading.Barrier(attempts)
    statuses = []

    def attempt() -> None:
        client = csrf_app.test_client()
        page = client.get("/login").get_data(as_text=True)
        ready.wait()
        form = {"name": "bientap", "password": "sai-mat-khau-roi", "csrf_token": token(page)}
        statuses.append(client.post("/login", data=form).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(statuses) == attempts
    # 401: the password was compared and was wrong; 429: paused, nothing compared.
    assert statuses.count(401) == FAILURES_PER_ACCOUNT
    assert statuses.count(429) == attempts - FAILURES_PER_ACCOUNT
    failed = open_db(data_dir)["audit"].count_where("action = 'login_failed'")
    assert failed == FAILURES_PER_ACCOUNT


@pytest.mark.slow
@pytest.mark.parametrize(("one_name", "limit"), [(True, FAILURES_PER_ACCOUNT), (False, FAILURES_PER_ADDRESS)])
def test_a_flood_of_paused_sign_ins_is_counted_in_one_audit_line(csrf_app, data_dir, one_name, limit):
    client = csrf_app.test_client()
    page = client.get("/login").get_data(as_text=True)

    def attempt(i: int):
        name = "bientap" if one_name else f"ten-{i}"
        return client.post("/login", data={"name": name, "password": "sai-mat-khau-roi", "csrf_token": token(page)})

    assert [attempt(i).status_code for i in range(limit)] == [401] * limit
    assert {attempt(limit + i).status_code for i in range(200)} == {429}
    rows = list(open_db(data_dir)["audit"].rows_where("action LIKE 'login_throttled%'"))
    assert len(rows) == 1 and rows[0]["repeats"] == 200
    admin = csrf_app.test_client()
    admin.environ_base["REMOTE_ADDR"] = "10.0.0.2"  # another machine: this one is paused
    login(admin, "quantri")
    assert "200 lần" in admin.get("/admin/audit").get_data(as_text=True)


def _site(content_dir, data_dir, **config):
    """Return the app with extra configuration, and one editor."""
    indexed(content_dir, data_dir)
    app = create_app({"TESTING": True, "KB_CONTENT_DIR": content_dir, "KB_DATA_DIR": data_dir, **config})
    create_user(open_db(data_dir), "bientap", PASSWORD, "editor")
    return app


@pytest.mark.parametrize("keep_days", [730, 30])
def test_audit_and_search_log_lines_past_their_retention_are_forgotten(content_dir, data_dir, keep_days):
    app = _site(content_dir, data_dir, KB_AUDIT_RETENTION_DAYS=keep_days, KB_SEARCH_LOG_RETENTION_DAYS=keep_days)
    now = dt.datetime.now(dt.UTC)
    old, recent = ((now - dt.timedelta(days=d)).isoformat() for d in (keep_days + 1, keep_days - 1))
    db = open_db(data_dir)
    with db.conn:
        for at in (old, recent):
            db["audit"].insert({"at": at, "actor": "cu", "action": "save", "target": at})
        # The log forgets old searches every thousandth one: the next search is number 1000.
        db["search_log"].insert_all([{"id": 998, "at": old, "query": "cu"}, {"id": 999, "at": recent, "query": "moi"}])
    login(app.test_client(), "bientap")  # a sign-in prunes both logs
    assert [r["target"] for r in db["audit"].rows_where("actor = 'cu'")] == [recent]
    db["search_log"].insert({"id": 997, "at": old, "query": "cu"})  # written after the sign-in
    app.test_client().get("/search?q=tủ+thuốc")
    assert [r["query"] for r in db["search_log"].rows_where("id < 1000")] == ["moi"]


def test_a_retention_of_zero_keeps_the_logs(content_dir, data_dir):
    app = _site(content_dir, data_dir, KB_AUDIT_RETENTION_DAYS=0, KB_SEARCH_LOG_RETENTION_DAYS=0)
    db = open_db(data_dir)
    with db.conn:
        db["audit"].insert({"at": "2001-01-01T00:00:00+00:00", "actor": "cu", "action": "save"})
    login(app.test_client(), "bientap")
    assert db["audit"].count_where("actor = 'cu'") == 1


def test_settings_come_from_defaults_then_the_environment_then_test_config(content_dir, data_dir, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "tu-bien-moi-truong")
    monkeypatch.setenv("KB_SECURE_COOKIES", "1")
    monkeypatch.setenv("KB_PROXY_HOPS", "1")
    from_env = create_app({"KB_CONTENT_DIR": content_dir, "KB_DATA_DIR": data_dir}).config
    assert (from_env["SECRET_KEY"], from_env["SESSION_COOKIE_SECURE"], from_env["KB_PROXY_HOPS"]) == (
        "tu-bien-moi-truong", True, 1)  # fmt: skip
    given = {
        "KB_CONTENT_DIR": content_dir,
        "KB_DATA_DIR": data_dir,
        "SECRET_KEY": "khoa-thu",
        "KB_SECURE_COOKIES": False,
    }
    config = create_app(given).config
    assert (config["SECRET_KEY"], config["SESSION_COOKIE_SECURE"]) == ("khoa-thu", False)
