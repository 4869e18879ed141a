-- The tables of a database made by kb/store.py at commit 5873432 (2026-11-29),
-- "Foundation: entries, Vietnamese-aware Whoosh index, Flask search site,": sqlite_master's SQL, in order.
CREATE TABLE "entries" (
   "slug" TEXT PRIMARY KEY,
   "title" TEXT NOT NULL,
   "summary" TEXT,
   "unit" TEXT,
   "province" TEXT,
   "fields" TEXT,
   "tags" TEXT,
   "year" INTEGER,
   "status" TEXT NOT NULL,
   "path" TEXT NOT NULL,
   "content_hash" TEXT,
   "updated_at" TEXT,
   "indexed_at" TEXT,
   "source" TEXT,
   "contact" TEXT,
   "body_html" TEXT
);
CREATE UNIQUE INDEX "idx_entries_path"
    ON "entries" ("path");
CREATE INDEX "idx_entries_status_year"
    ON "entries" ("status", "year");
