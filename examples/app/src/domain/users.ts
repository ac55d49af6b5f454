import { StoreError, UserMixin } from "login-manager";
import { isPostgresConnectionError } from "login-manager/stores/postgres";

/** A registered user of the app. `isActive` false makes every login fail like a wrong password. */
export class User extends UserMixin {
  constructor(
    readonly id: number,
    /** The username as registered (NFKC-normalised, case kept). */
    readonly username: string,
    readonly passwordHash: string,
    readonly active: boolean,
    readonly createdAt: Date,
  ) {
    super();
  }

  override get isActive(): boolean {
    return this.active;
  }
}

/** Thrown by {@link UserRepository.create} when the username (or a case/look-alike variant) is taken. */
export class DuplicateUsernameError extends Error {
  constructor() {
    super("username already taken");
    this.name = "DuplicateUsernameError";
  }
}

/**
 * Where users live. Async so that other back ends fit; each method resolves only after its write
 * is durable.
 */
export interface UserRepository {
  /** The user with this id (as the session stores it), or null. */
  findById(id: string): Promise<User | null>;
  /** The user whose username key ({@link usernameKey}) is `key`, or null. */
  findByKey(key: string): Promise<User | null>;
  /** Adds a user; rejects with {@link DuplicateUsernameError} when the key is taken. */
  create(input: { username: string; key: string; passwordHash: string }): Promise<User>;
  /** Replaces a user's password hash. */
  updatePasswordHash(id: number, passwordHash: string): Promise<void>;
  /** Enables or disables a user's account. */
  setActive(id: number, active: boolean): Promise<void>;
}

/**
 * True when `error` means a backing server (the session store or the user database) cannot be
 * reached, so the app answers 503 rather than 500: a login-manager `StoreError` flagged
 * `unavailable`, or a `pg` / socket connection error (also inside `cause` or an `AggregateError`).
 *
 * @example
 * ```ts
 * if (isServiceUnavailable(error)) res.status(503);
 * ```
 */
export function isServiceUnavailable(error: unknown, depth = 0): boolean {
  if (error instanceof StoreError) return error.unavailable;
  if (isPostgresConnectionError(error)) return true;
  return error instanceof Error && depth < 4 && isServiceUnavailable(error.cause, depth + 1);
}
