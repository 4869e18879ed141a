"""Read search parameters from a request, forgivingly: bad values fall back to defaults.

Forgiving, but bounded. Every link on a results page (each facet value switched on or off, the
chips, sorting, paging) carries the whole search, so a search with k filter values writes about
k links of k values each: 505 values made a 6.4 MB page. A search past the bounds below is
refused with SearchTooLarge (the web layer answers 400) instead of being served.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate
from urllib.parse import quote_plus, urlencode

from werkzeug.datastructures import MultiDict

from indexer import FACETS, SORTS, normalize_text

__all__ = [
    "FACET_LABELS",
    "MAX_FILTER_VALUES",
    "MAX_QUERY_LENGTH",
    "MAX_VALUES_PER_FACET",
    "MAX_WORDS",
    "SearchParams",
    "SearchTooLarge",
]

FACET_LABELS = {
    "level": "Mức độ nhân rộng",
    "field": "Lĩnh vực",
    "province": "Tỉnh, thành phố",
    "unit": "Đơn vị",
    "year": "Năm",
}
# Values one facet may filter on. More than anyone ticks by hand: content/fields.yml has 13
# fields and there are 3 evidence levels, so every one fits; a reader who wants more than 20 of
# the 34 provinces, 20 years or 20 units is better served without that filter.
MAX_VALUES_PER_FACET = 20
# Values all facets together may filter on (e.g. 20 units, 13 fields and 7 years).
MAX_FILTER_VALUES = 40
# Characters of the search's arguments, both as sent and as every link on its page writes them
# (percent-encoded). It is also about what gunicorn accepts in a request line (4094 bytes), and
# holds 20 unit names, 13 fields and a long query with room to spare (a unit name is ~100
# characters once encoded).
MAX_QUERY_LENGTH = 4096
# The words typed are never refused, only shortened: to 500 characters, and to half of
# MAX_QUERY_LENGTH once encoded (500 characters of ordinary Vietnamese take 1 000 to 2 000).
MAX_WORDS = 500


class SearchTooLarge(ValueError):
    """A search asks for more filter values, or a longer address, than one page may carry."""

    def __init__(self, message: str, query: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.query = query  # the words typed (a search for them alone is within bounds)


def _clean(value: str) -> str:
    """Normalise a filter value the way indexed values are (NFC, tone marks, spaces)."""
    return " ".join(normalize_text(value).split())[:200]


def _int(value: str | None, default: int, low: int, high: int) -> int:
    """Parse an integer within bounds; anything else gives default."""
    try:
        return min(high, max(low, int(value or "")))
    except ValueError:
        return default


def _too_long(length: int) -> str:
    """Return the message for a search whose arguments run to length characters."""
    return f"Yêu cầu tìm kiếm quá dài: tối đa {MAX_QUERY_LENGTH} ký tự (yêu cầu này có {length})."


def _words(text: str) -> str:
    """Shorten the typed words to MAX_WORDS characters and half of MAX_QUERY_LENGTH once encoded."""
    text = text.strip()[:MAX_WORDS]
    if len(quote_plus(text)) <= MAX_QUERY_LENGTH // 2:
        return text
    fits = sum(1 for n in accumulate(len(quote_plus(c)) for c in text) if n <= MAX_QUERY_LENGTH // 2)
    return text[:fits].strip()


@dataclass(frozen=True)
class SearchParams:
    """The query, facet filters and page a user asked for."""

    q: str
    filters: dict[str, list[str]]
    page: int
    per_page: int
    sort: str = "relevance"
    exact: bool = False  # "tìm đúng": search the words as typed, never respelled

    @classmethod
    def from_args(cls, args: MultiDict[str, str], per_page: int, max_per_page: int = 100) -> SearchParams:
        """Read q, field, province, unit, year, level (each repeatable), page, per_page and sort.

        Raise SearchTooLarge past MAX_VALUES_PER_FACET, MAX_FILTER_VALUES or MAX_QUERY_LENGTH.
        """
        q = _words(args.get("q") or "")
        # Every other argument counts, unknown or repeated ones too; encoding never shortens text.
        sent = sum(len(k) + len(v) + 2 for k, v in args.items(multi=True)) - len(args.get("q") or "")
        if sent > MAX_QUERY_LENGTH:
            raise SearchTooLarge(_too_long(sent), q)
        filters = {name: list(dict.fromkeys(_clean(v) for v in args.getlist(name) if _clean(v))) for name in FACETS}
        params = cls(
            q=q,
            filters={k: v for k, v in filters.items() if v},
            page=_int(args.get("page"), 1, 1, 10_000),
            per_page=_int(args.get("per_page"), per_page, 1, max_per_page),
            sort=args.get("sort") if args.get("sort") in SORTS else "relevance",
            exact=args.get("exact") == "1",
        )
        params.check_bounds()
        return params

    def check_bounds(self) -> None:
        """Raise SearchTooLarge if a page of this search would carry too many or too long links."""
        query = _words(self.q)
        for name, values in self.filters.items():
            if len(values) > MAX_VALUES_PER_FACET:
                raise SearchTooLarge(
                    f"Quá nhiều bộ lọc: tối đa {MAX_VALUES_PER_FACET} giá trị cho mỗi mục lọc "
                    f"(mục “{FACET_LABELS[name]}” đang có {len(values)}).",
                    query,
                )
        chosen = sum(len(values) for values in self.filters.values())
        if chosen > MAX_FILTER_VALUES:
            raise SearchTooLarge(
                f"Quá nhiều bộ lọc: tối đa {MAX_FILTER_VALUES} giá trị lọc cho một lần tìm (đang có {chosen}).", query
            )
        written = len(urlencode(self.args(), doseq=True))
        if written > MAX_QUERY_LENGTH:
            raise SearchTooLarge(_too_long(written), query)

    def args(self, **changes: object) -> dict[str, object]:
        """Return URL arguments for these parameters with changes applied (page resets to 1)."""
        values: dict[str, object] = {"q": self.q or None, **{k: list(v) for k, v in self.filters.items()}}
        if self.sort != "relevance":
            values["sort"] = self.sort
        if self.exact:
            values["exact"] = "1"
        values.update(changes)
        return {k: v for k, v in values.items() if v not in (None, "", [], 1)}

    def toggled(self, name: str, value: str) -> dict[str, object]:
        """Return URL arguments with one facet value switched on or off."""
        current = self.filters.get(name, [])
        chosen = [v for v in current if v != value] if value in current else [*current, value]
        return self.args(**{name: chosen})
