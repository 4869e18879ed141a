"""Render entry Markdown to safe HTML, and to the plain text that search indexes and quotes."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import markdown
import nh3

__all__ = ["plain_text", "render_markdown"]

_EXTENSIONS = ["extra", "sane_lists", "toc"]
_HEADING_IDS = {f"h{n}": {"id"} for n in range(1, 7)}
_BLOCKS = {
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "tr", "blockquote", "pre", "hr", "dt", "dd",
}  # fmt: skip


def _keep_local_media(tag: str, attr: str, value: str) -> str | None:
    """Keep only image sources on this site: the site must make no outside request."""
    if tag == "img" and attr == "src":
        # Browsers drop tabs/newlines, trim spaces and read "\\" as "/" in URLs: do the same first.
        url = re.sub(r"[\x00-\x20\x7f]", "", value).replace("\\", "/")
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or url.startswith("//"):
            return None
    return value


def render_markdown(source: str) -> str:
    """Render Markdown to HTML with raw HTML sanitised and no remote images."""
    md = markdown.Markdown(extensions=_EXTENSIONS, extension_configs=_toc_config(), output_format="html")
    html = md.convert(source)
    attributes = {**nh3.ALLOWED_ATTRIBUTES, **_HEADING_IDS}
    return nh3.clean(html, attributes=attributes, attribute_filter=_keep_local_media)


def _toc_config() -> dict[str, dict[str, object]]:
    """Give headings ASCII ids made like slugs, so links to sections are stable."""
    from .slugs import slugify

    return {"toc": {"permalink": False, "slugify": lambda value, _sep: slugify(value)}}


class _TextCollector(HTMLParser):
    """Collect the text of an HTML fragment, with a line break at each block."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(html: str) -> str:
    """Return the readable text of rendered HTML, one block per line."""
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    lines = (" ".join(line.split()) for line in "".join(collector.parts).splitlines())
    return "\n".join(line for line in lines if line)
