"""Web layer: the blueprints, one per audience, wired into the app with what they share."""

from __future__ import annotations

from flask import Flask

from ..dates import show_time, start_of
from . import admin, api, attachments, auth, drafting, editor, errors, headers, importing, ledger, public, resources

__all__ = ["init_app"]


def init_app(app: Flask) -> None:
    """Register the shared resources, the protections, the blueprints and the error pages."""
    resources.init_app(app)
    headers.init_app(app)
    auth.init_app(app)
    for blueprint in (public.bp, api.bp, editor.bp, drafting.bp, admin.bp, importing.bp, ledger.bp, attachments.bp):
        app.register_blueprint(blueprint)
    errors.init_app(app)
    # Every date and time people read: Vietnam's time, dd/mm/yyyy (ISO stays in files and the API).
    app.add_template_filter(show_time, "vn_time")
    app.add_template_filter(start_of, "atom_time")  # the feed: a full timestamp, even from a year
