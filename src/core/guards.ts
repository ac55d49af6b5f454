/**
 * What `loginRequired` and `freshLoginRequired` answer (Flask-Login's `unauthorized()` and
 * `needs_refresh()`): a redirect to the view with `next`, a 401 JSON body, or the app's handler's reply.
 *
 * @module
 */
import { wantsJson } from "./client.js";
import { ConfigurationError } from "./errors.js";
import type { LoginManagerEvents, TypedEvents } from "./events.js";
import type { AuthReply, RequestView } from "./http.js";
import { loginUrl, makeNextParam } from "./redirects.js";
import type { ReplyHandler, ViewSettings } from "./settings.js";
import type { AuthUser } from "./users.js";

/**
 * The part of a request's context the guards read (an `AuthContext` is one).
 *
 * @example
 * ```ts
 * const reply = guards.check(req.auth, { fresh: false });
 * ```
 */
export interface GuardedRequest {
  readonly request: RequestView;
  readonly isAuthenticated: boolean;
  readonly requestOrigin: string | null;
  loginFresh(): boolean;
  secondFactorProven(withinSeconds?: number): boolean;
  flash(message: string, category?: string): void;
}

/**
 * What a route guard requires: a login, a fresh one, and/or a second factor proven in the session
 * (within `withinSeconds` when not null).
 *
 * @example
 * ```ts
 * const requirement: GuardRequirement = { fresh: false, secondFactor: { withinSeconds: 600 } };
 * ```
 */
export interface GuardRequirement {
  readonly fresh: boolean;
  readonly secondFactor?: { readonly withinSeconds: number | null };
}

/**
 * `loginRequired`'s requirement.
 *
 * @example
 * ```ts
 * const reply = guardReply(req.auth, LOGIN);
 * ```
 */
export const LOGIN: GuardRequirement = Object.freeze({ fresh: false });

/**
 * `freshLoginRequired`'s requirement.
 *
 * @example
 * ```ts
 * const reply = guardReply(req.auth, FRESH_LOGIN);
 * ```
 */
export const FRESH_LOGIN: GuardRequirement = Object.freeze({ fresh: true });

/**
 * `secondFactorRequired`'s requirement, its option checked (a misuse throws at setup).
 *
 * @example
 * ```ts
 * const requirement = stepUpRequirement({ withinSeconds: 600 });
 * ```
 */
export function stepUpRequirement(options: { withinSeconds?: number } = {}): GuardRequirement {
  const { withinSeconds, ...rest } = options ?? {};
  const unknown = Object.keys(rest);
  if (unknown.length > 0) {
    throw new ConfigurationError(
      `secondFactorRequired takes { withinSeconds }, not ${unknown.map((name) => JSON.stringify(name)).join(", ")}`,
    );
  }
  if (withinSeconds !== undefined && !(Number.isInteger(withinSeconds) && withinSeconds > 0)) {
    throw new ConfigurationError(
      `secondFactorRequired's withinSeconds must be a positive whole number of seconds, got ${JSON.stringify(withinSeconds)}`,
    );
  }
  return Object.freeze({
    fresh: false,
    secondFactor: Object.freeze({ withinSeconds: withinSeconds ?? null }),
  });
}

/**
 * The route guards of one manager.
 *
 * @example
 * ```ts
 * const guards = new Guards(options.views, events);
 * const reply = guards.check(auth, { fresh: true }); // null: go on
 * ```
 */
export class Guards<U extends AuthUser> {
  readonly #views: ViewSettings;
  readonly #events: TypedEvents<LoginManagerEvents<U>>;

  constructor(views: ViewSettings, events: TypedEvents<LoginManagerEvents<U>>) {
    this.#views = views;
    this.#events = events;
  }

  /** Null when the request may go on, otherwise the reply. OPTIONS requests always pass. */
  check(auth: GuardedRequest, requirement: GuardRequirement): AuthReply | null {
    if (auth.request.method === "OPTIONS") return null;
    if (!auth.isAuthenticated) return this.unauthorized(auth);
    if (requirement.fresh && !auth.loginFresh()) return this.needsRefresh(auth);
    const { secondFactor } = requirement;
    if (secondFactor && !auth.secondFactorProven(secondFactor.withinSeconds ?? undefined))
      return this.needsRefresh(auth);
    return null;
  }

  /** The reply for an anonymous visitor on a protected route. */
  unauthorized(auth: GuardedRequest): AuthReply {
    this.#events.emit("unauthorized", { request: auth.request });
    const { loginView, loginMessage, loginMessageCategory, unauthorizedHandler } = this.#views;
    return this.#deny(
      auth,
      unauthorizedHandler,
      loginView,
      loginMessage,
      loginMessageCategory,
      "unauthorized",
    );
  }

  /** The reply for a stale login on a fresh-only route. */
  needsRefresh(auth: GuardedRequest): AuthReply {
    this.#events.emit("needsRefresh", { request: auth.request });
    const { refreshView, needsRefreshMessage, needsRefreshMessageCategory, needsRefreshHandler } =
      this.#views;
    return this.#deny(
      auth,
      needsRefreshHandler,
      refreshView,
      needsRefreshMessage,
      needsRefreshMessageCategory,
      "needs_refresh",
    );
  }

  #deny(
    auth: GuardedRequest,
    handler: ReplyHandler | undefined,
    view: string | null,
    message: string | null,
    category: string,
    error: string,
  ): AuthReply {
    const custom = handler?.(auth.request);
    if (custom) return custom;
    const headers = { "cache-control": "no-store" };
    if (!view || wantsJson(auth.request)) {
      return { status: 401, headers, body: { error, message: message ?? "Authentication required." } };
    }
    if (message) auth.flash(message, category);
    const location = loginUrl(view, makeNextParam(view, returnUrl(auth, view)), this.#views.nextField);
    return { status: 302, headers: { ...headers, location } };
  }
}

/**
 * What `next` should bring the user back to: the path as received, or, when the view is an absolute
 * URL, this request's full URL (its own origin, as the CSRF check sees it), so that a login page on
 * another origin can send the user back here. `makeNextParam` then keeps only the path if the view
 * is on this origin after all. A missing or malformed Host falls back to the path.
 */
function returnUrl(auth: GuardedRequest, view: string): string {
  const { url } = auth.request;
  if (!/^https?:\/\//i.test(view) || !url.startsWith("/")) return url;
  const origin = auth.requestOrigin;
  return origin ? `${origin}${url}` : url;
}
