/**
 * Works out who is making a request, in Flask-Login's order: the session cookie, then the
 * remember-me cookie, then the request loader. Missing, expired or forged cookies mean anonymous.
 * Store failures propagate (the adapter answers 503), never turn into "anonymous".
 *
 * @module
 */
import { isLoaded, tryOtherValues, type ValueOutcome } from "./cookie-candidates.js";
import type { LoginManagerEvents, TypedEvents } from "./events.js";
import type { RequestView } from "./http.js";
import type { SessionLifecycle } from "./lifecycle/index.js";
import { ANONYMOUS_STATE, type CookieChanges, type LoadedState } from "./login-state.js";
import { type MaybePromise, settle } from "./maybe-promise.js";
import type { SessionRecord } from "./store.js";
import { parseTokenPair } from "./tokens.js";
import type { UserSource } from "./user-source.js";
import type { AuthUser } from "./users.js";

/**
 * What the loader works with.
 *
 * @example
 * ```ts
 * const deps: LoaderDeps<User> = { lifecycle, users, events };
 * ```
 */
export interface LoaderDeps<U extends AuthUser> {
  readonly lifecycle: SessionLifecycle<U>;
  readonly users: UserSource<U>;
  readonly events: TypedEvents<LoginManagerEvents<U>>;
}

const CLEAR_SESSION: CookieChanges = Object.freeze({ clearSession: true, clearRemember: false });

/**
 * Loads the request's user. `names` holds the session and remember cookie names first, `cookies`
 * the first value of each. When that value loads nobody, the other values the header gives the name
 * are tried too ({@link tryOtherValues}), so a value tossed in ahead of the real cookie neither logs
 * the user out nor makes the response delete the real cookie.
 *
 * Answers synchronously in the steady state when the store and the user loader do (memory or SQLite
 * store, a synchronous loader or a user-cache hit, no touch due): no promise is created then.
 *
 * @example
 * ```ts
 * const loaded = await loadRequestUser(deps, request, header, names, cookies);
 * ```
 */
export function loadRequestUser<U extends AuthUser>(
  deps: LoaderDeps<U>,
  request: RequestView,
  header: string | undefined,
  names: readonly string[],
  cookies: ReadonlyMap<string, string>,
): MaybePromise<LoadedState<U>> {
  const first = cookies.get(names[0] as string);
  if (first === undefined) return loadWithoutSession(deps, request, header, names, cookies, false);
  return settle(loadFromSession(deps, request, first), (outcome) =>
    isLoaded(outcome) ? outcome : afterSessionValue(deps, request, header, names, cookies, first, outcome),
  );
}

/** The first session value loaded nobody: the others, then the remember cookie and the request loader. */
function afterSessionValue<U extends AuthUser>(
  deps: LoaderDeps<U>,
  request: RequestView,
  header: string | undefined,
  names: readonly string[],
  cookies: ReadonlyMap<string, string>,
  first: string,
  firstOutcome: "dead" | null,
): MaybePromise<LoadedState<U>> {
  const tryValue = (value: string) => loadFromSession(deps, request, value);
  return settle(tryOtherValues(header, names[0] as string, first, firstOutcome, tryValue), (found) =>
    isLoaded(found) ? found : loadWithoutSession(deps, request, header, names, cookies, found === "dead"),
  );
}

function loadWithoutSession<U extends AuthUser>(
  deps: LoaderDeps<U>,
  request: RequestView,
  header: string | undefined,
  names: readonly string[],
  cookies: ReadonlyMap<string, string>,
  clearSession: boolean,
): MaybePromise<LoadedState<U>> {
  const rememberName = names[1] as string;
  const first = cookies.get(rememberName);
  if (first === undefined) return loadFromRequest(deps, request, clearSession ? CLEAR_SESSION : null);
  const tryValue = (value: string) => loadFromRemember(deps, request, value, clearSession);
  return tryValue(first).then(async (outcome) => {
    const found = isLoaded(outcome)
      ? outcome
      : await tryOtherValues(header, rememberName, first, outcome, tryValue);
    if (isLoaded(found)) return found;
    const clearRemember = found === "dead";
    const changes = clearSession || clearRemember ? { clearSession, clearRemember } : null;
    return loadFromRequest(deps, request, changes);
  });
}

/** What one session value loads (see {@link ValueOutcome}). */
function loadFromSession<U extends AuthUser>(
  deps: LoaderDeps<U>,
  request: RequestView,
  cookie: string,
): MaybePromise<ValueOutcome<U>> {
  const pair = parseTokenPair(cookie);
  if (!pair || !deps.users.canLoadSessions) return null;
  const { lifecycle } = deps;
  const now = lifecycle.now();
  return settle(lifecycle.findSession(pair.id, pair.secret, now), (session) => {
    if (session === "dead") return "dead";
    if (lifecycle.fingerprintMatches(request, session)) return loadSessionUser(deps, session, now);
    return lifecycle
      .protect(request, session)
      .then((kept) => (kept === "ended" ? "dead" : loadSessionUser(deps, session, now)));
  });
}

/** Loads the session's user; a user that no longer exists ends the session. */
function loadSessionUser<U extends AuthUser>(
  deps: LoaderDeps<U>,
  session: SessionRecord,
  now: number,
): MaybePromise<ValueOutcome<U>> {
  return settle(deps.users.load(session.userId), (user) => {
    if (!user) return deps.lifecycle.endOrphan(session).then(() => "dead" as const);
    const loaded: LoadedState<U> = {
      user,
      session,
      source: "session",
      fresh: session.fresh,
      rememberSelector: session.rememberSelector,
      cookies: null,
    };
    // touch updates `session`, the object `loaded` holds.
    return deps.lifecycle.touchDue(session, now)
      ? deps.lifecycle.touch(session, now).then(() => loaded)
      : loaded;
  });
}

/** What one remember value loads (see {@link ValueOutcome}), with the cookies a restore sends. */
async function loadFromRemember<U extends AuthUser>(
  deps: LoaderDeps<U>,
  request: RequestView,
  cookie: string,
  clearSession: boolean,
): Promise<ValueOutcome<U>> {
  const pair = parseTokenPair(cookie);
  if (!pair || !deps.users.canLoadSessions) return null;
  const restored = await deps.lifecycle.restore(request, pair.id, pair.secret, (id) =>
    deps.users.loadAsync(id),
  );
  if (restored === "dead") return "dead";
  const { user, created, rememberCookie } = restored;
  const cookies: CookieChanges | null =
    created && rememberCookie
      ? { clearSession: false, clearRemember: false, session: created.cookieValue, remember: rememberCookie }
      : clearSession
        ? CLEAR_SESSION
        : null;
  return {
    user,
    session: created?.session ?? null,
    source: "remember",
    fresh: false,
    rememberSelector: pair.id,
    cookies,
  };
}

function loadFromRequest<U extends AuthUser>(
  deps: LoaderDeps<U>,
  request: RequestView,
  cookies: CookieChanges | null,
): MaybePromise<LoadedState<U>> {
  return settle(deps.users.fromRequest(request), (user): LoadedState<U> => {
    if (!user) return cookies ? { ...ANONYMOUS_STATE, cookies } : ANONYMOUS_STATE;
    deps.events.emit("loadedFromRequest", { user, request });
    return { user, session: null, source: "request", fresh: false, rememberSelector: null, cookies };
  });
}
