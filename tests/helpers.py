"""Helpers for tests that go through the site's forms the way a browser does."""

from __future__ import annotations

import re

PASSWORD = "mat-khau-du-dai-1"


def token(html: str) -> str:
    """Return the CSRF token of the first form in a page."""
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def login(client, name: str, password: str = PASSWORD, next_url: str | None = None):
    """Sign in through the login form."""
    page = client.get("/login").get_data(as_text=True)
    url = "/login" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"name": name, "password": password, "csrf_token": token(page)})
