"""Answers in formats other than HTML: CSV that spreadsheets read, and XML every feed reader can parse."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

from flask import Response, current_app
from markupsafe import Markup

__all__ = ["csv_download", "render_xml", "xml_safe"]

# Everything outside XML 1.0's Char production: C0 controls but tab, LF and CR; lone surrogates;
# U+FFFE and U+FFFF. One of them anywhere makes the whole document unreadable to a feed reader.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def csv_download(filename: str, columns: Sequence[str], rows: Iterable[tuple[str, int]]) -> Response:
    """Return (label, count) rows as a CSV file (UTF-8 with a byte-order mark, so spreadsheets read the diacritics)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows((_cell(label), count) for label, count in rows)
    return Response(
        "\ufeff" + out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _cell(text: str) -> str:
    """Keep a spreadsheet from reading a label as a formula (a title could start with '=')."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def xml_safe(text: str) -> str:
    """Remove the characters XML 1.0 forbids (control characters from Word or a terminal, NUL…)."""
    return _NOT_XML_CHAR.sub("", text)


def _xml_output(value: object) -> object:
    """Make every {{ … }} of an XML template XML-safe, keeping text already marked safe as such."""
    if not isinstance(value, str):
        return value
    cleaned = xml_safe(value)
    return Markup(cleaned) if isinstance(value, Markup) else cleaned


def render_xml(name: str, **context) -> str:
    """Render an XML template: every value written is cleaned, so no field can be forgotten."""
    app = current_app._get_current_object()
    env = app.extensions.get("kb_xml_templates")
    if env is None:  # the app's environment (loader, filters, url_for), finalising each output
        env = app.extensions["kb_xml_templates"] = app.jinja_env.overlay(finalize=_xml_output)
    app.update_template_context(context)
    return env.get_template(name).render(context)
