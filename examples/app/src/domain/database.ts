import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";

/** Name of the SQLite file in the data folder: users and sessions live in it. */
export const DATABASE_FILE_NAME = "app.db";

/**
 * Opens (creating when needed) the app's SQLite database in `dataDir` with WAL journaling and
 * `synchronous = FULL`, so every acknowledged write survives a crash or `kill -9`.
 *
 * @example
 * ```ts
 * const db = openDatabase("./data");
 * ```
 */
export function openDatabase(dataDir: string): Database.Database {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = new Database(join(dataDir, DATABASE_FILE_NAME));
  db.pragma("busy_timeout = 5000");
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.pragma("foreign_keys = ON");
  return db;
}
