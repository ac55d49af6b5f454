import { clientAddress, requestOrigin } from "./client.js";
import { CookieJar } from "./cookie-jar.js";
import { ConfigurationError, LoginManagerError } from "./errors.js";
import type { FlashMessage } from "./flash.js";
import type { AuthReply, RequestView, ResponseView } from "./http.js";
import type { CreatedSession, HeldLogin, IssuedToken } from "./lifecycle/index.js";
import type { AuthSource, CookieChanges, LoadedState } from "./loader.js";
import { CsrfCookie, FlashQueue } from "./request-extras.js";
import { checkSecret, type LoginAttemptResult } from "./secret-checks.js";
import type { RequestServices } from "./services.js";
import type { SessionRecord } from "./store.js";
import type { AnonymousUser, AuthUser } from "./users.js";

export type { AuthSource } from "./loader.js";
export type { LoginAttemptResult } from "./secret-checks.js";

/**
 * Options of {@link AuthContext.loginUser} (Flask-Login's `login_user` arguments).
 *
 * @example
 * ```ts
 * await auth.loginUser(user, { remember: true, durationSeconds: 7 * 86400 });
 * ```
 */
export interface LoginOptions {
  /** Also issue a remember-me cookie. @default false */
  remember?: boolean;
  /** Lifetime of that remember-me token. @default the manager's `rememberMe.durationSeconds` */
  durationSeconds?: number;
  /** Log in even an inactive user. @default false */
  force?: boolean;
  /** Mark the login fresh (password just checked). @default true */
  fresh?: boolean;
}

/**
 * One of the user's sessions, as shown on an "active sessions" page. `handle` identifies it for
 * {@link AuthContext.revokeSession} without revealing the session id.
 *
 * @example
 * ```ts
 * for (const s of await auth.listSessions()) console.log(s.handle, s.userAgent, s.current);
 * ```
 */
export interface SessionInfo {
  handle: string;
  createdAt: Date;
  lastSeenAt: Date;
  userAgent: string;
  ipAddress: string;
  current: boolean;
  remembered: boolean;
}

const SESSION_HANDLE_PURPOSE = "session-handle";
/** Verifications of one login attempt when revocations of other users keep racing it (epochs.ts). */
const MAX_VERIFY_ROUNDS = 3;

let servicesOfContext: (value: object) => RequestServices<never> | undefined;

/**
 * The route-guard answer for a request's context (see `Guards.check`): null to go on, or the reply;
 * undefined when `value` is not an {@link AuthContext} (the adapter's middleware did not run).
 * Internal: adapters reach it through `login-manager/adapter`.
 *
 * @example
 * ```ts
 * const reply = guardReply(req.auth, { fresh: false });
 * ```
 */
export function guardReply(value: unknown, requirement: { fresh: boolean }): AuthReply | null | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const services = servicesOfContext(value);
  return services ? services.guards.check(value as AuthContext<never>, requirement) : undefined;
}

/**
 * Everything login-manager knows and can do for one request: `req.auth` in Express, `request.auth`
 * in Fastify, `c.var.auth` in Hono. Identity is its own; the session steps are the lifecycle's, CSRF
 * and flashes small helpers of their own, all reached from here. The free functions
 * (`currentUser()`, `loginUser()`, ...) call the context of the request they run in.
 *
 * @example
 * ```ts
 * app.post("/login", async (req, res) => {
 *   const user = await users.check(req.body.username, req.body.password);
 *   if (user && (await req.auth.loginUser(user, { remember: true }))) return res.redirect(303, "/");
 *   res.status(401).send("Invalid credentials");
 * });
 * ```
 */
export class AuthContext<U extends AuthUser> {
  readonly request: RequestView;
  readonly #services: RequestServices<U>;
  readonly #jar: CookieJar;
  readonly #https: boolean;
  #user: U | null;
  #session: SessionRecord | null;
  #source: AuthSource;
  #fresh: boolean;
  #rememberSelector: string | null;
  #anonymous: AnonymousUser | undefined;
  #accessed = false;
  #csrf: CsrfCookie | undefined;
  #flashes: FlashQueue | undefined;

  static {
    servicesOfContext = (value) =>
      #services in value ? (value.#services as unknown as RequestServices<never>) : undefined;
  }

  /** @internal Built by the manager for each request; applications never construct it. */
  constructor(
    services: RequestServices<U>,
    request: RequestView,
    response: ResponseView,
    cookies: ReadonlyMap<string, string>,
    loaded: LoadedState<U>,
    https: boolean,
  ) {
    this.#services = services;
    this.request = request;
    this.#https = https;
    this.#jar = new CookieJar(cookies, response, services.options.cookies, https);
    this.#user = loaded.user;
    this.#session = loaded.session;
    this.#source = loaded.source;
    this.#fresh = loaded.fresh;
    this.#rememberSelector = loaded.rememberSelector;
    if (loaded.cookies) this.#applyLoaderCookies(loaded.cookies);
  }

  /** The logged-in user, or the anonymous user. */
  get user(): U | AnonymousUser {
    if (!this.#accessed) {
      this.#accessed = true;
      // Checked first so a request with no listener allocates no payload.
      const { events } = this.#services;
      if (events.has("accessed")) events.emit("accessed", { request: this.request });
    }
    if (this.#user) return this.#user;
    this.#anonymous ??= this.#services.options.anonymousUser();
    return this.#anonymous;
  }

  /** True when a user is logged in and active (what `loginRequired` checks). */
  get isAuthenticated(): boolean {
    return this.#user?.isAuthenticated === true;
  }

  /** How the current user was authenticated on this request, or null when anonymous. */
  get source(): AuthSource {
    return this.#user ? this.#source : null;
  }

  /** The logged-in user; throws when nobody is (use behind `loginRequired`). */
  requireUser(): U {
    if (!this.#user)
      throw new LoginManagerError(
        "ERR_NOT_AUTHENTICATED",
        "requireUser() called for an anonymous request; guard the route with loginRequired",
      );
    return this.#user;
  }

  /** True when the login was confirmed with a password on this session (Flask-Login's `login_fresh`). */
  loginFresh(): boolean {
    return this.#user !== null && this.#fresh;
  }

  /** True when this session was restored from a remember-me cookie (Flask-Login's `login_remembered`). */
  loginRemembered(): boolean {
    return (
      this.#user !== null &&
      this.#rememberSelector !== null &&
      this.#jar.has(this.#services.options.cookies.rememberName)
    );
  }

  /**
   * Logs `user` in: ends any session this browser had, issues a new session id (no fixation), a
   * new CSRF token and, with `remember`, a remember-me token. Resolves false, changing nothing, for an
   * inactive user unless `force`; and false, leaving no session behind, when the user's sessions were
   * revoked while the login ran (a password change elsewhere, say). Call it inside
   * {@link AuthContext.attemptLogin}'s `verify` flow, or right after your own check of the password:
   * `attemptLogin` also catches a change that lands while the password is being verified.
   */
  loginUser(user: U, options: LoginOptions = {}): Promise<boolean> {
    return this.#login(user, options);
  }

  /** Logs the user out: deletes the session and remember token on the server and clears both cookies. */
  async logoutUser(): Promise<boolean> {
    const previous = this.#user;
    await this.#services.lifecycle.logout(this.#held());
    this.#becomeAnonymous(true);
    this.rotateCsrfToken();
    this.#services.events.emit("loggedOut", { user: previous, request: this.request });
    return true;
  }

  /**
   * Marks the login fresh after the user re-entered their password (Flask-Login's `confirm_login`).
   * The session gets a new id and both timeouts restart (NIST 800-63B: re-authentication resets them).
   * Resolves false, and the request is anonymous from then on, when this session was revoked
   * meanwhile (a password change elsewhere): re-authenticating must not revive it.
   */
  async confirmLogin(): Promise<boolean> {
    const user = this.requireUser();
    if (!(await this.#rotateSession(true, true))) return false;
    this.#fresh = true;
    this.#services.events.emit("loginConfirmed", { user, request: this.request });
    return true;
  }

  /**
   * After the user changed their password: keeps this browser logged in under a new session id and
   * ends every other session and every remember-me token of the user, including logins that were
   * still in flight when the change was made.
   */
  async afterPasswordChange(): Promise<number> {
    const userId = this.requireUser().getId();
    // The new session must not point at this browser's remember token: it is deleted below.
    const rotated = await this.#rotateSession(true, false);
    this.#jar.clear(this.#services.options.cookies.rememberName);
    this.#rememberSelector = null;
    const keepSessionId = rotated ? this.#session?.id : undefined;
    return this.#services.lifecycle.revokeUser(userId, "password-change", {
      request: this.request,
      ...(keepSessionId ? { keepSessionId } : {}),
    });
  }

  /** The user's active sessions, oldest first, the current one marked. */
  async listSessions(): Promise<SessionInfo[]> {
    const sessions = await this.#services.lifecycle.list(this.requireUser().getId());
    return sessions.map((session) => ({
      handle: this.#handleOf(session.id),
      createdAt: new Date(session.createdAt),
      lastSeenAt: new Date(session.lastSeenAt),
      userAgent: session.userAgent,
      ipAddress: session.ipAddress,
      current: session.id === this.#session?.id,
      remembered: session.rememberSelector !== null,
    }));
  }

  /**
   * Ends one of the user's own sessions by its handle; resolves false when no such session exists.
   * Ending another session needs a fresh login, as {@link AuthContext.revokeOtherSessions} does:
   * otherwise it throws (guard the route with `freshLoginRequired`). Ending this session is a logout,
   * which needs none.
   *
   * @example
   * ```ts
   * app.post("/sessions/:handle/revoke", freshLoginRequired, async (req, res) => {
   *   res.json({ ended: await req.auth.revokeSession(req.params.handle) });
   * });
   * ```
   */
  async revokeSession(handle: string): Promise<boolean> {
    const user = this.requireUser();
    if (this.#session === null || handle !== this.#handleOf(this.#session.id)) {
      this.#requireFreshLogin("revokeSession");
    }
    const sessions = await this.#services.lifecycle.list(user.getId());
    const target = sessions.find((session) => this.#handleOf(session.id) === handle);
    if (!target) return false;
    await this.#services.lifecycle.revokeOne(target, this.request);
    if (target.id === this.#session?.id) await this.logoutUser();
    return true;
  }

  /**
   * Ends every session of the user except this one, and every remember-me token except this
   * browser's (which is replaced by a new one expiring at the same time); resolves to the number of
   * sessions ended. Needs a fresh login: otherwise it throws (guard the route with
   * `freshLoginRequired`).
   *
   * @example
   * ```ts
   * app.post("/sessions/revoke-others", freshLoginRequired, async (req, res) => {
   *   res.json({ ended: await req.auth.revokeOtherSessions() });
   * });
   * ```
   */
  async revokeOtherSessions(): Promise<number> {
    const userId = this.requireUser().getId();
    this.#requireFreshLogin("revokeOtherSessions");
    const { count, token } = await this.#services.lifecycle.revokeOthers(this.request, {
      ...this.#held(),
      userId,
    });
    this.#rememberSelector = token?.selector ?? null;
    if (this.#session) this.#session.rememberSelector = this.#rememberSelector;
    if (token) this.#setRememberCookie(token);
    return count;
  }

  /**
   * Checks a password login with brute-force limits. `verify` must do the same hashing work whether
   * or not the account exists (call the hasher's `verifyDummy` for unknown users) and resolve the user
   * on success. Failures are counted per account and per client address; an inactive user counts as a
   * failure and gets the same answer as a wrong password. `account` is used verbatim: canonicalise
   * it (trim, case-fold, NFKC) the same way as the user lookup. The account's failure budget is
   * shared with {@link AuthContext.attemptReauth}, which must be given the same string.
   *
   * Each attempt is counted as a failure of the account before `verify` runs and the count is reset
   * when the login succeeds, so however many processes share the store, an account gets at most
   * `maxAccountFailures` password checks before it locks (then one per lock period). If `verify` or
   * the login throws, the error propagates and the attempt stays counted against the account (not the
   * address). So `verify` should resolve `null` for a wrong password rather than throw.
   *
   * A password change (or any revocation of the user's sessions) that lands while `verify` runs or
   * the session is being created wins: the login answers `invalid` and leaves nothing behind. When
   * revocations of other users land during `verify`, it runs again (at most three times in all).
   */
  async attemptLogin(attempt: {
    account: string;
    verify: () => Promise<U | null | undefined>;
    remember?: boolean;
    durationSeconds?: number;
  }): Promise<LoginAttemptResult<U>> {
    const { lifecycle } = this.#services;
    const options: LoginOptions = { remember: attempt.remember, durationSeconds: attempt.durationSeconds };
    return this.#checkSecret(attempt.account, async () => {
      for (let round = 0; round < MAX_VERIFY_ROUNDS; round++) {
        const before = await lifecycle.revocationCount();
        const user = await attempt.verify();
        if (!user) return { ok: false, reason: "invalid" };
        const snapshot = await lifecycle.snapshotSince(user.getId(), before);
        if (!snapshot) continue;
        return (await this.#login(user, options, snapshot))
          ? { ok: true, value: user }
          : { ok: false, reason: "inactive" };
      }
      return { ok: false, reason: "invalid" };
    });
  }

  /**
   * Re-authentication with brute-force limits: `verify` checks the current user's password; on
   * success the login is confirmed ({@link AuthContext.confirmLogin}). `account` is the string
   * {@link AuthContext.attemptLogin} counts for this user (its canonical name), because both checks
   * spend one failure budget per account. Also the check for a password change's current password.
   *
   * @example
   * ```ts
   * const result = await req.auth.attemptReauth({
   *   account: canonicalName(user.username), // as passed to attemptLogin
   *   verify: () => hasher.verify(user.passwordHash, req.body.password),
   * });
   * ```
   */
  async attemptReauth(attempt: {
    account: string;
    verify: () => Promise<boolean>;
  }): Promise<LoginAttemptResult<U>> {
    if (typeof (attempt as unknown) === "function" || typeof attempt?.account !== "string") {
      throw new ConfigurationError(
        "attemptReauth takes { account, verify }: account is the string attemptLogin counts for this user (its canonical name), so login and re-authentication share one failure budget",
      );
    }
    const user = this.requireUser();
    return this.#checkSecret(attempt.account, async () => {
      if (!(await attempt.verify())) return { ok: false, reason: "invalid" };
      return (await this.confirmLogin()) ? { ok: true, value: user } : { ok: false, reason: "invalid" };
    });
  }

  /** @internal The CSRF cookie's value, for the manager's CSRF check. */
  get csrfCookieValue(): string | undefined {
    return this.#csrf ? this.#csrf.value : this.#jar.get(this.#services.options.cookies.csrfName);
  }

  /**
   * @internal This request's own origin (Host header and the protocol found when it was identified),
   * or null for a missing or malformed Host: what the CSRF check expects and an absolute `next` uses.
   */
  get requestOrigin(): string | null {
    return requestOrigin(this.request, this.#https);
  }

  /** The CSRF token to put in forms (`_csrf`) or the `X-CSRF-Token` header; sets its cookie on first use. */
  csrfToken(): string {
    return this.#csrfCookie().token();
  }

  /** Replaces the CSRF secret (done at login and logout); earlier tokens stop working. */
  rotateCsrfToken(): void {
    this.#csrfCookie().rotate();
  }

  /** Queues a message for the next page (Flask's `flash`). */
  flash(message: string, category = "message"): void {
    this.#flashQueue().add(message, category);
  }

  /** Returns and clears the queued messages (Flask's `get_flashed_messages`). */
  takeFlashes(): FlashMessage[] {
    return this.#flashQueue().take();
  }

  /** The client address used for throttling and session lists (socket peer unless proxies are trusted). */
  get clientAddress(): string {
    return clientAddress(this.request, this.#services.options.network.trustProxyHops);
  }

  /** The cookie name actually used on this request: `__Host-<base>` over HTTPS. */
  cookieName(base: string): string {
    return this.#jar.name(base);
  }

  async #login(
    user: U,
    options: LoginOptions,
    snapshot?: Parameters<RequestServices<U>["lifecycle"]["login"]>[2]["snapshot"],
  ): Promise<boolean> {
    if (!options.force && !user.isActive) return false;
    const durationSeconds = options.durationSeconds ?? this.#services.options.rememberMe.durationSeconds;
    if (!Number.isInteger(durationSeconds) || durationSeconds <= 0) {
      throw new ConfigurationError(
        `durationSeconds must be a positive whole number of seconds, got ${JSON.stringify(options.durationSeconds)}`,
      );
    }
    const fresh = options.fresh ?? true;
    const started = await this.#services.lifecycle.login(this.request, this.#held(), {
      userId: user.getId(),
      fresh,
      rememberSeconds: options.remember ? durationSeconds : null,
      ...(snapshot ? { snapshot } : {}),
    });
    if (!started) {
      this.#becomeAnonymous(false);
      return false;
    }
    if (started.token) this.#setRememberCookie(started.token);
    else this.#jar.clear(this.#services.options.cookies.rememberName);
    this.#useSession(started.created);
    this.#user = user;
    this.#source = "login";
    this.#fresh = fresh;
    this.#rememberSelector = started.token?.selector ?? null;
    this.rotateCsrfToken();
    this.#services.events.emit("loggedIn", { user, request: this.request });
    return true;
  }

  /** A new session id for this login; false (and anonymous from then on) when it was revoked meanwhile. */
  async #rotateSession(fresh: boolean, keepRemember: boolean): Promise<boolean> {
    const userId = this.requireUser().getId();
    const created = await this.#services.lifecycle.rotate(
      this.request,
      { ...this.#held(), userId },
      { fresh, keepRemember },
    );
    if (!created) {
      this.#becomeAnonymous(false);
      return false;
    }
    this.#useSession(created);
    return true;
  }

  #held(): HeldLogin {
    return {
      session: this.#session,
      rememberSelector: this.#rememberSelector,
      userId: this.#user?.getId() ?? null,
    };
  }

  #useSession(created: CreatedSession): void {
    this.#session = created.session;
    this.#jar.set(this.#services.options.cookies.sessionName, created.cookieValue);
    // The response carries a session id: no shared or browser cache may keep it (ASVS 14.3.2).
    this.#jar.noStore();
  }

  #setRememberCookie(token: IssuedToken): void {
    this.#jar.set(this.#services.options.cookies.rememberName, token.cookieValue, token.maxAgeSeconds);
  }

  /** Forgets the login on this request; clears both cookies (`always`: even if not received). */
  #becomeAnonymous(always: boolean): void {
    const { sessionName, rememberName } = this.#services.options.cookies;
    this.#jar.clear(sessionName, always);
    this.#jar.clear(rememberName, always);
    this.#user = null;
    this.#session = null;
    this.#source = null;
    this.#fresh = false;
    this.#rememberSelector = null;
  }

  #applyLoaderCookies(changes: CookieChanges): void {
    const { sessionName, rememberName } = this.#services.options.cookies;
    if (changes.clearSession) this.#jar.clear(sessionName);
    if (changes.clearRemember) this.#jar.clear(rememberName);
    if (changes.session) this.#jar.set(sessionName, changes.session);
    if (changes.remember) this.#jar.set(rememberName, changes.remember.value, changes.remember.maxAgeSeconds);
  }

  #checkSecret(account: string, check: Parameters<typeof checkSecret<U>>[4]): Promise<LoginAttemptResult<U>> {
    return checkSecret(this.#services, this.request, account, this.clientAddress, check);
  }

  /**
   * The one rule for ending sessions other than this one (ASVS 7.5.2): it needs a login confirmed
   * with a password on this session. Without it, a session restored from a stolen remember-me cookie
   * (or made stale by session protection) could log the owner out everywhere, one session at a time.
   */
  #requireFreshLogin(action: string): void {
    if (this.loginFresh()) return;
    throw new LoginManagerError(
      "ERR_NOT_AUTHENTICATED",
      `${action}() ends other sessions, which needs a fresh login: guard the route with freshLoginRequired, which sends a session restored from remember-me (or made stale by session protection) to refreshView first`,
    );
  }

  /** A session's handle for the session list: a keyed digest of its id, which it does not reveal. */
  #handleOf(sessionId: string): string {
    return this.#services.keys.sign(SESSION_HANDLE_PURPOSE, sessionId).slice(0, 22);
  }

  #csrfCookie(): CsrfCookie {
    this.#csrf ??= new CsrfCookie(this.#jar, this.#services.keys);
    return this.#csrf;
  }

  #flashQueue(): FlashQueue {
    this.#flashes ??= new FlashQueue(this.#jar, this.#services.keys);
    return this.#flashes;
  }
}
