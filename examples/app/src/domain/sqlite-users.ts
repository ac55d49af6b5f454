import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { UserRepository } from "./users.js";
import { DuplicateUsernameError, User } from "./users.js";

/** SQLite's extended result code for a UNIQUE violation, node:sqlite's `errcode`. */
const SQLITE_CONSTRAINT_UNIQUE = 2067;

interface UserRow {
  id: number;
  username: string;
  username_key: string;
  password_hash: string;
  active: number;
  created_at: number;
}

/**
 * {@link UserRepository} on the app's SQLite database (the same file as the sessions). Creates the
 * `users` table on first use; `username_key` (NFKC + case folded) is UNIQUE, so look-alikes and case
 * variants cannot both register even under concurrent requests.
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
  readonly #insert: StatementSync;
  readonly #updateHash: StatementSync;
  readonly #setActive: StatementSync;

  constructor(db: DatabaseSync) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS users (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        username TEXT NOT NULL,
        username_key TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
        created_at INTEGER NOT NULL
      )`);
    this.#byId = db.prepare("SELECT * FROM users WHERE id = ?");
    this.#byKey = db.prepare("SELECT * FROM users WHERE username_key = ?");
    this.#insert = db.prepare(
      "INSERT INTO users (username, username_key, password_hash, created_at) VALUES (?, ?, ?, ?) RETURNING *",
    );
    this.#updateHash = db.prepare("UPDATE users SET password_hash = ? WHERE id = ?");
    this.#setActive = db.prepare("UPDATE users SET active = ? WHERE id = ?");
  }

  async findById(id: string): Promise<User | null> {
    if (!/^[1-9]\d{0,15}$/.test(id)) return null;
    return toUser(this.#byId.get(Number(id)));
  }

  async findByKey(key: string): Promise<User | null> {
    return toUser(this.#byKey.get(key));
  }

  async create(input: { username: string; key: string; passwordHash: string }): Promise<User> {
    try {
      const row = this.#insert.get(input.username, input.key, input.passwordHash, Date.now());
      const user = toUser(row);
      if (!user) throw new Error("INSERT ... RETURNING returned no row");
      return user;
    } catch (error) {
      if ((error as { errcode?: unknown }).errcode === SQLITE_CONSTRAINT_UNIQUE)
        throw new DuplicateUsernameError();
      throw error;
    }
  }

  async updatePasswordHash(id: number, passwordHash: string): Promise<void> {
    this.#updateHash.run(passwordHash, id);
  }

  async setActive(id: number, active: boolean): Promise<void> {
    this.#setActive.run(active ? 1 : 0, id);
  }
}

/** A `users` row (node:sqlite types rows loosely) as a User, or null when there is none. */
function toUser(found: unknown): User | null {
  if (!found) return null;
  const row = found as UserRow;
  return new User(row.id, row.username, row.password_hash, row.active === 1, new Date(row.created_at));
}
