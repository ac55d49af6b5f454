import { createHash } from "node:crypto";
import type { PoolClient } from "pg";
import { ConfigurationError } from "../../core/errors.js";

/**
 * The schema version this code creates, recorded in the `<prefix>schema_version` table;
 * `sql/postgres.sql` produces the same version. Version 2 added `remember_tokens.rotated_by`,
 * version 3 the `one_time_tokens` table, version 4 `sessions.auth_methods` and the `factors` table;
 * an older database is brought up to date by the store's migration or by applying the file again.
 *
 * @example
 * ```ts
 * const { rows } = await pool.query("SELECT max(version) AS v FROM login_manager_schema_version");
 * if (rows[0].v < SCHEMA_VERSION) console.warn("apply sql/postgres.sql");
 * ```
 */
export const SCHEMA_VERSION = 4;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
// Capped at 30 so the longest derived names ("<prefix>remember_tokens_expires_at_idx" and
// "<prefix>one_time_tokens_expires_at_idx") fit in PostgreSQL's 63-byte identifier limit instead
// of being silently truncated.
const TABLE_PREFIX = /^[a-z_][a-z0-9_]{0,29}$/;

/**
 * Quoted, schema-qualified table names for one `(schema, tablePrefix)` pair.
 *
 * @example
 * ```ts
 * const names = tableNames("public", "login_manager_");
 * names.sessions; // '"public"."login_manager_sessions"'
 * ```
 */
export interface TableNames {
  schema: string;
  prefix: string;
  sessions: string;
  rememberTokens: string;
  /** The counters table. Its name (`<prefix>failures`) predates the counter contract and stays. */
  counters: string;
  /** Version 3: password-reset, e-mail verification and other one-time tokens. */
  oneTimeTokens: string;
  /** Version 4: second factors (TOTP secrets, recovery codes, passkeys). */
  factors: string;
  schemaVersion: string;
}

/**
 * Validates the identifiers and returns the quoted table names.
 *
 * @example
 * ```ts
 * tableNames("auth", "lm_").counters; // '"auth"."lm_failures"'
 * ```
 */
export function tableNames(schema: string, prefix: string): TableNames {
  if (!SCHEMA_NAME.test(schema)) {
    throw new ConfigurationError(
      `PostgresStore schema ${JSON.stringify(schema)} is not allowed: use 1-63 lowercase letters, digits or underscores, not starting with a digit.`,
    );
  }
  if (!TABLE_PREFIX.test(prefix)) {
    throw new ConfigurationError(
      `PostgresStore tablePrefix ${JSON.stringify(prefix)} is not allowed: use 1-30 lowercase letters, digits or underscores, not starting with a digit (default "login_manager_").`,
    );
  }
  const table = (name: string) => `"${schema}"."${prefix}${name}"`;
  return {
    schema,
    prefix,
    sessions: table("sessions"),
    rememberTokens: table("remember_tokens"),
    counters: table("failures"),
    oneTimeTokens: table("one_time_tokens"),
    factors: table("factors"),
    schemaVersion: table("schema_version"),
  };
}

/**
 * The DDL of the current schema version, statement by statement, every one idempotent: run on an
 * empty schema it creates everything, run on an older version it adds what is missing.
 * `sql/postgres.sql` is the same DDL for the default prefix without a schema qualifier; a test keeps
 * the two in step.
 *
 * @example
 * ```ts
 * for (const statement of schemaStatements(tableNames("public", "login_manager_"))) await client.query(statement);
 * ```
 */
export function schemaStatements(names: TableNames): string[] {
  const index = (name: string) => `"${names.prefix}${name}"`;
  return [
    `CREATE TABLE IF NOT EXISTS ${names.sessions} (
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
)`,
    `CREATE INDEX IF NOT EXISTS ${index("sessions_user_id_idx")} ON ${names.sessions} (user_id, created_at)`,
    `CREATE INDEX IF NOT EXISTS ${index("sessions_expires_at_idx")} ON ${names.sessions} (expires_at)`,
    `CREATE TABLE IF NOT EXISTS ${names.rememberTokens} (
  selector text PRIMARY KEY,
  validator_hash text NOT NULL,
  previous_validator_hash text,
  rotated_at bigint NOT NULL,
  user_id text NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL
)`,
    // Version 2. Added rather than declared above, so a new database and an upgraded one have the
    // same column order; the default fills existing rows and inserts by an older release still running.
    `ALTER TABLE ${names.rememberTokens} ADD COLUMN IF NOT EXISTS rotated_by text NOT NULL DEFAULT ''`,
    `CREATE INDEX IF NOT EXISTS ${index("remember_tokens_user_id_idx")} ON ${names.rememberTokens} (user_id)`,
    `CREATE INDEX IF NOT EXISTS ${index("remember_tokens_expires_at_idx")} ON ${names.rememberTokens} (expires_at)`,
    `CREATE TABLE IF NOT EXISTS ${names.counters} (
  key text PRIMARY KEY,
  count integer NOT NULL,
  first_failure_at bigint NOT NULL,
  last_failure_at bigint NOT NULL,
  expires_at bigint NOT NULL
)`,
    `CREATE INDEX IF NOT EXISTS ${index("failures_expires_at_idx")} ON ${names.counters} (expires_at)`,
    // Version 3.
    `CREATE TABLE IF NOT EXISTS ${names.oneTimeTokens} (
  token_hash text PRIMARY KEY,
  purpose text NOT NULL,
  user_id text NOT NULL,
  data text NOT NULL,
  epoch bigint NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL
)`,
    `CREATE INDEX IF NOT EXISTS ${index("one_time_tokens_user_id_idx")} ON ${names.oneTimeTokens} (user_id)`,
    `CREATE INDEX IF NOT EXISTS ${index("one_time_tokens_expires_at_idx")} ON ${names.oneTimeTokens} (expires_at)`,
    // Version 4. Sessions of earlier releases (and inserts by one still running) get "": none recorded.
    `ALTER TABLE ${names.sessions} ADD COLUMN IF NOT EXISTS auth_methods text NOT NULL DEFAULT ''`,
    `CREATE TABLE IF NOT EXISTS ${names.factors} (
  kind text NOT NULL,
  id text NOT NULL,
  user_id text NOT NULL,
  label text NOT NULL,
  data text NOT NULL,
  counter bigint NOT NULL,
  created_at bigint NOT NULL,
  last_used_at bigint,
  PRIMARY KEY (kind, id)
)`,
    `CREATE INDEX IF NOT EXISTS ${index("factors_user_id_idx")} ON ${names.factors} (user_id, created_at)`,
  ];
}

function versionTableStatement(names: TableNames): string {
  return `CREATE TABLE IF NOT EXISTS ${names.schemaVersion} (
  version integer PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;
}

/**
 * A 64-bit advisory lock key derived from the schema name, as a decimal string. Keyed on the schema
 * alone so that stores with different prefixes creating the same new schema also take turns.
 *
 * @example
 * ```ts
 * await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [migrationLockKey("public")]);
 * ```
 */
export function migrationLockKey(schema: string): string {
  const digest = createHash("sha256").update(`login-manager:migrate:${schema}`).digest();
  return digest.readBigInt64BE(0).toString();
}

/**
 * Creates the schema (when missing), the tables and the indexes, and records the version, inside
 * one transaction holding a transaction-scoped advisory lock, so several instances starting at once
 * take turns and every one but the first finds nothing to do. The caller owns `client` and its
 * release.
 *
 * @example
 * ```ts
 * const client = await pool.connect();
 * try { await migrate(client, tableNames("public", "login_manager_")); } finally { client.release(); }
 * ```
 */
export async function migrate(client: PoolClient, names: TableNames): Promise<void> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [migrationLockKey(names.schema)]);
    await ensureSchema(client, names.schema);
    await client.query(versionTableStatement(names));
    const current = await client.query<{ version: number | null }>(
      `SELECT max(version) AS version FROM ${names.schemaVersion}`,
    );
    if ((current.rows[0]?.version ?? 0) < SCHEMA_VERSION) {
      for (const statement of schemaStatements(names)) await client.query(statement);
      await client.query(
        `INSERT INTO ${names.schemaVersion} (version) VALUES ($1) ON CONFLICT (version) DO NOTHING`,
        [SCHEMA_VERSION],
      );
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

// CREATE SCHEMA IF NOT EXISTS still needs the CREATE privilege on the database, so only run it
// when the schema is really missing: an app whose role may not create schemas still starts.
async function ensureSchema(client: PoolClient, schema: string): Promise<void> {
  const found = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]);
  if (found.rowCount === 0) await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
}
