"""Turn titles into the ASCII slugs that name entry files and URLs."""

from __future__ import annotations

import re

from indexer import fold_accents, normalize_text

__all__ = ["SLUG_RE", "slugify", "unique_slug"]

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def slugify(title: str) -> str:
    """Return title in lowercase ASCII, diacritics removed, other runs turned into "-"."""
    ascii_title = fold_accents(normalize_text(title)).lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title).strip("-")


def unique_slug(title: str, taken: set[str]) -> str:
    """Return the slug of title, with -2, -3, … appended while it is already taken."""
    base = slugify(title) or "mo-hinh"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug
