"""Kho mô hình hay: the knowledge base of the Border Guard's good-practice models."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["create_app"]


def _env_int(name: str, default: int) -> int:
    """Return a whole-number setting from the environment, or default when it is unset."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} phải là một số nguyên, không phải {value!r}.") from None


def _env_flag(name: str, default: bool) -> bool:
    """Return a yes/no setting from the environment ("1", "true", "yes" mean yes), or default."""
    value = os.environ.get(name, "").strip().lower()
    return default if not value else value in ("1", "true", "yes")


_TEMPLATE_CODE = None  # the process's compiled templates, by template name and source checksum


def _compiled_templates():
    """Return the process's bytecode cache of compiled templates (Jinja keys it by source checksum,
    so a changed template is compiled again)."""
    global _TEMPLATE_CODE
    if _TEMPLATE_CODE is None:
        from jinja2 import BytecodeCache

        class MemoryBytecodeCache(BytecodeCache):
            """Compiled templates kept in this process's memory."""

            def __init__(self) -> None:
                self.code: dict[str, bytes] = {}

            def load_bytecode(self, bucket) -> None:
                if (code := self.code.get(bucket.key)) is not None:
                    bucket.bytecode_from_string(code)

            def dump_bytecode(self, bucket) -> None:
                self.code[bucket.key] = bucket.bytecode_to_string()

        _TEMPLATE_CODE = MemoryBytecodeCache()
    return _TEMPLATE_CODE


def create_app(test_config: dict[str, Any] | None = None):
    """Create the Flask app: defaults, then the environment, then test_config."""
    from flask import Flask

    from . import cli, web

    # The site folder holds templates/ and static/, and by default content/ and instance/. It is
    # needed before the other settings: Flask finds the templates and static files from it.
    site = (test_config or {}).get("KB_SITE_DIR") or os.environ.get("KB_SITE_DIR") or Path.cwd()
    site = Path(site).resolve()
    app = Flask(__name__, root_path=str(site), instance_path=str(site / "instance"))
    # Apps made in one process (the test suite makes hundreds) compile each template once.
    app.jinja_options = {**app.jinja_options, "bytecode_cache": _compiled_templates()}
    app.config.from_mapping(
        KB_SITE_DIR=site,
        KB_CONTENT_DIR=os.environ.get("KB_CONTENT_DIR", str(site / "content")),
        KB_DATA_DIR=os.environ.get("KB_DATA_DIR", app.instance_path),
        KB_PER_PAGE=10,
        # Keep recent result pages per index version (turned off to measure raw search speed).
        KB_RESULT_CACHE=os.environ.get("KB_RESULT_CACHE", "1") not in ("0", "false", "no"),
        # Signs session cookies; unset, a key is made once and kept in the data folder.
        SECRET_KEY=os.environ.get("SECRET_KEY") or None,
        # Behind HTTPS, KB_SECURE_COOKIES=1 so the cookie never travels in clear text.
        KB_SECURE_COOKIES=_env_flag("KB_SECURE_COOKIES", False),
        # Behind a reverse proxy, KB_PROXY_HOPS=1 makes the client's address (for sign-in
        # throttling and the audit log) the one the proxy reports, not the proxy's own.
        KB_PROXY_HOPS=_env_int("KB_PROXY_HOPS", 0),
        # A session ends after this long without a request, and this long after signing in.
        KB_SESSION_IDLE_MINUTES=_env_int("KB_SESSION_IDLE_MINUTES", 8 * 60),
        KB_SESSION_MAX_HOURS=_env_int("KB_SESSION_MAX_HOURS", 24),
        # Days the audit log and the search log are kept (0: forever).
        KB_AUDIT_RETENTION_DAYS=_env_int("KB_AUDIT_RETENTION_DAYS", 730),
        KB_SEARCH_LOG_RETENTION_DAYS=_env_int("KB_SEARCH_LOG_RETENTION_DAYS", 730),
        JSON_AS_ASCII=False,
    )
    if test_config:
        app.config.update(test_config)
    app.config["KB_CONTENT_DIR"] = Path(app.config["KB_CONTENT_DIR"]).resolve()
    app.config["KB_DATA_DIR"] = Path(app.config["KB_DATA_DIR"]).resolve()
    app.json.ensure_ascii = False
    web.init_app(app)
    cli.init_app(app)
    return app
