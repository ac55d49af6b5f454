import { UserMixin } from "login-manager";

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
