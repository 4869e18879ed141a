-- The tables of a database made by kb/store.py at commit 962bd75 (2026-11-29),
-- "Index faster: analysis cached by content and run across cores, unchang": sqlite_master's SQL, in order.
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
   "body_html" TEXT,
   "body_text" TEXT
);
CREATE UNIQUE INDEX "idx_entries_path"
    ON "entries" ("path");
CREATE INDEX "idx_entries_status_year"
    ON "entries" ("status", "year");
CREATE TABLE "meta" (
   "key" TEXT PRIMARY KEY,
   "value" TEXT
);
