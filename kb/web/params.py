"""Read search parameters from a request, forgivingly: bad values fall back to defaults."""

from __future__ import annotations

from dataclasses import dataclass

from werkzeug.datastructures import MultiDict

from indexer import FACETS, SORTS, normalize_text

__all__ = ["SearchParams"]


def _clean(value: str) -> str:
    """Normalise a filter value the way indexed values are (NFC, tone marks, spaces)."""
    return " ".join(normalize_text(value).split())[:200]


def _int(value: str | None, default: int, low: int, high: int) -> int:
    """Parse an integer within bounds; anything else gives default."""
    try:
        return min(high, max(low, int(value or "")))
    except ValueError:
        return default


@dataclass(frozen=True)
class SearchParams:
    """The query, facet filters and page a user asked for."""

    q: str
    filters: dict[str, list[str]]
    page: int
    per_page: int
    sort: str = "relevance"

    @classmethod
    def from_args(cls, args: MultiDict[str, str], per_page: int, max_per_page: int = 100) -> SearchParams:
        """Read q, field, province, unit, year, level (each repeatable), page, per_page and sort."""
        filters = {name: list(dict.fromkeys(_clean(v) for v in args.getlist(name) if _clean(v))) for name in FACETS}
        return cls(
            q=(args.get("q") or "").strip()[:500],
            filters={k: v for k, v in filters.items() if v},
            page=_int(args.get("page"), 1, 1, 10_000),
            per_page=_int(args.get("per_page"), per_page, 1, max_per_page),
            sort=args.get("sort") if args.get("sort") in SORTS else "relevance",
        )

    def args(self, **changes: object) -> dict[str, object]:
        """Return URL arguments for these parameters with changes applied (page resets to 1)."""
        values: dict[str, object] = {"q": self.q or None, **{k: list(v) for k, v in self.filters.items()}}
        if self.sort != "relevance":
            values["sort"] = self.sort
        values.update(changes)
        return {k: v for k, v in values.items() if v not in (None, "", [], 1)}

    def toggled(self, name: str, value: str) -> dict[str, object]:
        """Return URL arguments with one facet value switched on or off."""
        current = self.filters.get(name, [])
        chosen = [v for v in current if v != value] if value in current else [*current, value]
        return self.args(**{name: chosen})
