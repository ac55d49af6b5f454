import { clientAddress, requestOrigin } from "./client.js";
import { serializeCookie } from "./cookies.js";
import { csrfTokenFor } from "./csrf.js";
import { ConfigurationError, LoginManagerError } from "./errors.js";
import type { FlashMessage } from "./flash.js";
import { decodeFlashes, encodeFlashes } from "./flash.js";
import type { RequestView, ResponseView } from "./http.js";
import type { ManagerCore } from "./internals.js";
import type { CookieDecisions } from "./loader.js";
import type { LoginManager } from "./manager.js";
import { createSession, deleteSessionsOfToken } from "./sessions.js";
import type { SessionRecord } from "./store.js";
import type { SecretCheck, ThrottleStatus } from "./throttle.js";
import { hashToken, randomToken } from "./tokens.js";
import type { AnonymousUser, AuthUser } from "./users.js";

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
  /** Lifetime of that remember-me token. @default the manager's rememberDurationSeconds */
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

/**
 * How the current user was authenticated on this request.
 *
 * @example
 * ```ts
 * if (auth.source === "remember") console.log("restored from remember-me");
 * ```
 */
export type AuthSource = "session" | "remember" | "request" | "login" | null;

/**
 * The result of {@link AuthContext.attemptLogin} and {@link AuthContext.attemptReauth}.
 *
 * - `ok: true`: the password was right; the user is logged in (or the login confirmed).
 * - `reason: "invalid"`: the password was wrong (or the account unknown or inactive). When, with this
 *   failure counted, the account or the client address is locked (this failure reached the limit, or
 *   one racing it from the same address did), `retryAfterSeconds` says for how long; otherwise it is
 *   absent.
 * - `reason: "locked"`: refused without checking the password, because a lock was already running.
 *
 * @example
 * ```ts
 * const result = await auth.attemptLogin({ account, verify });
 * if (!result.ok && result.retryAfterSeconds !== undefined) {
 *   res.set("Retry-After", String(result.retryAfterSeconds)); // locked now, or already locked
 * }
 * ```
 */
export type LoginAttemptResult<U> =
  | { ok: true; user: U }
  | { ok: false; reason: "invalid"; retryAfterSeconds?: number }
  | { ok: false; reason: "locked"; retryAfterSeconds: number };

/** A wrong password's result, with the lock it leaves running, if any. */
function invalid(after: ThrottleStatus): LoginAttemptResult<never> {
  return after.locked
    ? { ok: false, reason: "invalid", retryAfterSeconds: after.retryAfterSeconds }
    : { ok: false, reason: "invalid" };
}

/** What the loader found for this request; internal. */
export interface LoadedState<U extends AuthUser> {
  user: U | null;
  session: SessionRecord | null;
  source: AuthSource;
  fresh: boolean;
  rememberSelector: string | null;
}

const SESSION_HANDLE_PURPOSE = "session-handle";

let managerOfContext: (value: object) => LoginManager<never> | undefined;

/**
 * The manager that made `value`, when it is an {@link AuthContext}; undefined for anything else.
 * Internal: adapters' route guards find their manager this way. (A WeakMap from context to manager
 * did the same, but it was written on every request, and V8 handles weak keys as ephemerons on each
 * young-generation collection: about 0.6 µs per request on Fastify in perf samples.)
 *
 * @example
 * ```ts
 * const manager = managerOf(req.auth); // undefined when the middleware did not run
 * ```
 */
export function managerOf(value: unknown): LoginManager<never> | undefined {
  return typeof value === "object" && value !== null ? managerOfContext(value) : undefined;
}

/**
 * Everything login-manager knows and can do for one request: `req.auth` in Express, `request.auth`
 * in Fastify, `c.var.auth` in Hono. The free functions (`currentUser()`, `loginUser()`, ...) call the
 * context of the request they run in.
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
  readonly #response: ResponseView;
  readonly #core: ManagerCore<U>;
  readonly #cookies: Map<string, string>;
  readonly #https: boolean;
  #user: U | null;
  #session: SessionRecord | null;
  #source: AuthSource;
  #fresh: boolean;
  #rememberSelector: string | null;
  #anonymous: AnonymousUser | undefined;
  #accessed = false;
  #csrfValue: string | undefined;
  #flashes: FlashMessage[] | undefined;

  static {
    managerOfContext = (value) =>
      #core in value ? (value.#core.manager as unknown as LoginManager<never>) : undefined;
  }

  /** @internal Built by the manager's `authenticate`; applications never construct it. */
  constructor(
    core: ManagerCore<U>,
    request: RequestView,
    response: ResponseView,
    cookies: Map<string, string>,
    loaded: LoadedState<U>,
    https: boolean,
  ) {
    this.#core = core;
    this.request = request;
    this.#response = response;
    this.#cookies = cookies;
    this.#https = https;
    this.#user = loaded.user;
    this.#session = loaded.session;
    this.#source = loaded.source;
    this.#fresh = loaded.fresh;
    this.#rememberSelector = loaded.rememberSelector;
    this.#csrfValue = cookies.get(this.cookieName(core.options.csrfCookieName));
  }

  /** @internal Sends the cookies the loader decided on (rotated remember token, restored session, clears). */
  applyLoaderCookies(decisions: CookieDecisions): void {
    const { sessionCookieName, rememberCookieName } = this.#core.options;
    if (decisions.clearSession) this.#clearCookie(sessionCookieName);
    if (decisions.clearRemember) this.#clearCookie(rememberCookieName);
    if (decisions.session) this.#setCookie(sessionCookieName, decisions.session.value);
    if (decisions.remember)
      this.#setCookie(rememberCookieName, decisions.remember.value, decisions.remember.maxAgeSeconds);
  }

  /** The logged-in user, or the anonymous user. */
  get user(): U | AnonymousUser {
    if (!this.#accessed) {
      this.#accessed = true;
      // Checked first so a request with no listener allocates no payload.
      if (this.#core.events.has("accessed")) this.#core.events.emit("accessed", { request: this.request });
    }
    if (this.#user) return this.#user;
    this.#anonymous ??= this.#core.options.anonymousUser();
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
      this.#cookies.has(this.cookieName(this.#core.options.rememberCookieName))
    );
  }

  /**
   * Logs `user` in: ends any session this browser had, issues a new session id (no fixation), a
   * new CSRF token and, with `remember`, a remember-me token. Resolves false, changing nothing, for an
   * inactive user unless `force`.
   */
  async loginUser(user: U, options: LoginOptions = {}): Promise<boolean> {
    if (!options.force && !user.isActive) return false;
    const durationSeconds = options.durationSeconds ?? this.#core.options.rememberDurationSeconds;
    if (!Number.isInteger(durationSeconds) || durationSeconds <= 0) {
      throw new ConfigurationError(
        `durationSeconds must be a positive whole number of seconds, got ${String(options.durationSeconds)}`,
      );
    }
    await this.#endCurrentSession();
    const rememberSelector = options.remember
      ? await this.#issueRememberToken(user.getId(), durationSeconds)
      : null;
    if (!options.remember) this.#clearCookie(this.#core.options.rememberCookieName);
    await this.#startSession(user.getId(), options.fresh ?? true, rememberSelector);
    this.#setUser(user, "login", options.fresh ?? true, rememberSelector);
    this.rotateCsrfToken();
    this.#core.events.emit("loggedIn", { user, request: this.request });
    return true;
  }

  /** Logs the user out: deletes the session and remember token on the server and clears both cookies. */
  async logoutUser(): Promise<boolean> {
    const previous = this.#user;
    await this.#endCurrentSession();
    this.#clearCookie(this.#core.options.sessionCookieName, true);
    this.#clearCookie(this.#core.options.rememberCookieName, true);
    this.#user = null;
    this.#source = null;
    this.#fresh = false;
    this.rotateCsrfToken();
    this.#core.events.emit("loggedOut", { user: previous, request: this.request });
    return true;
  }

  /**
   * Marks the login fresh after the user re-entered their password (Flask-Login's `confirm_login`).
   * The session gets a new id and both timeouts restart (NIST 800-63B: re-authentication resets them).
   */
  async confirmLogin(): Promise<void> {
    const user = this.requireUser();
    await this.#rotateSession(true);
    this.#fresh = true;
    this.#core.events.emit("loginConfirmed", { user, request: this.request });
  }

  /**
   * After the user changed their password: keeps this browser logged in under a new session id and
   * ends every other session and every remember-me token of the user.
   */
  async afterPasswordChange(): Promise<number> {
    const user = this.requireUser();
    const userId = user.getId();
    // The new session must not point at this browser's remember token: it is deleted below.
    await this.#rotateSession(true, false);
    this.#clearCookie(this.#core.options.rememberCookieName);
    const [sessions] = await Promise.all([
      this.#core.options.store.deleteUserSessions(userId, this.#session?.id),
      this.#core.options.store.deleteUserRememberTokens(userId),
    ]);
    this.#rememberSelector = null;
    this.#core.events.emit("sessionsRevoked", {
      userId,
      reason: "password-change",
      count: sessions,
      request: this.request,
    });
    return sessions;
  }

  /** The user's active sessions, oldest first, the current one marked. */
  async listSessions(): Promise<SessionInfo[]> {
    const user = this.requireUser();
    const sessions = await this.#core.options.store.listUserSessions(
      user.getId(),
      this.#core.options.clock.now(),
    );
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
    const sessions = await this.#core.options.store.listUserSessions(
      user.getId(),
      this.#core.options.clock.now(),
    );
    const target = sessions.find((session) => this.#handleOf(session.id) === handle);
    if (!target) return false;
    await this.#deleteSessionAndToken(target);
    if (target.id === this.#session?.id) await this.logoutUser();
    this.#core.events.emit("sessionsRevoked", {
      userId: user.getId(),
      reason: "revoke-one",
      count: 1,
      request: this.request,
    });
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
    const user = this.requireUser();
    this.#requireFreshLogin("revokeOtherSessions");
    const userId = user.getId();
    const { store, clock } = this.#core.options;
    const now = clock.now();
    const others = (await store.listUserSessions(userId, now)).filter(
      (session) => session.id !== this.#session?.id,
    );
    // Remember tokens outlive their sessions (a closed browser, an idle timeout), so the session list
    // misses some of them: revoke them all, then re-issue this browser's for its remaining lifetime.
    const ownSelector = this.#session?.rememberSelector ?? this.#rememberSelector;
    const ownToken = ownSelector ? await store.getRememberToken(ownSelector, now) : null;
    await Promise.all([
      ...others.map((session) => store.deleteSession(session.id)),
      store.deleteUserRememberTokens(userId),
    ]);
    this.#rememberSelector = null;
    if (ownToken) {
      const remainingSeconds = Math.max(1, Math.floor((ownToken.expiresAt - now) / 1000));
      this.#rememberSelector = await this.#issueRememberToken(userId, remainingSeconds);
      if (this.#session) {
        this.#session.rememberSelector = this.#rememberSelector;
        await store.updateSession(this.#session.id, { rememberSelector: this.#rememberSelector });
      }
    }
    this.#core.events.emit("sessionsRevoked", {
      userId,
      reason: "revoke-others",
      count: others.length,
      request: this.request,
    });
    return others.length;
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
   * address): a store count cannot be taken back, and resetting it instead would let anyone who can
   * make `verify` throw wipe the account's failures. So `verify` should resolve `null` for a wrong
   * password rather than throw, and must not throw depending on whether the password was right.
   */
  async attemptLogin(attempt: {
    account: string;
    verify: () => Promise<U | null | undefined>;
    remember?: boolean;
    durationSeconds?: number;
  }): Promise<LoginAttemptResult<U>> {
    const { remember, durationSeconds } = attempt;
    return this.#checkSecret(attempt.account, async (): Promise<SecretCheck<U>> => {
      const user = await attempt.verify();
      if (!user) return { ok: false, reason: "invalid" };
      const loggedIn = await this.loginUser(user, { remember, durationSeconds });
      return loggedIn ? { ok: true, value: user } : { ok: false, reason: "inactive" };
    });
  }

  /** @internal The CSRF cookie's value, for the manager's CSRF check. */
  get csrfCookieValue(): string | undefined {
    return this.#csrfValue;
  }

  /**
   * @internal This request's own origin (Host header and the protocol found when it was identified),
   * or null for a missing or malformed Host: what the CSRF check expects and an absolute `next` uses.
   */
  get requestOrigin(): string | null {
    return requestOrigin(this.request, this.#https);
  }

  /**
   * Re-authentication with brute-force limits: `verify` checks the current user's password; on
   * success the login is confirmed ({@link AuthContext.confirmLogin}). `account` is the string
   * {@link AuthContext.attemptLogin} counts for this user (its canonical name), because both checks
   * spend one failure budget per account: wrong passwords here and at the login form add up, a lock
   * started by either refuses both, and a right password at either resets it. So a stolen remember-me
   * cookie gets no guesses of its own, from any number of processes; a `verify` that throws stays
   * counted, as in {@link AuthContext.attemptLogin}. Also the check for a password change's current
   * password.
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
    return this.#checkSecret(attempt.account, async (): Promise<SecretCheck<U>> => {
      if (!(await attempt.verify())) return { ok: false, reason: "invalid" };
      await this.confirmLogin();
      return { ok: true, value: user };
    });
  }

  /** The CSRF token to put in forms (`_csrf`) or the `X-CSRF-Token` header; sets its cookie on first use. */
  csrfToken(): string {
    if (this.#csrfValue === undefined) this.rotateCsrfToken();
    return csrfTokenFor(this.#core.keys, this.#csrfValue as string);
  }

  /** Replaces the CSRF secret (done at login and logout); earlier tokens stop working. */
  rotateCsrfToken(): void {
    this.#csrfValue = randomToken();
    this.#setCookie(this.#core.options.csrfCookieName, this.#csrfValue);
  }

  /** Queues a message for the next page (Flask's `flash`). */
  flash(message: string, category = "message"): void {
    const pending = this.#pendingFlashes();
    pending.push({ category, message });
    this.#setCookie(this.#core.options.flashCookieName, encodeFlashes(this.#core.keys, pending));
  }

  /** Returns and clears the queued messages (Flask's `get_flashed_messages`). */
  takeFlashes(): FlashMessage[] {
    const pending = this.#pendingFlashes();
    this.#flashes = [];
    if (pending.length > 0 || this.#cookies.has(this.cookieName(this.#core.options.flashCookieName))) {
      this.#clearCookie(this.#core.options.flashCookieName);
    }
    return pending;
  }

  /** The client address used for throttling and session lists (socket peer unless proxies are trusted). */
  get clientAddress(): string {
    return clientAddress(this.request, this.#core.options.trustProxyHops);
  }

  /** The cookie name actually used on this request: `__Host-<base>` over HTTPS. */
  cookieName(base: string): string {
    return this.#secureCookies() ? `__Host-${base}` : base;
  }

  /**
   * One check of a secret of `account` against its failure budget (see `LoginThrottle.checkSecret`),
   * with the `loginFailed` events: every check of a secret goes through here.
   */
  async #checkSecret(account: string, check: () => Promise<SecretCheck<U>>): Promise<LoginAttemptResult<U>> {
    const { throttle, options } = this.#core;
    const outcome = await throttle.checkSecret(account, this.clientAddress, () => options.clock.now(), check);
    if (outcome.ok) return { ok: true, user: outcome.value };
    if (outcome.reason === "locked") return this.#failed(account, "locked", outcome.retryAfterSeconds);
    this.#emitFailure(account, outcome.reason, outcome.after);
    return invalid(outcome.after);
  }

  /**
   * The one rule for ending sessions other than this one (ASVS 7.5.2, checklist 54): it needs a login
   * confirmed with a password on this session. Without it, a session restored from a stolen
   * remember-me cookie (or made stale by session protection) could log the owner out everywhere, one
   * session at a time. Throws, like {@link AuthContext.requireUser} on an unguarded route: the app's
   * `freshLoginRequired` guard sends such a user to `refreshView` before the call is ever made.
   * (`afterPasswordChange` is not bound by it: it follows a change the app has already made, after
   * checking the current password, and refusing then would leave the old sessions alive.)
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
    return this.#core.keys.sign(SESSION_HANDLE_PURPOSE, sessionId).slice(0, 22);
  }

  /** Emits the failure, then a "locked" failure when this one started a lock. */
  #emitFailure(account: string, reason: "invalid" | "inactive", after: ThrottleStatus): void {
    this.#core.events.emit("loginFailed", { account, reason, request: this.request });
    if (after.locked) {
      this.#core.events.emit("loginFailed", {
        account,
        reason: "locked",
        retryAfterSeconds: after.retryAfterSeconds,
        request: this.request,
      });
    }
  }

  #failed(account: string, reason: "locked", retryAfterSeconds: number): LoginAttemptResult<U> {
    this.#core.events.emit("loginFailed", { account, reason, retryAfterSeconds, request: this.request });
    return { ok: false, reason, retryAfterSeconds };
  }

  #pendingFlashes(): FlashMessage[] {
    this.#flashes ??= decodeFlashes(
      this.#core.keys,
      this.#cookies.get(this.cookieName(this.#core.options.flashCookieName)),
    );
    return this.#flashes;
  }

  #setUser(user: U, source: AuthSource, fresh: boolean, rememberSelector: string | null): void {
    this.#user = user;
    this.#source = source;
    this.#fresh = fresh;
    this.#rememberSelector = rememberSelector;
  }

  async #startSession(userId: string, fresh: boolean, rememberSelector: string | null): Promise<void> {
    const { session, cookieValue } = await createSession(this.#core.options, this.request, {
      userId,
      fresh,
      rememberSelector,
    });
    this.#session = session;
    this.#setCookie(this.#core.options.sessionCookieName, cookieValue);
    // The response carries a session id: no shared or browser cache may keep it (ASVS 14.3.2).
    this.#response.setHeader("cache-control", "no-store");
  }

  async #rotateSession(fresh: boolean, keepRemember = true): Promise<void> {
    const user = this.requireUser();
    const previous = this.#session;
    const rememberSelector = keepRemember ? (previous?.rememberSelector ?? this.#rememberSelector) : null;
    await this.#startSession(user.getId(), fresh, rememberSelector);
    if (previous) await this.#core.options.store.deleteSession(previous.id);
  }

  async #issueRememberToken(userId: string, durationSeconds: number): Promise<string> {
    const { options } = this.#core;
    const now = options.clock.now();
    const selector = randomToken();
    const validator = randomToken();
    await options.store.createRememberToken({
      selector,
      validatorHash: hashToken(validator),
      previousValidatorHash: null,
      rotatedAt: now,
      userId,
      createdAt: now,
      expiresAt: now + durationSeconds * 1000,
    });
    this.#setCookie(options.rememberCookieName, `${selector}.${validator}`, durationSeconds);
    return selector;
  }

  async #endCurrentSession(): Promise<void> {
    const { options } = this.#core;
    const selector = this.#session?.rememberSelector ?? this.#rememberSelector;
    const userId = this.#session?.userId ?? this.#user?.getId();
    await Promise.all([
      this.#session ? options.store.deleteSession(this.#session.id) : undefined,
      selector ? options.store.deleteRememberToken(selector) : undefined,
    ]);
    // A parallel request may have restored a session from this token meanwhile: end it too.
    if (selector && userId) await deleteSessionsOfToken(options, userId, selector);
    this.#session = null;
    this.#rememberSelector = null;
  }

  async #deleteSessionAndToken(session: SessionRecord): Promise<void> {
    const { store } = this.#core.options;
    await Promise.all([
      store.deleteSession(session.id),
      session.rememberSelector ? store.deleteRememberToken(session.rememberSelector) : undefined,
    ]);
  }

  #secureCookies(): boolean {
    const setting = this.#core.options.cookieSecure;
    return setting === "auto" ? this.#https : setting;
  }

  #setCookie(base: string, value: string, maxAgeSeconds?: number): void {
    const name = this.cookieName(base);
    this.#response.setCookie(
      name,
      serializeCookie(name, value, {
        secure: this.#secureCookies(),
        sameSite: this.#core.options.cookieSameSite,
        maxAgeSeconds,
      }),
    );
  }

  /** Expires a cookie; unless `always`, only when the request carried it (no needless Set-Cookie). */
  #clearCookie(base: string, always = false): void {
    if (!always && !this.#cookies.has(this.cookieName(base))) return;
    this.#setCookie(base, "", 0);
  }
}
