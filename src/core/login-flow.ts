/**
 * The steps that change who is logged in on one request's browser: log in (or stop at a pending
 * login when the account has a second factor), complete that login, rotate the session id, end it.
 * An `AuthContext` makes one on first use; it reads and replaces the context's state through the host.
 *
 * @module
 */
import { checkMethodNames, namesSecondFactor, recordMethods } from "./auth-methods.js";
import {
  describeSession,
  type LoginOptions,
  type PendingLogin,
  requireFreshLogin,
  type SessionInfo,
  sessionHandle,
} from "./auth-types.js";
import { type CookieJar, pendingCookieName } from "./cookie-jar.js";
import { ConfigurationError } from "./errors.js";
import type { RequestView } from "./http.js";
import type { CredentialSnapshot, HeldLogin, PendingLoginRecord } from "./lifecycle/index.js";
import { ANONYMOUS_STATE, type LoginState } from "./login-state.js";
import { checkSecret, type LoginAttemptResult, type LoginOutcome } from "./secret-checks.js";
import type { RequestServices } from "./services.js";
import type { SecretCheck } from "./throttle.js";
import { hashToken } from "./tokens.js";
import type { AuthUser } from "./users.js";

/**
 * What a {@link LoginFlow} reaches in its request's context.
 *
 * @example
 * ```ts
 * const context: FlowContext<User> = { jar: () => jar, state: () => state, replaceState: (s) => { state = s }, rotateCsrfToken() {} };
 * ```
 */
export interface FlowContext<U extends AuthUser> {
  jar(): CookieJar;
  state(): LoginState<U>;
  replaceState(state: LoginState<U>): void;
  rotateCsrfToken(): void;
}

/** The context as the flow's steps read it. */
interface FlowHost<U extends AuthUser> {
  readonly request: RequestView;
  readonly services: RequestServices<U>;
  readonly jar: CookieJar;
  state: LoginState<U>;
  rotateCsrfToken(): void;
}

/**
 * The second step of a pending login (see `AuthContext.completeLogin`).
 *
 * @example
 * ```ts
 * const step: SecondStep = { methods: ["otp"], verify: async (pending) => codeIsRight(pending.userId) };
 * ```
 */
export interface SecondStep {
  /** The second-factor methods the step proves, e.g. `["otp"]`. */
  readonly methods: readonly string[];
  /** Checks the factor; counted in the account's failure budget when it resolves false. */
  readonly verify: (pending: PendingLogin) => Promise<boolean>;
}

/** Longest account name a pending login keeps (it is stored with the one-time token's data). */
const MAX_PENDING_ACCOUNT_LENGTH = 512;
const WRONG: SecretCheck<never> = Object.freeze({ ok: false, reason: "invalid" });

function viewOf(found: PendingLoginRecord): PendingLogin {
  const { userId, account, rememberSeconds, expiresAt } = found;
  return Object.freeze({ userId, account, remember: rememberSeconds !== null, expiresAt });
}

/** Login steps of one request (see the module doc). */
export class LoginFlow<U extends AuthUser> {
  readonly #host: FlowHost<U>;
  /** True once a login on this request stopped at a pending login. */
  pendingStarted = false;
  /** True once this request dropped the pending login it came with. */
  #pendingCancelled = false;

  constructor(request: RequestView, services: RequestServices<U>, context: FlowContext<U>) {
    this.#host = {
      request,
      services,
      get jar() {
        return context.jar();
      },
      get state() {
        return context.state();
      },
      set state(state: LoginState<U>) {
        context.replaceState(state);
      },
      rotateCsrfToken: () => context.rotateCsrfToken(),
    };
  }

  /** The pending-login cookie's base name: the session cookie's, suffixed. */
  get pendingCookie(): string {
    return pendingCookieName(this.#host.services.options.cookies.sessionName);
  }

  /**
   * Logs `user` in, or, when the account has a second factor that `options.methods` does not
   * prove, starts a pending login instead ("second-factor").
   */
  async login(user: U, options: LoginOptions, snapshot?: CredentialSnapshot): Promise<LoginOutcome> {
    if (!options.force && !user.isActive) return "inactive";
    const rememberSeconds = this.#rememberSeconds(options);
    const methods = checkMethodNames(options.methods ?? ["pwd"]);
    const { lifecycle, clock } = this.#host.services;
    const userId = user.getId();
    if (!namesSecondFactor(methods) && (await lifecycle.hasSecondFactor(userId))) {
      const authMethods = recordMethods("", methods, clock.now());
      const account = options.account ?? userId;
      if (account.length > MAX_PENDING_ACCOUNT_LENGTH) {
        throw new ConfigurationError(
          `a login that waits for a second factor keeps its account name, which may have at most ${MAX_PENDING_ACCOUNT_LENGTH} characters (got ${account.length}): pass the canonical name the user logs in with`,
        );
      }
      const cookie = await lifecycle.startPending({ userId, account, rememberSeconds, authMethods });
      this.#host.jar.set(this.pendingCookie, cookie);
      this.#host.jar.noStore();
      this.#host.services.events.emit("secondFactorRequired", { userId, request: this.#host.request });
      this.pendingStarted = true;
      return "second-factor";
    }
    const authMethods = recordMethods("", methods, clock.now());
    return this.#start(user, { fresh: options.fresh ?? true, rememberSeconds, authMethods }, snapshot);
  }

  /** The pending login this browser's cookie names, if still valid. */
  async pending(): Promise<PendingLogin | null> {
    const cookie = this.#pendingCookieValue();
    const found = cookie ? await this.#host.services.lifecycle.findPending(cookie) : null;
    return found && viewOf(found);
  }

  /** Completes the pending login with a second factor (see `AuthContext.completeLogin`). */
  async complete(step: SecondStep, address: string): Promise<LoginAttemptResult<U> | null> {
    const methods = checkMethodNames(step.methods);
    if (!namesSecondFactor(methods)) {
      throw new ConfigurationError(
        `completeLogin needs a second-factor method ("otp", "rc", "hwk", "swk" or "mfa"), got ${JSON.stringify(methods)}`,
      );
    }
    const { jar, services, request } = this.#host;
    const cookie = this.#pendingCookieValue();
    const found = cookie ? await services.lifecycle.findPending(cookie) : null;
    if (!cookie || !found) {
      jar.clear(this.pendingCookie);
      return null;
    }
    const view = viewOf(found);
    const result = await checkSecret(
      services,
      request,
      found.account,
      address,
      async (): Promise<SecretCheck<U | null>> => {
        if (!(await step.verify(view))) return WRONG;
        const consumed = await services.lifecycle.consumePending(cookie);
        // Another request completed it first with a right factor too: nothing to log in, and
        // nothing wrong to count (a right factor resets the budget, as the winner's did).
        if (!consumed) return { ok: true, value: null };
        const user = await services.users.load(consumed.userId);
        if (!user) return WRONG;
        const outcome = await this.#finish(user, consumed, methods);
        if (outcome === "ok") return { ok: true, value: user };
        return outcome === "inactive" ? { ok: false, reason: "inactive" } : WRONG;
      },
    );
    if (result.ok && result.user !== null) {
      jar.clear(this.pendingCookie);
      return { ok: true, user: result.user };
    }
    if (result.ok) {
      jar.clear(this.pendingCookie);
      return null;
    }
    return result.reason === "second-factor" ? null : result;
  }

  /** Forgets the pending login: its cookie now, its record when it expires (it can no longer be named). */
  cancelPending(): void {
    this.#pendingCancelled = true;
    this.#host.jar.clear(this.pendingCookie);
  }

  /** The pending cookie this request came with, unless it dropped it since. */
  #pendingCookieValue(): string | undefined {
    return this.#pendingCancelled ? undefined : this.#host.jar.get(this.pendingCookie);
  }

  /**
   * A new session id for this login with `methods` recorded as proven now (kept earlier proofs);
   * false (and anonymous from then on) when it was revoked meanwhile.
   */
  async rotate(fresh: boolean, keepRemember: boolean, methods: readonly string[]): Promise<boolean> {
    const { services, request, jar } = this.#host;
    const user = this.#host.state.user;
    if (!user) return false;
    const earlier = this.#host.state.session?.authMethods ?? "";
    const authMethods = recordMethods(earlier, checkMethodNames(methods), services.clock.now());
    const held = { ...this.held(), userId: user.getId() };
    const created = await services.lifecycle.rotate(request, held, { fresh, keepRemember, authMethods });
    if (!created) {
      this.becomeAnonymous(false);
      return false;
    }
    jar.setSession(created.cookieValue);
    const rememberSelector = created.session.rememberSelector;
    this.#host.state = { ...this.#host.state, session: created.session, fresh, rememberSelector };
    return true;
  }

  /** See `AuthContext.afterPasswordChange`. */
  async afterPasswordChange(userId: string): Promise<number> {
    const { services, jar, request } = this.#host;
    // The new session must not point at this browser's remember token: it is deleted below.
    const rotated = await this.rotate(true, false, ["pwd"]);
    jar.clear(services.options.cookies.rememberName);
    const keepSessionId = rotated ? this.#host.state.session?.id : undefined;
    return services.lifecycle.revokeUser(userId, "password-change", {
      request,
      ...(keepSessionId ? { keepSessionId } : {}),
    });
  }

  /** See `AuthContext.listSessions`. */
  async listSessions(userId: string): Promise<SessionInfo[]> {
    const { services } = this.#host;
    const sessions = await services.lifecycle.list(userId);
    const currentId = this.#host.state.session?.id;
    return sessions.map((session) =>
      describeSession(session, sessionHandle(services.keys, session.id), currentId),
    );
  }

  /**
   * See `AuthContext.revokeSession`: false when no session has this handle, "current" when it was
   * this browser's (the caller logs out), "other" otherwise.
   */
  async revokeSession(userId: string, handle: string, fresh: boolean): Promise<false | "current" | "other"> {
    const { services, request } = this.#host;
    const current = this.#host.state.session;
    if (current === null || handle !== sessionHandle(services.keys, current.id))
      requireFreshLogin(fresh, "revokeSession");
    const sessions = await services.lifecycle.list(userId);
    const target = sessions.find((session) => sessionHandle(services.keys, session.id) === handle);
    if (!target) return false;
    await services.lifecycle.revokeOne(target, request);
    return target.id === current?.id ? "current" : "other";
  }

  /** See `AuthContext.revokeOtherSessions` (the caller checked freshness). */
  async revokeOthers(userId: string): Promise<number> {
    const { services, request, jar } = this.#host;
    const { count, token } = await services.lifecycle.revokeOthers(request, { ...this.held(), userId });
    const rememberSelector = token?.selector ?? null;
    const { state } = this.#host;
    const session = state.session && { ...state.session, rememberSelector };
    this.#host.state = { ...state, rememberSelector, session };
    if (token) jar.setRemember(token.cookieValue, token.maxAgeSeconds);
    return count;
  }

  /** See `AuthContext.browserBinding`; `csrfCookie` sets the CSRF cookie if missing and returns it. */
  binding(csrfCookie: () => string): string {
    const { session } = this.#host.state;
    if (session) return `s.${sessionHandle(this.#host.services.keys, session.id)}`;
    const pending = this.#host.jar.get(this.pendingCookie);
    if (pending) return `p.${hashToken(pending)}`;
    return `c.${hashToken(csrfCookie())}`;
  }

  /** What this browser holds now. */
  held(): HeldLogin {
    const { session, rememberSelector, user } = this.#host.state;
    return { session, rememberSelector, userId: user?.getId() ?? null };
  }

  /** Forgets the login on this request and clears its cookies (`always`: even if not received). */
  becomeAnonymous(always: boolean): void {
    this.#host.jar.clearLogin(always);
    this.#host.state = ANONYMOUS_STATE;
  }

  #finish(user: U, pending: PendingLoginRecord, methods: readonly string[]): Promise<LoginOutcome> {
    if (!user.isActive) return Promise.resolve("inactive");
    const authMethods = recordMethods(pending.authMethods, methods, this.#host.services.clock.now());
    return this.#start(user, { fresh: true, rememberSeconds: pending.rememberSeconds, authMethods });
  }

  async #start(
    user: U,
    login: { fresh: boolean; rememberSeconds: number | null; authMethods: string },
    snapshot?: CredentialSnapshot,
  ): Promise<LoginOutcome> {
    const { services, request, jar } = this.#host;
    const request_ = { userId: user.getId(), ...login, ...(snapshot ? { snapshot } : {}) };
    const started = await services.lifecycle.login(request, this.held(), request_);
    if (!started) {
      this.becomeAnonymous(false);
      return "revoked";
    }
    const { created, token } = started;
    if (token) jar.setRemember(token.cookieValue, token.maxAgeSeconds);
    else jar.clear(services.options.cookies.rememberName);
    jar.setSession(created.cookieValue);
    jar.clear(this.pendingCookie);
    const rememberSelector = token?.selector ?? null;
    const fresh = login.fresh;
    this.#host.state = { user, session: created.session, source: "login", fresh, rememberSelector };
    this.#host.rotateCsrfToken();
    services.events.emit("loggedIn", { user, request });
    return "ok";
  }

  #rememberSeconds(options: LoginOptions): number | null {
    const durationSeconds = options.durationSeconds ?? this.#host.services.options.rememberMe.durationSeconds;
    if (!Number.isInteger(durationSeconds) || durationSeconds <= 0) {
      throw new ConfigurationError(
        `durationSeconds must be a positive whole number of seconds, got ${JSON.stringify(options.durationSeconds)}`,
      );
    }
    return options.remember ? durationSeconds : null;
  }
}
