"""Asking before an action that is hard to undo: a page that says what will happen, with Xác nhận and Hủy.

A form for such an action posts without ``confirmed``; the view then answers with this page
instead of acting, and the page posts the same values again with ``confirmed=1``. It needs no
JavaScript, and a request made without the page (a replayed or crafted form) never acts blindly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import render_template, request

__all__ = ["Confirmation", "confirmation_page", "confirmed"]


@dataclass
class Confirmation:
    """What the confirmation page shows and posts again."""

    title: str  # the question, e.g. "Lưu trữ mục “…”?"
    consequences: list[str]  # what will happen, one sentence a line
    button: str  # the label of the confirming button, e.g. "Lưu trữ"
    action: str  # where the form posts
    cancel: str  # where Hủy goes back to
    hidden: dict[str, str] = field(default_factory=dict)


def confirmed() -> bool:
    """Return whether the posted form comes from the confirmation page."""
    return request.form.get("confirmed") == "1"


def confirmation_page(confirmation: Confirmation, form, code: int = 200):
    """Return the page asking to confirm (form carries the CSRF token and any field to show)."""
    return render_template("confirm.html", confirm=confirmation, form=form), code
