"""The security headers of every response: the site loads, runs and frames nothing from elsewhere."""

from __future__ import annotations

import os

from flask import Flask

__all__ = ["SECURITY_HEADERS", "init_app"]

# Every asset is served by the site itself: nothing else may load, run or frame a page.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def _secure_headers(response):
    """Add the security headers to every response."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    """Add the security headers to every response of the app (and the node's name, where set)."""
    app.after_request(_secure_headers)
    node = os.environ.get("KB_NODE_NAME", "").strip()
    if node:  # several nodes behind nginx (deploy/nginx-nodes.conf): which one answered

        def _name_node(response):
            response.headers["X-Kho-Node"] = node
            return response

        app.after_request(_name_node)
