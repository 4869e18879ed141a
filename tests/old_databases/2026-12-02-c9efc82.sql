-- The tables of a database made by kb/schema.py at commit c9efc82 (2026-12-02),
-- "Date the older figures in the docs" (migration m001_tables applied): sqlite_master's SQL, in order,
-- and the record of the migration applied.
CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
);
CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name");
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
   "published_at" TEXT,
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
CREATE TABLE "users" (
   "id" INTEGER PRIMARY KEY,
   "name" TEXT NOT NULL,
   "name_key" TEXT NOT NULL,
   "role" TEXT NOT NULL,
   "password_hash" TEXT NOT NULL,
   "disabled" INTEGER DEFAULT 0,
   "created_at" TEXT,
   "updated_at" TEXT,
   "session_version" INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX "idx_users_name_key"
    ON "users" ("name_key");
CREATE TABLE "login_attempts" (
   "name_key" TEXT,
   "address" TEXT,
   "at" REAL,
   "ok" INTEGER
);
CREATE INDEX "idx_login_attempts_name_key_at"
    ON "login_attempts" ("name_key", "at");
CREATE INDEX "idx_login_attempts_address_at"
    ON "login_attempts" ("address", "at");
CREATE TABLE "sessions" (
   "id" TEXT PRIMARY KEY,
   "user_id" INTEGER,
   "version" INTEGER,
   "created" REAL,
   "seen" REAL
);
CREATE INDEX "idx_sessions_user_id"
    ON "sessions" ("user_id");
CREATE TABLE "audit" (
   "id" INTEGER PRIMARY KEY,
   "at" TEXT,
   "actor" TEXT,
   "action" TEXT,
   "target" TEXT,
   "detail" TEXT,
   "address" TEXT,
   "repeats" INTEGER NOT NULL DEFAULT 1,
   "last_at" TEXT
);
CREATE INDEX "idx_audit_at"
    ON "audit" ("at");
CREATE TABLE "revisions" (
   "id" INTEGER PRIMARY KEY,
   "slug" TEXT NOT NULL,
   "created_at" TEXT,
   "author" TEXT,
   "comment" TEXT,
   "status" TEXT,
   "content_hash" TEXT NOT NULL,
   "text" TEXT NOT NULL
);
CREATE INDEX "idx_revisions_slug_id"
    ON "revisions" ("slug", "id");
CREATE TABLE "problems" (
   "path" TEXT,
   "line" INTEGER,
   "message" TEXT,
   "warning" INTEGER
);
CREATE INDEX "idx_problems_path"
    ON "problems" ("path");
CREATE TABLE "pending" (
   "path" TEXT PRIMARY KEY,
   "token" TEXT
);
CREATE TABLE "replications" (
   "id" INTEGER PRIMARY KEY,
   "slug" TEXT NOT NULL,
   "unit" TEXT NOT NULL,
   "province" TEXT,
   "start_date" TEXT,
   "status" TEXT NOT NULL,
   "adapted" TEXT,
   "result" TEXT,
   "contact" TEXT,
   "created_by" TEXT,
   "created_at" TEXT,
   "updated_by" TEXT,
   "updated_at" TEXT
);
CREATE INDEX "idx_replications_slug"
    ON "replications" ("slug");
CREATE TABLE "search_log" (
   "id" INTEGER PRIMARY KEY,
   "at" TEXT,
   "query" TEXT,
   "filters" TEXT,
   "results" INTEGER,
   "corrected" TEXT
);
CREATE INDEX "idx_search_log_query"
    ON "search_log" ("query");
CREATE INDEX "idx_search_log_at"
    ON "search_log" ("at");
CREATE TABLE "proposals" (
   "id" INTEGER PRIMARY KEY,
   "slug" TEXT NOT NULL,
   "created_at" TEXT,
   "author" TEXT,
   "comment" TEXT,
   "base_hash" TEXT,
   "text" TEXT NOT NULL,
   "state" TEXT NOT NULL,
   "decided_by" TEXT,
   "decided_at" TEXT,
   "base_text" TEXT
);
CREATE INDEX "idx_proposals_state_slug"
    ON "proposals" ("state", "slug");
CREATE TABLE "jobs" (
   "id" INTEGER PRIMARY KEY,
   "kind" TEXT,
   "status" TEXT,
   "phase" TEXT,
   "done" INTEGER,
   "total" INTEGER,
   "pid" INTEGER,
   "requested_by" TEXT,
   "started_at" TEXT,
   "finished_at" TEXT,
   "seconds" REAL,
   "summary" TEXT,
   "problems" TEXT
);
INSERT INTO "_sqlite_migrations" (migration_set, name, applied_at) VALUES ('kb', 'm001_tables', '2026-12-02 20:00:00.000000+00:00');
