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
    /** The account's e-mail address (as typed, trimmed); null for an account made before addresses. */
    readonly email: string | null = null,
    /** True once a link mailed to {@link email} was followed (or a password reset went through it). */
    readonly emailVerified = false,
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

/** Thrown by {@link UserRepository.create} and {@link UserRepository.setEmail} when another account has the address. */
export class DuplicateEmailError extends Error {
  constructor() {
    super("e-mail address already registered");
    this.name = "DuplicateEmailError";
  }
}

/** A new account: its username and address, each with its comparison key, and its password hash. */
export interface NewUser {
  username: string;
  /** {@link usernameKey} of the username. */
  key: string;
  email: string;
  /** {@link emailKey} of the address. */
  emailKey: string;
  passwordHash: string;
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
  /** The user whose address key ({@link emailKey}) is `emailKey`, or null. */
  findByEmail(emailKey: string): Promise<User | null>;
  /**
   * Adds a user (address not verified yet); rejects with {@link DuplicateUsernameError} when the
   * username key is taken, {@link DuplicateEmailError} when the address key is.
   */
  create(input: NewUser): Promise<User>;
  /** Replaces a user's password hash. */
  updatePasswordHash(id: number, passwordHash: string): Promise<void>;
  /**
   * Sets a user's address, verified: a confirmed change, or the current address confirmed. Rejects
   * with {@link DuplicateEmailError} when another account has it.
   */
  setVerifiedEmail(id: number, email: { email: string; key: string }): Promise<void>;
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
