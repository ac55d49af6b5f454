import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";

/** Name of the SQLite file in the data folder: users and sessions live in it. */
export const DATABASE_FILE_NAME = "app.db";

/**
 * Opens (creating when needed) the app's SQLite database in `dataDir` with node:sqlite (built into
 * Node.js: nothing to install or compile), WAL journaling and `synchronous = FULL`, so every
 * acknowledged write survives a crash or `kill -9`. The session store shares this connection.
 *
 * @example
 * ```ts
 * const db = openDatabase("./data");
 * ```
 */
export function openDatabase(dataDir: string): DatabaseSync {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = new DatabaseSync(join(dataDir, DATABASE_FILE_NAME));
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = FULL");
  db.exec("PRAGMA foreign_keys = ON");
  return db;
}
