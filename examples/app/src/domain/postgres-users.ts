import { createHash } from "node:crypto";
import { StoreError } from "login-manager";
import type { Pool, PoolClient, QueryResultRow } from "pg";
import type { NewUser, UserRepository } from "./users.js";
import { DuplicateEmailError, DuplicateUsernameError, isServiceUnavailable, User } from "./users.js";

interface UserRow extends QueryResultRow {
  id: string;
  username: string;
  username_key: string;
  password_hash: string;
  active: boolean;
  created_at: Date;
  email: string | null;
  email_verified: boolean;
}

const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;
const COLUMNS = "id, username, username_key, password_hash, active, created_at, email, email_verified";
/** PostgreSQL's SQLSTATE for a unique violation. */
const UNIQUE_VIOLATION = "23505";

/**
 * {@link UserRepository} on PostgreSQL, sharing the app's `pg.Pool` (which it never ends). The
 * `users` table is created in `schema` on first use, under the transaction-scoped advisory lock that
 * `PostgresStore` uses for the same schema, so instances starting together are safe and a second
 * start changes nothing; a table of an earlier version gets the e-mail columns (its users keep
 * working, with no address until they add one). `username_key` (NFKC + case folded by the app) and
 * `email_key` (lowercased) are UNIQUE, so case and look-alike variants cannot both register, even
 * from two instances at the same moment.
 *
 * A database that cannot be reached rejects with a login-manager `StoreError` flagged
 * `unavailable`, so the user loader and the login and register pages answer 503 (never 500, never
 * "wrong password"); the table is created again on the next call after a failed first attempt.
 *
 * @example
 * ```ts
 * const users = new PostgresUserRepository(new pg.Pool({ connectionString: process.env.DATABASE_URL }));
 * const alice = await users.findByKey("alice");
 * ```
 */
export class PostgresUserRepository implements UserRepository {
  readonly #pool: Pool;
  readonly #schema: string;
  readonly #table: string;
  #ready: Promise<void> | undefined;
  #migrated = false;

  constructor(pool: Pool, options: { schema?: string } = {}) {
    const schema = options.schema ?? "public";
    if (!SCHEMA_PATTERN.test(schema)) {
      throw new Error(`PostgresUserRepository schema ${JSON.stringify(schema)} is not a plain identifier`);
    }
    this.#pool = pool;
    this.#schema = schema;
    this.#table = `"${schema}"."users"`;
  }

  async findById(id: string): Promise<User | null> {
    if (!/^[1-9]\d{0,15}$/.test(id)) return null;
    return this.#one("findById", `SELECT ${COLUMNS} FROM ${this.#table} WHERE id = $1`, [id]);
  }

  async findByKey(key: string): Promise<User | null> {
    return this.#one("findByKey", `SELECT ${COLUMNS} FROM ${this.#table} WHERE username_key = $1`, [key]);
  }

  async findByEmail(emailKey: string): Promise<User | null> {
    return this.#one("findByEmail", `SELECT ${COLUMNS} FROM ${this.#table} WHERE email_key = $1`, [emailKey]);
  }

  async create(input: NewUser): Promise<User> {
    try {
      const user = await this.#one(
        "create",
        `INSERT INTO ${this.#table} (username, username_key, email, email_key, password_hash) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
        [input.username, input.key, input.email, input.emailKey, input.passwordHash],
      );
      if (!user) throw new Error("INSERT ... RETURNING returned no row");
      return user;
    } catch (error) {
      throw duplicateError(error) ?? error;
    }
  }

  async setVerifiedEmail(id: number, email: { email: string; key: string }): Promise<void> {
    try {
      await this.#query(
        "setVerifiedEmail",
        `UPDATE ${this.#table} SET email = $2, email_key = $3, email_verified = true WHERE id = $1`,
        [id, email.email, email.key],
      );
    } catch (error) {
      throw duplicateError(error) ?? error;
    }
  }

  async updatePasswordHash(id: number, passwordHash: string): Promise<void> {
    await this.#query("updatePasswordHash", `UPDATE ${this.#table} SET password_hash = $2 WHERE id = $1`, [
      id,
      passwordHash,
    ]);
  }

  async setActive(id: number, active: boolean): Promise<void> {
    await this.#query("setActive", `UPDATE ${this.#table} SET active = $2 WHERE id = $1`, [id, active]);
  }

  async #one(operation: string, text: string, values: unknown[]): Promise<User | null> {
    const rows = await this.#query(operation, text, values);
    const row = rows[0];
    return row ? toUser(row) : null;
  }

  async #query(operation: string, text: string, values: unknown[]): Promise<UserRow[]> {
    try {
      if (!this.#migrated) await this.#migrate();
      return (await this.#pool.query<UserRow>(text, values)).rows;
    } catch (error) {
      if (!isServiceUnavailable(error)) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new StoreError(`PostgresUserRepository.${operation}: PostgreSQL is unavailable (${reason})`, {
        cause: error,
        unavailable: true,
      });
    }
  }

  #migrate(): Promise<void> {
    this.#ready ??= this.#createTable().then(
      () => {
        this.#migrated = true;
      },
      (error: unknown) => {
        this.#ready = undefined;
        throw error;
      },
    );
    return this.#ready;
  }

  async #createTable(): Promise<void> {
    const client = await this.#pool.connect();
    let failure: Error | undefined;
    const onError = (error: Error) => {
      failure = error;
    };
    client.on("error", onError);
    try {
      await client.query("BEGIN");
      await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [migrationLockKey(this.#schema)]);
      const found = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [this.#schema]);
      if (found.rowCount === 0) await client.query(`CREATE SCHEMA IF NOT EXISTS "${this.#schema}"`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${this.#table} (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username text NOT NULL,
  username_key text NOT NULL UNIQUE,
  password_hash text NOT NULL,
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now()
)`);
      await addEmailColumns(client, this.#schema, this.#table);
      await client.query("COMMIT");
    } catch (error) {
      failure ??= error instanceof Error ? error : new Error(String(error));
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.off("error", onError);
      // A client that failed is destroyed rather than returned to the pool.
      client.release(failure);
    }
  }
}

/**
 * Adds what came after the first release (the e-mail columns and their unique index) when missing,
 * so a table made by it is brought up to date; an up-to-date table takes no lock here.
 */
async function addEmailColumns(client: PoolClient, schema: string, table: string): Promise<void> {
  const found = await client.query<{ column_name: string }>(
    "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'users'",
    [schema],
  );
  const present = new Set(found.rows.map((row) => row.column_name));
  const added: Array<[string, string]> = [
    ["email", "text"],
    ["email_key", "text"],
    ["email_verified", "boolean NOT NULL DEFAULT false"],
  ];
  for (const [name, definition] of added) {
    if (!present.has(name)) await client.query(`ALTER TABLE ${table} ADD COLUMN ${name} ${definition}`);
  }
  const index = await client.query(
    "SELECT 1 FROM pg_indexes WHERE schemaname = $1 AND indexname = 'users_email_key'",
    [schema],
  );
  if (index.rowCount === 0) await client.query(`CREATE UNIQUE INDEX users_email_key ON ${table} (email_key)`);
}

/** Converts a row; `id` is a bigint, which `pg` returns as a string. */
function toUser(row: UserRow): User {
  return new User(
    Number(row.id),
    row.username,
    row.password_hash,
    row.active,
    new Date(row.created_at),
    row.email,
    row.email_verified,
  );
}

/** The duplicate error for a unique violation of `username_key` or `email_key`; undefined otherwise. */
function duplicateError(error: unknown): Error | undefined {
  const cause = (error instanceof StoreError ? error.cause : error) as {
    code?: unknown;
    constraint?: unknown;
  } | null;
  if (cause?.code !== UNIQUE_VIOLATION) return undefined;
  return cause.constraint === "users_email_key" ? new DuplicateEmailError() : new DuplicateUsernameError();
}

/**
 * The advisory lock `PostgresStore` takes while it creates its tables in `schema` (same derivation),
 * so the store and this repository never race to create a new schema.
 */
function migrationLockKey(schema: string): string {
  const digest = createHash("sha256").update(`login-manager:migrate:${schema}`).digest();
  return digest.readBigInt64BE(0).toString();
}
