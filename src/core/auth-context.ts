import { type AuthMethodProof, parseAuthMethods, provesSecondFactor } from "./auth-methods.js";
import { type LoginOptions, type PendingLogin, requireFreshLogin, type SessionInfo } from "./auth-types.js";
import { clientAddress, requestOrigin } from "./client.js";
import { CookieJar } from "./cookie-jar.js";
import { LoginManagerError } from "./errors.js";
import type { FlashMessage } from "./flash.js";
import type { GuardRequirement } from "./guards.js";
import type { AuthReply, RequestView, ResponseView } from "./http.js";
import type { CredentialSnapshot } from "./lifecycle/index.js";
import { LoginFlow, type SecondStep } from "./login-flow.js";
import type { AuthSource, LoadedState, LoginState } from "./login-state.js";
import { CsrfCookie, FlashQueue } from "./request-extras.js";
import {
  type LoginAttemptResult,
  type LoginOutcome,
  passwordLogin,
  passwordReauth,
  type SecretCheckResult,
  verifySecret,
} from "./secret-checks.js";
import type { RequestServices } from "./services.js";
import type { AnonymousUser, AuthUser } from "./users.js";

export type { AuthMethodProof } from "./auth-methods.js";
export type { LoginOptions, PendingLogin, SessionInfo } from "./auth-types.js";
export type { SecondStep } from "./login-flow.js";
export type { AuthSource } from "./login-state.js";
export type { LoginAttemptResult, SecretCheckResult } from "./secret-checks.js";

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
export function guardReply(value: unknown, requirement: GuardRequirement): AuthReply | null | undefined {
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
  readonly #response: ResponseView;
  readonly #cookies: ReadonlyMap<string, string>;
  readonly #https: boolean;
  /** Made on first use: most requests read no cookie of theirs beyond the loader's and set none. */
  #cookieJar: CookieJar | undefined;
  /** Who is logged in on this request and how; replaced whole when a step changes it. */
  #state: LoginState<U>;
  #anonymous: AnonymousUser | undefined;
  #accessed = false;
  #csrf: CsrfCookie | undefined;
  #flashes: FlashQueue | undefined;
  #loginFlow: LoginFlow<U> | undefined;

  static {
    servicesOfContext = (value) =>
      #services in value ? (value.#services as unknown as RequestServices<never>) : undefined;
  }

  /** Built by the manager for each request from its services; applications never construct one. */
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
    this.#response = response;
    this.#cookies = cookies;
    this.#state = loaded;
    if (loaded.cookies) this.#jar.applyLoaderChanges(loaded.cookies);
  }

  /** The logged-in user, or the anonymous user. */
  get user(): U | AnonymousUser {
    if (!this.#accessed) {
      this.#accessed = true;
      // Checked first so a request with no listener allocates no payload.
      const { events } = this.#services;
      if (events.has("accessed")) events.emit("accessed", { request: this.request });
    }
    if (this.#state.user) return this.#state.user;
    this.#anonymous ??= this.#services.options.anonymousUser();
    return this.#anonymous;
  }

  /** True when a user is logged in and active (what `loginRequired` checks). */
  get isAuthenticated(): boolean {
    return this.#state.user?.isAuthenticated === true;
  }

  /** How the current user was authenticated on this request, or null when anonymous. */
  get source(): AuthSource {
    return this.#state.user ? this.#state.source : null;
  }

  /** The logged-in user; throws when nobody is (use behind `loginRequired`). */
  requireUser(): U {
    const { user } = this.#state;
    if (user) return user;
    throw new LoginManagerError(
      "ERR_NOT_AUTHENTICATED",
      "requireUser() called for an anonymous request; guard the route with loginRequired",
    );
  }

  /** True when the login was confirmed with a password on this session (Flask-Login's `login_fresh`). */
  loginFresh(): boolean {
    return this.#state.user !== null && this.#state.fresh;
  }

  /** True when this session was restored from a remember-me cookie (Flask-Login's `login_remembered`). */
  loginRemembered(): boolean {
    const { user, rememberSelector } = this.#state;
    return (
      user !== null && rememberSelector !== null && this.#jar.has(this.#services.options.cookies.rememberName)
    );
  }

  /**
   * Logs `user` in: a new session id (no fixation), a new CSRF token and, with `remember`, a
   * remember-me token. False, changing nothing, for an inactive user unless `force`, and when the
   * user's sessions were revoked while it ran (prefer {@link AuthContext.attemptLogin}, which also
   * covers a password change landing while the password is verified). For a user with TOTP or a
   * passkey, a login whose `methods` name no second factor starts a pending login instead and
   * resolves false ({@link AuthContext.secondFactorPending}; {@link AuthContext.completeLogin}).
   */
  async loginUser(user: U, options: LoginOptions = {}): Promise<boolean> {
    return (await this.#login(user, options)) === "ok";
  }

  /** True once this request started a pending login (a second factor is needed; see `loginUser`). */
  get secondFactorPending(): boolean {
    return this.#loginFlow?.pendingStarted === true;
  }

  /** The pending login this browser holds (a right password, the second factor to come), or null. */
  pendingLogin(): Promise<PendingLogin | null> {
    return this.#flow.pending();
  }

  /**
   * Completes the pending login with a second factor: `step.verify` checks it against the account's
   * failure budget (the one passwords spend); when right, the pending login is used up (once), and
   * a new session starts, remembered if asked at the password step, recording both steps' methods.
   * Resolves null when this browser holds no valid pending login (none, expired or revoked): e.g.
   * `completeLogin({ methods: ["otp"], verify: (pending) => totpIsRight(pending.userId, code) })`.
   */
  completeLogin(step: SecondStep): Promise<LoginAttemptResult<U> | null> {
    return this.#flow.complete(step, this.clientAddress);
  }

  /** Drops this browser's pending login (its cookie; the record expires within minutes). */
  cancelPendingLogin(): void {
    this.#flow.cancelPending();
  }

  /**
   * Checks one of the account's secrets against its failure budget, e.g. a TOTP code before TOTP is
   * turned off. `account` is the name {@link AuthContext.attemptLogin} counts.
   */
  verifySecret(attempt: { account: string; verify: () => Promise<boolean> }): Promise<SecretCheckResult> {
    return verifySecret(this.#services, this.request, this.clientAddress, attempt);
  }

  /** How this session was authenticated: each method proven and when (empty when nothing was recorded). */
  authMethods(): readonly AuthMethodProof[] {
    return parseAuthMethods(this.#state.user ? (this.#state.session?.authMethods ?? "") : "");
  }

  /** Whether a second factor was proven in this session (within the last `withinSeconds` when given). */
  secondFactorProven(withinSeconds?: number): boolean {
    const since = withinSeconds === undefined ? null : this.#services.clock.now() - withinSeconds * 1000;
    return provesSecondFactor(this.authMethods(), since);
  }

  /**
   * A hash naming this browser's login (its session, else its pending login, else its CSRF cookie,
   * set if missing), to bind a ceremony (a passkey challenge, a TOTP enrolment) to the browser.
   */
  browserBinding(): string {
    return this.#flow.binding(() => {
      this.csrfToken();
      return this.csrfCookieValue ?? "";
    });
  }

  /** Logs the user out: deletes the session and remember token on the server and clears both cookies. */
  async logoutUser(): Promise<boolean> {
    const previous = this.#state.user;
    await this.#services.lifecycle.logout(this.#flow.held());
    this.#flow.becomeAnonymous(true);
    this.rotateCsrfToken();
    this.#services.events.emit("loggedOut", { user: previous, request: this.request });
    return true;
  }

  /**
   * Marks the login fresh after the user re-entered their password (Flask-Login's `confirm_login`).
   * The session gets a new id and both timeouts restart (NIST 800-63B: re-authentication resets them).
   * Resolves false, and the request is anonymous from then on, when this session was revoked
   * meanwhile (a password change elsewhere): re-authenticating must not revive it. `methods` are
   * what the user just proved, recorded in the session. @default ["pwd"]
   */
  async confirmLogin(methods: readonly string[] = ["pwd"]): Promise<boolean> {
    const user = this.requireUser();
    if (!(await this.#flow.rotate(true, true, methods))) return false;
    this.#services.events.emit("loginConfirmed", { user, request: this.request });
    return true;
  }

  /**
   * After the user changed their password: keeps this browser logged in under a new session id and
   * ends every other session and every remember-me token of the user, including logins that were
   * still in flight when the change was made.
   */
  afterPasswordChange(): Promise<number> {
    return this.#flow.afterPasswordChange(this.requireUser().getId());
  }

  /** The user's active sessions, oldest first, the current one marked. */
  listSessions(): Promise<SessionInfo[]> {
    return this.#flow.listSessions(this.requireUser().getId());
  }

  /**
   * Ends one of the user's own sessions by its handle; resolves false when no such session exists.
   * Ending another session needs a fresh login, as {@link AuthContext.revokeOtherSessions} does:
   * otherwise it throws (guard the route with `freshLoginRequired`). Ending this session is a logout,
   * which needs none.
   */
  async revokeSession(handle: string): Promise<boolean> {
    const ended = await this.#flow.revokeSession(this.requireUser().getId(), handle, this.loginFresh());
    if (ended === "current") await this.logoutUser();
    return ended !== false;
  }

  /**
   * Ends every session of the user except this one, and every remember-me token except this
   * browser's (which is replaced by a new one expiring at the same time); resolves to the number of
   * sessions ended. Needs a fresh login: otherwise it throws (guard the route with
   * `freshLoginRequired`).
   */
  revokeOtherSessions(): Promise<number> {
    const userId = this.requireUser().getId();
    requireFreshLogin(this.loginFresh(), "revokeOtherSessions");
    return this.#flow.revokeOthers(userId);
  }

  /**
   * Checks a password login with brute-force limits. `verify` must do the same hashing work whether
   * or not the account exists (the hasher's `verifyDummy` for unknown users) and resolve the user on
   * success, or `null` (rather than throw) for a wrong password. `account` is the canonical name the
   * user lookup uses (trimmed, case-folded, NFKC); {@link AuthContext.attemptReauth} must be given the
   * same string, because both spend one failure budget per account. Each attempt is counted before
   * `verify` runs and the count is reset on success, so however many processes share the store, an
   * account gets at most `throttle.maxAccountFailures` checks before it locks; an inactive user counts
   * as a wrong password. A password change (or any revocation of the user's sessions) that lands
   * while `verify` runs or the session is being created wins: `invalid`, and nothing is left behind.
   */
  attemptLogin(attempt: {
    account: string;
    verify: () => Promise<U | null | undefined>;
    remember?: boolean;
    durationSeconds?: number;
  }): Promise<LoginAttemptResult<U>> {
    const { remember, durationSeconds, account } = attempt;
    const options: LoginOptions = { remember, durationSeconds, account };
    return passwordLogin(this.#services, this.request, this.clientAddress, attempt, (user, snapshot) =>
      this.#login(user, options, snapshot),
    );
  }

  /**
   * Re-authentication with brute-force limits: `verify` checks the current user's password; on
   * success the login is confirmed ({@link AuthContext.confirmLogin}). `account` is the string
   * {@link AuthContext.attemptLogin} counts for this user (its canonical name), because both checks
   * spend one failure budget per account. Also the check for a password change's current password.
   * `methods` are recorded as proven (default `["pwd"]`); a function is called once `verify` succeeded.
   *
   * @example
   * ```ts
   * await req.auth.attemptReauth({ account, verify: () => hasher.verify(user.passwordHash, password) });
   * ```
   */
  attemptReauth(attempt: {
    account: string;
    verify: () => Promise<boolean>;
    methods?: readonly string[] | (() => readonly string[]);
  }): Promise<LoginAttemptResult<U>> {
    const user = this.requireUser();
    const { methods } = attempt;
    return passwordReauth(this.#services, this.request, this.clientAddress, attempt, async () =>
      (await this.confirmLogin(typeof methods === "function" ? methods() : methods)) ? user : null,
    );
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
    this.#csrf ??= new CsrfCookie(this.#jar, this.#services.keys);
    return this.#csrf.token();
  }

  /** Replaces the CSRF secret (done at login and logout); earlier tokens stop working. */
  rotateCsrfToken(): void {
    this.#csrf ??= new CsrfCookie(this.#jar, this.#services.keys);
    this.#csrf.rotate();
  }

  /** Queues a message for the next page (Flask's `flash`). */
  flash(message: string, category = "message"): void {
    this.#flashes ??= new FlashQueue(this.#jar, this.#services.keys);
    this.#flashes.add(message, category);
  }

  /** Returns and clears the queued messages (Flask's `get_flashed_messages`). */
  takeFlashes(): FlashMessage[] {
    this.#flashes ??= new FlashQueue(this.#jar, this.#services.keys);
    return this.#flashes.take();
  }

  /** The client address used for throttling and session lists (socket peer unless proxies are trusted). */
  get clientAddress(): string {
    return clientAddress(this.request, this.#services.options.network.trustProxyHops);
  }

  /** The cookie name actually used on this request: `__Host-<base>` over HTTPS. */
  cookieName(base: string): string {
    return this.#jar.name(base);
  }

  get #jar(): CookieJar {
    this.#cookieJar ??= new CookieJar(
      this.#cookies,
      this.#response,
      this.#services.options.cookies,
      this.#https,
    );
    return this.#cookieJar;
  }

  #login(user: U, options: LoginOptions, snapshot?: CredentialSnapshot): Promise<LoginOutcome> {
    return this.#flow.login(user, options, snapshot);
  }

  get #flow(): LoginFlow<U> {
    this.#loginFlow ??= new LoginFlow<U>(this.request, this.#services, {
      jar: () => this.#jar,
      state: () => this.#state,
      replaceState: (state) => {
        this.#state = state;
      },
      rotateCsrfToken: () => this.rotateCsrfToken(),
    });
    return this.#loginFlow;
  }
}
