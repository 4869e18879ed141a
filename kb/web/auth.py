"""Signing in and out, who may do what, and the protections every form gets."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ..accounts import User
from ..audit import audit
from ..sessions import end_session, load_secret_key, session_user, start_session
from ..signin import authenticate
from ..store import StoreBusy, prune_logs, write_transaction
from .attachments import upload_limit
from .forms import SimpleForm
from .resources import BUSY, get_db

__all__ = ["actor", "bp", "client_address", "csrf_failed", "init_app", "role_required"]

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
csrf = CSRFProtect()


class LoginForm(FlaskForm):
    """The sign-in form."""

    name = StringField("Tên tài khoản", validators=[DataRequired("Hãy nhập tên tài khoản."), Length(max=64)])
    password = PasswordField("Mật khẩu", validators=[DataRequired("Hãy nhập mật khẩu."), Length(max=1024)])


def client_address() -> str:
    """Return the address a request came from (the socket's peer: no proxy is trusted)."""
    return request.remote_addr or ""


def actor() -> str:
    """Return the signed-in account's name, for revisions and the audit log."""
    return current_user.name if current_user.is_authenticated else ""


def role_required(role: str) -> Callable:
    """Let a view run only for a signed-in account with role or a higher one (member < editor < admin)."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.may(role):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def _safe_next(target: str | None) -> str:
    """Return target if it is a plain path on this site, else the home page (never another site)."""
    home = url_for("public.home")
    # A control character has no place in a path: CR/LF would break the Location header, and
    # browsers drop tabs and newlines from URLs, so "/\t/host" would be read as "//host".
    if not target or any(ord(c) < 32 or 127 <= ord(c) < 160 for c in target):
        return home
    parts = urlsplit(target)
    # "//host" and "/\\host" are read by browsers as another site; backslashes never belong here.
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return home
    return target


def _session_limits() -> tuple[float, float]:
    """Return how long a session lives without a request, and at most, in seconds."""
    config = current_app.config
    return config["KB_SESSION_IDLE_MINUTES"] * 60, config["KB_SESSION_MAX_HOURS"] * 3600


def _sign_in(user: User, address: str) -> None:
    """Open a session for this browser, record the sign-in, and forget logs past their retention."""
    db, config = get_db(), current_app.config
    login_user(start_session(db, user, *_session_limits(), address=address))
    with suppress(StoreBusy), write_transaction(db) as conn:  # every sign-in is often enough; later if busy
        prune_logs(conn, config["KB_AUDIT_RETENTION_DAYS"], config["KB_SEARCH_LOG_RETENTION_DAYS"])


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in. A wrong name or password gets one message, whichever it was."""
    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        try:
            return _attempt(form)
        except StoreBusy:  # another process holds the database: nothing was decided, say so
            error, status = BUSY, 503
    elif request.method == "POST":
        status = 400
    return render_template("login.html", form=form, error=error), status


def _attempt(form: LoginForm):
    """Check a sign-in form; return the redirect of a success or the form page with its error."""
    db, address = get_db(), client_address()
    error, status = None, 200
    attempt = authenticate(db, form.name.data, form.password.data, address)
    if attempt.wait:
        minutes = max(1, -(-attempt.wait // 60))
        error = f"Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút."
        status = 429
    elif attempt.user is None:
        error = "Tên tài khoản hoặc mật khẩu không đúng."
        audit(db, form.name.data, "login_failed", form.name.data, address=address)
        status = 401
    else:
        _sign_in(attempt.user, address)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", form=form, error=error), status


@bp.post("/logout")
def logout():
    """Sign out this browser (a POST with its CSRF token, so no other site can sign anyone out).

    The session ends on the server: a copy of the cookie opens nothing afterwards. Other
    browsers signed in to the same account stay signed in.
    """
    if current_user.is_authenticated:
        db = get_db()
        end_session(db, current_user.session)
        audit(db, current_user.name, "logout", current_user.name, address=client_address())
    logout_user()
    flash("Bạn đã đăng xuất.")
    return redirect(url_for("public.home"))


def _refuse_oversized() -> None:
    """Refuse a request body over the limit before anything reads it.

    Forms that carry files (views marked accepts_uploads) may be as large as the upload limit;
    every other request keeps the site's limit.
    """
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    view = current_app.view_functions.get(request.endpoint or "")
    if limit and getattr(view, "accepts_uploads", False):
        limit = max(limit, upload_limit())
        request.max_content_length = limit  # also bounds a body sent without a length
    if limit and (request.content_length or 0) > limit:
        abort(413)


def csrf_failed(_exc: CSRFError | None = None):
    """Explain a missing or stale form token in Vietnamese; nothing was changed.

    The editor's blueprint answers its own edit forms instead (see editor.csrf_failed_on_form).
    """
    message = (
        "Biểu mẫu đã hết hạn hoặc không hợp lệ (thiếu mã bảo vệ CSRF). Không có gì bị thay đổi. "
        "Hãy quay lại, tải lại trang và gửi lại."
    )
    return render_template("error.html", code=400, message=message), 400


def _signout_form() -> dict:
    """Give every template the sign-out form (its CSRF token) for the header."""
    # Only for people signed in: a token would give every reader a session cookie.
    # Never from the request's body: an error page (a body too large) must not read it.
    return {"signout_form": SimpleForm(formdata=None) if current_user.is_authenticated else None}


def init_app(app: Flask) -> None:
    """Set the signing key and cookie policy, then sessions, CSRF, the sign-in pages and the sign-out form."""
    app.config["SECRET_KEY"] = app.config.get("SECRET_KEY") or load_secret_key(app.config["KB_DATA_DIR"])
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = bool(app.config.get("KB_SECURE_COOKIES"))
    # A token lives as long as the session: a long edit is never refused for its age alone.
    app.config["WTF_CSRF_TIME_LIMIT"] = None
    if app.config.get("MAX_CONTENT_LENGTH") is None:  # Flask's default is no limit at all
        app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024  # the largest form an entry needs
    # One field of a form sent with files (multipart): the body, 200 000 characters of up to 3 bytes
    # each in UTF-8, must fit (Flask's default, 500 000 bytes, would refuse a long Vietnamese text).
    app.config["MAX_FORM_MEMORY_SIZE"] = max(app.config.get("MAX_FORM_MEMORY_SIZE") or 0, 1024 * 1024)
    hops = int(app.config.get("KB_PROXY_HOPS") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Vui lòng đăng nhập để tiếp tục."
    login_manager.session_protection = "basic"
    app.before_request(_refuse_oversized)  # before the CSRF check, which would read the body
    login_manager.init_app(app)
    csrf.init_app(app)
    app.register_blueprint(bp)
    app.register_error_handler(CSRFError, csrf_failed)
    app.context_processor(_signout_form)


@login_manager.user_loader
def _load_user(token: str):
    """Return the signed-in account, or None if its session ended, expired or the account was disabled."""
    return session_user(get_db(), token, *_session_limits())
