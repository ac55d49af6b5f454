import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { NewUser, UserRepository } from "./users.js";
import { DuplicateEmailError, DuplicateUsernameError, User } from "./users.js";

/** SQLite's extended result code for a UNIQUE violation, node:sqlite's `errcode`. */
const SQLITE_CONSTRAINT_UNIQUE = 2067;

interface UserRow {
  id: number;
  username: string;
  username_key: string;
  password_hash: string;
  active: number;
  created_at: number;
  email: string | null;
  email_verified: number;
}

/** The columns added after the first release, with their definitions, for files made before them. */
const ADDED_COLUMNS: ReadonlyArray<readonly [string, string]> = [
  ["email", "TEXT"],
  ["email_key", "TEXT"],
  ["email_verified", "INTEGER NOT NULL DEFAULT 0 CHECK (email_verified IN (0, 1))"],
];

/**
 * {@link UserRepository} on the app's SQLite database (the same file as the sessions). Creates the
 * `users` table on first use, and adds the e-mail columns to a table of an earlier version (its
 * users keep working, with no address until they add one). `username_key` (NFKC + case folded) and
 * `email_key` (lowercased) are UNIQUE, so case variants cannot both register even under concurrent
 * requests.
 *
 * @example
 * ```ts
 * const users = new SqliteUserRepository(openDatabase("./data"));
 * const alice = await users.findByKey("alice");
 * ```
 */
export class SqliteUserRepository implements UserRepository {
  readonly #byId: StatementSync;
  readonly #byKey: StatementSync;
  readonly #byEmail: StatementSync;
  readonly #insert: StatementSync;
  readonly #updateHash: StatementSync;
  readonly #setEmail: StatementSync;
  readonly #setActive: StatementSync;

  constructor(db: DatabaseSync) {
    migrate(db);
    this.#byId = db.prepare("SELECT * FROM users WHERE id = ?");
    this.#byKey = db.prepare("SELECT * FROM users WHERE username_key = ?");
    this.#byEmail = db.prepare("SELECT * FROM users WHERE email_key = ?");
    this.#insert = db.prepare(
      "INSERT INTO users (username, username_key, email, email_key, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
    );
    this.#updateHash = db.prepare("UPDATE users SET password_hash = ? WHERE id = ?");
    this.#setEmail = db.prepare("UPDATE users SET email = ?, email_key = ?, email_verified = 1 WHERE id = ?");
    this.#setActive = db.prepare("UPDATE users SET active = ? WHERE id = ?");
  }

  async findById(id: string): Promise<User | null> {
    if (!/^[1-9]\d{0,15}$/.test(id)) return null;
    return toUser(this.#byId.get(Number(id)));
  }

  async findByKey(key: string): Promise<User | null> {
    return toUser(this.#byKey.get(key));
  }

  async findByEmail(emailKey: string): Promise<User | null> {
    return toUser(this.#byEmail.get(emailKey));
  }

  async create(input: NewUser): Promise<User> {
    try {
      const row = this.#insert.get(
        input.username,
        input.key,
        input.email,
        input.emailKey,
        input.passwordHash,
        Date.now(),
      );
      const user = toUser(row);
      if (!user) throw new Error("INSERT ... RETURNING returned no row");
      return user;
    } catch (error) {
      throw duplicateError(error) ?? error;
    }
  }

  async updatePasswordHash(id: number, passwordHash: string): Promise<void> {
    this.#updateHash.run(passwordHash, id);
  }

  async setVerifiedEmail(id: number, email: { email: string; key: string }): Promise<void> {
    try {
      this.#setEmail.run(email.email, email.key, id);
    } catch (error) {
      throw duplicateError(error) ?? error;
    }
  }

  async setActive(id: number, active: boolean): Promise<void> {
    this.#setActive.run(active ? 1 : 0, id);
  }
}

/**
 * Creates the table, or brings one of an earlier version up to date, in one write transaction (two
 * processes opening the same file cannot both add a column).
 */
function migrate(db: DatabaseSync): void {
  db.exec("BEGIN IMMEDIATE");
  try {
    db.exec(`
      CREATE TABLE IF NOT EXISTS users (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        username TEXT NOT NULL,
        username_key TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
        created_at INTEGER NOT NULL
      )`);
    const present = new Set(
      (db.prepare("PRAGMA table_info(users)").all() as Array<{ name: string }>).map((column) => column.name),
    );
    for (const [name, definition] of ADDED_COLUMNS) {
      if (!present.has(name)) db.exec(`ALTER TABLE users ADD COLUMN ${name} ${definition}`);
    }
    db.exec("CREATE UNIQUE INDEX IF NOT EXISTS users_email_key ON users (email_key)");
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}

/** The duplicate error for a UNIQUE violation of `username_key` or `email_key`; undefined otherwise. */
function duplicateError(error: unknown): Error | undefined {
  if ((error as { errcode?: unknown }).errcode !== SQLITE_CONSTRAINT_UNIQUE) return undefined;
  return /users\.email_key/.test((error as Error).message)
    ? new DuplicateEmailError()
    : new DuplicateUsernameError();
}

/** A `users` row (node:sqlite types rows loosely) as a User, or null when there is none. */
function toUser(found: unknown): User | null {
  if (!found) return null;
  const row = found as UserRow;
  return new User(
    row.id,
    row.username,
    row.password_hash,
    row.active === 1,
    new Date(row.created_at),
    row.email,
    row.email_verified === 1,
  );
}
