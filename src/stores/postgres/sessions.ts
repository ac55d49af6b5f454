/**
 * The session part of the contract ({@link SessionStorage}) in SQL: one statement per method, each a
 * named prepared statement on the `<prefix>sessions` table.
 *
 * @module
 */
import type { QueryResultRow } from "pg";
import type { SessionPatch, SessionRecord, SessionStorage } from "../../core/store.js";
import type { PostgresDb } from "./connection.js";
import { deleteAllRows } from "./maintenance.js";

interface SessionRow extends QueryResultRow {
  id: string;
  secret_hash: string;
  user_id: string;
  fresh: boolean;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  absolute_expires_at: string;
  fingerprint: string;
  user_agent: string;
  ip_address: string;
  remember_selector: string | null;
  auth_methods: string;
}

const SESSION_COLUMNS =
  "id, secret_hash, user_id, fresh, created_at, last_seen_at, expires_at, absolute_expires_at, fingerprint, user_agent, ip_address, remember_selector, auth_methods";

/**
 * {@link SessionStorage} on the sessions table of `db`.
 *
 * @example
 * ```ts
 * const sessions = new PostgresSessions(db);
 * await sessions.createSession(record);
 * ```
 */
export class PostgresSessions implements SessionStorage {
  readonly #db: PostgresDb;

  /**
   * Runs every statement through `db`.
   *
   * @example
   * ```ts
   * const sessions = new PostgresSessions(db);
   * ```
   */
  constructor(db: PostgresDb) {
    this.#db = db;
  }

  /**
   * Inserts the session.
   *
   * @example
   * ```ts
   * await sessions.createSession(record);
   * ```
   */
  async createSession(session: SessionRecord): Promise<void> {
    await this.#db.query("createSession", {
      name: this.#db.statementName("create_session"),
      text: `INSERT INTO ${this.#db.names.sessions} (${SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      values: [
        session.id,
        session.secretHash,
        session.userId,
        session.fresh,
        session.createdAt,
        session.lastSeenAt,
        session.expiresAt,
        session.absoluteExpiresAt,
        session.fingerprint,
        session.userAgent,
        session.ipAddress,
        session.rememberSelector,
        session.authMethods,
      ],
    });
  }

  /**
   * One prepared `SELECT` by primary key.
   *
   * @example
   * ```ts
   * const session = await sessions.getSession(id, Date.now());
   * ```
   */
  async getSession(id: string, now: number): Promise<SessionRecord | null> {
    const result = await this.#db.query<SessionRow>("getSession", {
      name: this.#db.statementName("get_session"),
      text: `SELECT ${SESSION_COLUMNS} FROM ${this.#db.names.sessions} WHERE id = $1 AND expires_at > $2`,
      values: [id, now],
    });
    const row = result.rows[0];
    return row ? sessionFromRow(row) : null;
  }

  /**
   * One `UPDATE` whatever fields the patch carries (an absent field keeps its value); an empty
   * patch only checks that the session exists.
   *
   * @example
   * ```ts
   * await sessions.updateSession(id, { lastSeenAt: now, expiresAt: now + idleMs });
   * ```
   */
  async updateSession(id: string, patch: SessionPatch): Promise<boolean> {
    if (!hasChanges(patch)) return this.#sessionExists(id);
    const result = await this.#db.query("updateSession", {
      name: this.#db.statementName("update_session"),
      text: `UPDATE ${this.#db.names.sessions} SET
  fresh = COALESCE($2::boolean, fresh),
  last_seen_at = COALESCE($3::bigint, last_seen_at),
  expires_at = COALESCE($4::bigint, expires_at),
  remember_selector = CASE WHEN $5::boolean THEN $6::text ELSE remember_selector END
WHERE id = $1`,
      values: [
        id,
        patch.fresh ?? null,
        patch.lastSeenAt ?? null,
        patch.expiresAt ?? null,
        patch.rememberSelector !== undefined,
        patch.rememberSelector ?? null,
      ],
    });
    return result.rowCount === 1;
  }

  /**
   * Deletes one session by primary key.
   *
   * @example
   * ```ts
   * const existed = await sessions.deleteSession(id);
   * ```
   */
  async deleteSession(id: string): Promise<boolean> {
    const result = await this.#db.query("deleteSession", {
      name: this.#db.statementName("delete_session"),
      text: `DELETE FROM ${this.#db.names.sessions} WHERE id = $1`,
      values: [id],
    });
    return result.rowCount === 1;
  }

  /**
   * One query on the `(user_id, created_at)` index; ties in `created_at` are broken by id.
   *
   * @example
   * ```ts
   * const list = await sessions.listUserSessions("42", Date.now());
   * ```
   */
  async listUserSessions(userId: string, now: number): Promise<SessionRecord[]> {
    const result = await this.#db.query<SessionRow>("listUserSessions", {
      name: this.#db.statementName("list_user_sessions"),
      text: `SELECT ${SESSION_COLUMNS} FROM ${this.#db.names.sessions} WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at, id`,
      values: [userId, now],
    });
    return result.rows.map(sessionFromRow);
  }

  /**
   * One `DELETE` on the `(user_id, created_at)` index.
   *
   * @example
   * ```ts
   * const removed = await sessions.deleteUserSessions("42", currentSessionId);
   * ```
   */
  async deleteUserSessions(userId: string, exceptSessionId?: string): Promise<number> {
    const result = await this.#db.query("deleteUserSessions", {
      name: this.#db.statementName("delete_user_sessions"),
      text: `DELETE FROM ${this.#db.names.sessions} WHERE user_id = $1 AND ($2::text IS NULL OR id <> $2::text)`,
      values: [userId, exceptSessionId ?? null],
    });
    return result.rowCount ?? 0;
  }

  /**
   * Deletes every session in batches of primary keys (see `deleteAllRows` in `maintenance.ts`), so
   * no statement holds long locks however large the table.
   *
   * @example
   * ```ts
   * const removed = await sessions.deleteAllSessions();
   * ```
   */
  deleteAllSessions(): Promise<number> {
    return deleteAllRows(this.#db, {
      table: this.#db.names.sessions,
      key: "id",
      statement: "delete_all_sessions",
      operation: "deleteAllSessions",
    });
  }

  async #sessionExists(id: string): Promise<boolean> {
    const result = await this.#db.query("updateSession", {
      name: this.#db.statementName("session_exists"),
      text: `SELECT 1 FROM ${this.#db.names.sessions} WHERE id = $1`,
      values: [id],
    });
    return result.rowCount === 1;
  }
}

function hasChanges(patch: SessionPatch): boolean {
  return (
    patch.fresh !== undefined ||
    patch.lastSeenAt !== undefined ||
    patch.expiresAt !== undefined ||
    patch.rememberSelector !== undefined
  );
}

function sessionFromRow(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    secretHash: row.secret_hash,
    userId: row.user_id,
    fresh: row.fresh,
    createdAt: Number(row.created_at),
    lastSeenAt: Number(row.last_seen_at),
    expiresAt: Number(row.expires_at),
    absoluteExpiresAt: Number(row.absolute_expires_at),
    fingerprint: row.fingerprint,
    userAgent: row.user_agent,
    ipAddress: row.ip_address,
    rememberSelector: row.remember_selector,
    authMethods: row.auth_methods,
  };
}
