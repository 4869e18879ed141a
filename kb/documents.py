"""What the search index is given of an entry: from a freshly read file, or from its database row."""

from __future__ import annotations

from indexer import Document

from .entries import Entry
from .render import plain_text
from .replications import evidence_level
from .store import decode_row
from .vocabulary import Vocabulary

__all__ = ["Ledger", "row_document", "to_document"]

Ledger = dict[str, tuple[int, bool]]  # slug -> (units that adopted it, one completed)


def _ledger_fields(slug: str, ledger: Ledger) -> dict:
    """Return a document's evidence level and adoption count from the replication ledger."""
    units, completed = ledger.get(slug, (0, False))
    return {"level": evidence_level(units, completed), "adopted": units}


Files = tuple[tuple[str, str], ...]  # an entry's attached documents: (file name, the words inside)


def to_document(
    entry: Entry, body_text: str, vocab: Vocabulary, ledger: Ledger | None = None, files: Files = ()
) -> Document:
    """Return what the search index needs of an entry."""
    return Document(
        files=files,
        **_ledger_fields(entry.slug, ledger or {}),
        region=vocab.region(entry.province),
        slug=entry.slug,
        title=entry.title,
        summary=entry.summary,
        body_text=body_text,
        unit=entry.unit,
        province=entry.province,
        fields=entry.fields,
        tags=entry.tags,
        year=entry.year,
        status=entry.status,
    )


def row_document(row: dict, vocab: Vocabulary, ledger: Ledger, files: Files = ()) -> Document:
    """Rebuild the last good version of an entry from its database row."""
    row = decode_row(row)
    return Document(
        files=files,
        **_ledger_fields(row["slug"], ledger),
        slug=row["slug"],
        title=row["title"],
        summary=row["summary"],
        body_text=row["body_text"] if row.get("body_text") is not None else plain_text(row["body_html"] or ""),
        unit=row["unit"],
        province=row["province"],
        fields=tuple(row["fields"]),
        tags=tuple(row["tags"]),
        year=row["year"],
        status=row["status"],
        region=vocab.region(row["province"]),
    )
