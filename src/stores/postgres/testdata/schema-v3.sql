-- TEST FIXTURE, not shipped: sql/postgres.sql exactly as released for schema version 3 (before
-- sessions.auth_methods and the factors table), kept frozen so the tests can build a database of
-- that version and check that the store and the current sql/postgres.sql upgrade it. Never edit it.
--
-- login-manager: PostgreSQL tables for PostgresStore, schema version 3.
--
-- By default PostgresStore creates these tables itself on first use (option `migrate`, default
-- true). Teams that run migrations with their own tool apply this file instead and construct the
-- store with `migrate: false`:
--
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f node_modules/login-manager/sql/postgres.sql
--   new PostgresStore({ connectionString: process.env.DATABASE_URL, migrate: false })
--
-- * Names are unqualified, so the tables land in the first schema of search_path (normally
--   "public", the store's default `schema`). For another schema, run `SET search_path TO auth;`
--   first and pass `schema: "auth"` to the store.
-- * The "login_manager_" prefix matches the store's default `tablePrefix`. If you change the
--   option, replace the prefix everywhere below.
-- * Idempotent: every statement is IF NOT EXISTS / ON CONFLICT DO NOTHING, so running it twice is
--   harmless. It is the exact DDL the store runs itself (a test checks that both give the same
--   catalog).
-- * Upgrading: apply this file again over tables of an earlier version. It adds what is missing
--   (version 2: remember_tokens.rotated_by; version 3: the one_time_tokens table) and leaves the
--   rows alone. Needs PostgreSQL 9.6 or later.
-- * Timestamps are bigint milliseconds since the epoch taken from the application's clock.

BEGIN;

CREATE TABLE IF NOT EXISTS login_manager_schema_version (
  version integer PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT now()
);

-- Server-side sessions. The cookie holds <id>.<secret>; only the SHA-256 of the secret is stored.
CREATE TABLE IF NOT EXISTS login_manager_sessions (
  id text PRIMARY KEY,
  secret_hash text NOT NULL,
  user_id text NOT NULL,
  fresh boolean NOT NULL,
  created_at bigint NOT NULL,
  last_seen_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  absolute_expires_at bigint NOT NULL,
  fingerprint text NOT NULL,
  user_agent text NOT NULL,
  ip_address text NOT NULL,
  remember_selector text
);
-- Listing ("your sessions", oldest first) and revoking a user's sessions.
CREATE INDEX IF NOT EXISTS login_manager_sessions_user_id_idx ON login_manager_sessions (user_id, created_at);
-- deleteExpired sweeps.
CREATE INDEX IF NOT EXISTS login_manager_sessions_expires_at_idx ON login_manager_sessions (expires_at);

-- Remember-me tokens. The cookie holds <selector>.<validator>; only the SHA-256 of the validator is stored.
CREATE TABLE IF NOT EXISTS login_manager_remember_tokens (
  selector text PRIMARY KEY,
  validator_hash text NOT NULL,
  previous_validator_hash text,
  rotated_at bigint NOT NULL,
  user_id text NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL
);
-- Version 2: fingerprint hash of the client that created or last rotated the token ('' when unknown).
-- Added, not declared above, so that new and upgraded databases have the same columns in the same order.
ALTER TABLE login_manager_remember_tokens ADD COLUMN IF NOT EXISTS rotated_by text NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS login_manager_remember_tokens_user_id_idx ON login_manager_remember_tokens (user_id);
CREATE INDEX IF NOT EXISTS login_manager_remember_tokens_expires_at_idx ON login_manager_remember_tokens (expires_at);

-- Expiring counters: login failure budgets (per account and per client address) and credential
-- epochs. The table and column names predate the counter contract and stay as they are.
CREATE TABLE IF NOT EXISTS login_manager_failures (
  key text PRIMARY KEY,
  count integer NOT NULL,
  first_failure_at bigint NOT NULL,
  last_failure_at bigint NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS login_manager_failures_expires_at_idx ON login_manager_failures (expires_at);

-- Version 3: one-time tokens (password reset, e-mail verification, magic links). The link holds the
-- token; only its SHA-256 is stored. A token is consumed by deleting its row.
CREATE TABLE IF NOT EXISTS login_manager_one_time_tokens (
  token_hash text PRIMARY KEY,
  purpose text NOT NULL,
  user_id text NOT NULL,
  data text NOT NULL,
  epoch bigint NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL
);
-- Revoking a user's tokens (of one purpose or all).
CREATE INDEX IF NOT EXISTS login_manager_one_time_tokens_user_id_idx ON login_manager_one_time_tokens (user_id);
CREATE INDEX IF NOT EXISTS login_manager_one_time_tokens_expires_at_idx ON login_manager_one_time_tokens (expires_at);

INSERT INTO login_manager_schema_version (version) VALUES (3) ON CONFLICT (version) DO NOTHING;

COMMIT;
