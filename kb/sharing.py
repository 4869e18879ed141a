"""One site's sync with the shared repository: git's sync (kb.gitsync) wired to this site.

A conflict's losing entry becomes a proposal, what changed is reindexed, broken vocabulary files
are held back, and ledger records made before the ledger was kept in files join them first, so
that they travel too.
"""

from __future__ import annotations

from pathlib import Path

from . import gitsync
from .catalog import reindex
from .editing import propose_from_sync
from .replications import export_rows
from .store import content_lock, open_db
from .vocabulary import vocabulary_errors

__all__ = ["sync_site"]


def sync_site(content_dir: Path, data_dir: Path) -> gitsync.SyncReport:
    """Sync this site with KB_GIT_REMOTE now (after any sync already running) and return its report."""
    db = open_db(data_dir)
    if (content_dir / "models").is_dir():  # an empty folder joins by cloning: nothing of its own to write
        with content_lock(data_dir, wait=None):
            export_rows(content_dir, db)
    return gitsync.sync(
        content_dir,
        data_dir,
        on_conflict=lambda rel, mine, theirs: propose_from_sync(db, rel, mine, theirs),
        reindex=lambda _rels: gitsync.errors(reindex(content_dir, data_dir).problems),
        vet=vocabulary_errors,
    )
