/**
 * What login-manager needs from a user object (Flask-Login's user class contract).
 * `isAnonymous: false` lets TypeScript narrow `currentUser()` after a check.
 *
 * @example
 * ```ts
 * class User implements AuthUser {
 *   constructor(readonly id: number, readonly isActive = true) {}
 *   get isAuthenticated() { return this.isActive; }
 *   readonly isAnonymous = false as const;
 *   getId() { return String(this.id); }
 * }
 * ```
 */
export interface AuthUser {
  /** A string that identifies the user for the user loader. */
  getId(): string;
  readonly isActive: boolean;
  readonly isAuthenticated: boolean;
  readonly isAnonymous: false;
}

/**
 * The value of `currentUser()` when nobody is logged in.
 *
 * @example
 * ```ts
 * const user = currentUser();
 * if (user.isAnonymous) return res.redirect("/login");
 * ```
 */
export interface AnonymousUser {
  getId(): null;
  readonly isActive: false;
  readonly isAuthenticated: false;
  readonly isAnonymous: true;
}

/**
 * Default implementations of {@link AuthUser}, like Flask-Login's `UserMixin`: the user is active,
 * authenticated while active, and identified by `String(this.id)`. Two mixins are equal when their
 * ids are.
 *
 * @example
 * ```ts
 * class User extends UserMixin {
 *   constructor(readonly id: number, readonly username: string) { super(); }
 * }
 * ```
 */
export class UserMixin implements AuthUser {
  readonly isAnonymous = false as const;

  get isActive(): boolean {
    return true;
  }

  get isAuthenticated(): boolean {
    return this.isActive;
  }

  getId(): string {
    const id: unknown = (this as { id?: unknown }).id;
    if (id === undefined || id === null) {
      throw new TypeError("No `id` attribute - give the class an `id` property or override `getId()`");
    }
    return String(id);
  }

  /** True when `other` is a UserMixin with the same id (Flask-Login's `__eq__`). */
  equals(other: unknown): boolean {
    return other instanceof UserMixin && other.getId() === this.getId();
  }
}

/**
 * The default anonymous user, like Flask-Login's `AnonymousUserMixin`.
 *
 * @example
 * ```ts
 * new LoginManager({ ..., anonymousUser: () => new AnonymousUserMixin() });
 * ```
 */
export class AnonymousUserMixin implements AnonymousUser {
  readonly isActive = false as const;
  readonly isAuthenticated = false as const;
  readonly isAnonymous = true as const;

  getId(): null {
    return null;
  }
}

/**
 * Register your user class once so `req.auth`, `currentUser()` and the guards are typed with it
 * everywhere, without generics at each call:
 *
 * @example
 * ```ts
 * declare module "login-manager" {
 *   interface Register { user: User }
 * }
 * ```
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by applications through declaration merging
export interface Register {}

/**
 * The user type registered through {@link Register}, or {@link AuthUser} when none is.
 *
 * @example
 * ```ts
 * const user: RegisteredUser | AnonymousUser = currentUser();
 * ```
 */
export type RegisteredUser = Register extends { user: infer U extends AuthUser } ? U : AuthUser;
