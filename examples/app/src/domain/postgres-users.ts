import { createHash } from "node:crypto";
import { StoreError } from "login-manager";
import type { Pool, QueryResultRow } from "pg";
import type { UserRepository } from "./users.js";
import { DuplicateUsernameError, isServiceUnavailable, User } from "./users.js";

interface UserRow extends QueryResultRow {
  id: string;
  username: string;
  username_key: string;
  password_hash: string;
  active: boolean;
  created_at: Date;
}

const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;
const COLUMNS = "id, username, username_key, password_hash, active, created_at";

/**
 * {@link UserRepository} on PostgreSQL, sharing the app's `pg.Pool` (which it never ends). The
 * `users` table is created in `schema` on first use, under the transaction-scoped advisory lock that
 * `PostgresStore` uses for the same schema, so instances starting together are safe and a second
 * start changes nothing. `username_key` (NFKC
 * + case folded by the app) is UNIQUE, so case and look-alike variants cannot both register, even
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

  async create(input: { username: string; key: string; passwordHash: string }): Promise<User> {
    try {
      const user = await this.#one(
        "create",
        `INSERT INTO ${this.#table} (username, username_key, password_hash) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`,
        [input.username, input.key, input.passwordHash],
      );
      if (!user) throw new Error("INSERT ... RETURNING returned no row");
      return user;
    } catch (error) {
      const cause = error instanceof StoreError ? error.cause : error;
      if ((cause as { code?: unknown } | null)?.code === "23505") throw new DuplicateUsernameError();
      throw error;
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

/** Converts a row; `id` is a bigint, which `pg` returns as a string. */
function toUser(row: UserRow): User {
  return new User(Number(row.id), row.username, row.password_hash, row.active, new Date(row.created_at));
}

/**
 * The advisory lock `PostgresStore` takes while it creates its tables in `schema` (same derivation),
 * so the store and this repository never race to create a new schema.
 */
function migrationLockKey(schema: string): string {
  const digest = createHash("sha256").update(`login-manager:migrate:${schema}`).digest();
  return digest.readBigInt64BE(0).toString();
}
