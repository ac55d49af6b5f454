import type { LoadedState } from "./auth-context.js";
import { clientAddress, clientFingerprint, userAgent } from "./client.js";
import { isLoaded, tryOtherValues, type ValueOutcome } from "./cookie-candidates.js";
import type { RequestView } from "./http.js";
import type { ManagerCore } from "./internals.js";
import { type MaybePromise, settle } from "./maybe-promise.js";
import type { UserLoader } from "./options.js";
import { createSession, deleteSessionsOfToken } from "./sessions.js";
import type { SessionRecord, SessionStore } from "./store.js";
import { constantTimeEqual, hashToken, parseTokenPair, randomToken } from "./tokens.js";
import type { AuthUser } from "./users.js";

/** Cookie values the loader consumed, and cookies it decided to set or clear. */
export interface CookieDecisions {
  clearSession: boolean;
  clearRemember: boolean;
  /** A rotated remember token to send back: value and remaining lifetime. */
  remember?: { value: string; maxAgeSeconds: number };
  /** A new session created from the remember token. */
  session?: { value: string };
}

const ANONYMOUS: LoadedState<never> = Object.freeze({
  user: null,
  session: null,
  source: null,
  fresh: false,
  rememberSelector: null,
});

/**
 * Works out who is making the request, in Flask-Login's order: the session cookie, then the
 * remember-me cookie, then the request loader. Missing, expired or forged cookies mean anonymous.
 * Store failures propagate (the adapter answers 503), never turn into "anonymous".
 *
 * `names` holds the session and remember cookie names first, `cookies` the first value of each (see
 * `readCookies`). When that value loads nobody, the other values the header gives the name are
 * tried too ({@link tryOtherValues}), so a value tossed in ahead of the real cookie neither logs the
 * user out nor makes the response delete the real cookie.
 *
 * Answers synchronously in the steady state when the store and the user loader do (memory or SQLite
 * store, a synchronous loader or a user-cache hit, no touch due): no promise is created then.
 */
export function loadRequestUser<U extends AuthUser>(
  core: ManagerCore<U>,
  request: RequestView,
  header: string | undefined,
  names: readonly string[],
  cookies: ReadonlyMap<string, string>,
  decisions: CookieDecisions,
): MaybePromise<LoadedState<U>> {
  const sessionValue = cookies.get(names[0] as string);
  if (sessionValue === undefined) return loadWithoutSession(core, request, header, names, cookies, decisions);
  return settle(loadFromSession(core, request, sessionValue), (outcome) =>
    isLoaded(outcome)
      ? outcome
      : afterSessionValue(core, request, header, names, cookies, sessionValue, outcome, decisions),
  );
}

/** The first session value loaded nobody: the others, then the remember cookie and the request loader. */
function afterSessionValue<U extends AuthUser>(
  core: ManagerCore<U>,
  request: RequestView,
  header: string | undefined,
  names: readonly string[],
  cookies: ReadonlyMap<string, string>,
  first: string,
  firstOutcome: "dead" | null,
  decisions: CookieDecisions,
): MaybePromise<LoadedState<U>> {
  const tryValue = (value: string) => loadFromSession(core, request, value);
  const found = tryOtherValues(header, names[0] as string, first, firstOutcome, tryValue);
  return settle(found, (outcome) => {
    if (isLoaded(outcome)) return outcome;
    if (outcome === "dead") decisions.clearSession = true;
    return loadWithoutSession(core, request, header, names, cookies, decisions);
  });
}

function loadWithoutSession<U extends AuthUser>(
  core: ManagerCore<U>,
  request: RequestView,
  header: string | undefined,
  names: readonly string[],
  cookies: ReadonlyMap<string, string>,
  decisions: CookieDecisions,
): MaybePromise<LoadedState<U>> {
  const rememberName = names[1] as string;
  const first = cookies.get(rememberName);
  if (first === undefined) return loadFromRequest(core, request);
  const tryValue = (value: string) => loadFromRemember(core, request, value, decisions);
  return tryValue(first).then(async (outcome) => {
    const found = isLoaded(outcome)
      ? outcome
      : await tryOtherValues(header, rememberName, first, outcome, tryValue);
    if (isLoaded(found)) return found;
    if (found === "dead") decisions.clearRemember = true;
    return loadFromRequest(core, request);
  });
}

/** What one session value loads (see {@link ValueOutcome}); decides no cookie. */
function loadFromSession<U extends AuthUser>(
  core: ManagerCore<U>,
  request: RequestView,
  cookie: string,
): MaybePromise<ValueOutcome<U>> {
  const pair = parseTokenPair(cookie);
  if (!pair || !core.userLoader) return null;
  const now = core.options.clock.now();
  return settle(core.options.store.getSession(pair.id, now), (session) => {
    if (!session || !constantTimeEqual(hashToken(pair.secret), session.secretHash)) return "dead";
    if (fingerprintMatches(core, request, session)) return loadSessionUser(core, session, now);
    return protectThenLoad(core, request, session, now);
  });
}

async function protectThenLoad<U extends AuthUser>(
  core: ManagerCore<U>,
  request: RequestView,
  session: SessionRecord,
  now: number,
): Promise<ValueOutcome<U>> {
  const protection = await protectSession(core, request, session);
  if (protection === "ended") return "dead";
  return loadSessionUser(core, session, now);
}

/** Loads the session's user; a user that no longer exists ends the session. */
function loadSessionUser<U extends AuthUser>(
  core: ManagerCore<U>,
  session: SessionRecord,
  now: number,
): MaybePromise<ValueOutcome<U>> {
  const userLoader = core.userLoader as UserLoader<U>;
  return settle(core.userCache.load(session.userId, userLoader), (user) => {
    if (!user) return forgetSession(core, session);
    const loaded: LoadedState<U> = {
      user,
      session,
      source: "session",
      fresh: session.fresh,
      rememberSelector: session.rememberSelector,
    };
    // touchSession updates `session`, the object `loaded` holds.
    return touchDue(core, session, now) ? touchSession(core, session, now).then(() => loaded) : loaded;
  });
}

async function forgetSession<U extends AuthUser>(
  core: ManagerCore<U>,
  session: SessionRecord,
): Promise<"dead"> {
  await core.options.store.deleteSession(session.id);
  return "dead";
}

/** True when session protection has nothing to do: off, an unfingerprinted session, or a match. */
function fingerprintMatches<U extends AuthUser>(
  core: ManagerCore<U>,
  request: RequestView,
  session: SessionRecord,
): boolean {
  if (!core.options.sessionProtection || session.fingerprint === "") return true;
  const fingerprint = clientFingerprint(
    clientAddress(request, core.options.trustProxyHops),
    userAgent(request),
  );
  return fingerprint === session.fingerprint;
}

/**
 * Acts on a fingerprint mismatch (see {@link fingerprintMatches}): basic marks the session not fresh,
 * strong ends it and its remember token (whose cookie, if this request holds it, is then found dead).
 */
async function protectSession<U extends AuthUser>(
  core: ManagerCore<U>,
  request: RequestView,
  session: SessionRecord,
): Promise<"ok" | "ended"> {
  const mode = core.options.sessionProtection;
  if (!mode) return "ok";
  core.events.emit("sessionProtected", { userId: session.userId, mode, request });
  if (mode === "basic") {
    if (session.fresh) await core.options.store.updateSession(session.id, { fresh: false });
    session.fresh = false;
    return "ok";
  }
  await Promise.all([
    core.options.store.deleteSession(session.id),
    session.rememberSelector ? core.options.store.deleteRememberToken(session.rememberSelector) : undefined,
  ]);
  return "ended";
}

function touchDue<U extends AuthUser>(core: ManagerCore<U>, session: SessionRecord, now: number): boolean {
  return now - session.lastSeenAt >= core.options.touchIntervalSeconds * 1000;
}

/** Touches being written, per store and session id (see touchSession). */
const pendingTouches = new WeakMap<
  SessionStore,
  Map<string, Promise<{ lastSeenAt: number; expiresAt: number }>>
>();

/**
 * Records activity once per touch interval. Requests of the same session that arrive while its
 * touch is being written wait for that write instead of each writing the same thing: without this,
 * every request in flight when the interval runs out (dozens on a busy session) writes to the store.
 */
async function touchSession<U extends AuthUser>(
  core: ManagerCore<U>,
  session: SessionRecord,
  now: number,
): Promise<void> {
  const { touchIntervalSeconds, idleTimeoutSeconds, store } = core.options;
  if (now - session.lastSeenAt < touchIntervalSeconds * 1000) return;
  let pending = pendingTouches.get(store);
  if (!pending) {
    pending = new Map();
    pendingTouches.set(store, pending);
  }
  let touch = pending.get(session.id);
  if (!touch) {
    const expiresAt = Math.min(now + idleTimeoutSeconds * 1000, session.absoluteExpiresAt);
    touch = store
      .updateSession(session.id, { lastSeenAt: now, expiresAt })
      .then(() => ({ lastSeenAt: now, expiresAt }));
    const settled = () => pending.delete(session.id);
    touch.then(settled, settled);
    pending.set(session.id, touch);
  }
  const touched = await touch;
  session.lastSeenAt = touched.lastSeenAt;
  session.expiresAt = touched.expiresAt;
}

/**
 * What one remember value loads (see {@link ValueOutcome}). On success it rotates the token and
 * records the new remember and session cookies in `decisions`; it clears no cookie itself.
 */
async function loadFromRemember<U extends AuthUser>(
  core: ManagerCore<U>,
  request: RequestView,
  cookie: string,
  decisions: CookieDecisions,
): Promise<ValueOutcome<U>> {
  const { store, clock, rememberRaceGraceSeconds } = core.options;
  const { userLoader } = core;
  const pair = parseTokenPair(cookie);
  if (!pair || !userLoader) return null;
  const now = clock.now();
  const newValidator = randomToken();
  const result = await store.rotateRememberToken({
    selector: pair.id,
    presentedValidatorHash: hashToken(pair.secret),
    newValidatorHash: hashToken(newValidator),
    now,
    graceMs: rememberRaceGraceSeconds * 1000,
  });
  if (result.outcome === "unknown") return "dead";
  if (result.outcome === "mismatch") {
    await revokeAfterTheft(core, request, result.token.userId);
    return "dead";
  }
  const user = await core.userCache.load(result.token.userId, userLoader);
  if (!user) {
    await store.deleteRememberToken(pair.id);
    return "dead";
  }
  if (result.outcome === "grace") {
    return { user, session: null, source: "remember", fresh: false, rememberSelector: pair.id };
  }
  decisions.remember = {
    value: `${pair.id}.${newValidator}`,
    maxAgeSeconds: Math.floor((result.token.expiresAt - now) / 1000),
  };
  // Fingerprinted like any other session (fixes Flask-Login #685) and not fresh.
  const { session, cookieValue } = await createSession(core.options, request, {
    userId: user.getId(),
    fresh: false,
    rememberSelector: pair.id,
  });
  decisions.session = { value: cookieValue };
  // A remember token restores a session when the browser lost its previous one, so an older session
  // of the same token is dead weight or held by whoever copied the cookies: end it (a thief's copy
  // then makes the victim's next visit present a stale validator, which trips theft detection).
  // The token is read back after the session exists: if a parallel logout deleted it meanwhile,
  // this session must not outlive it (logout, for its part, deletes the token's sessions after it).
  const [stillValid] = await Promise.all([
    core.options.store.getRememberToken(pair.id, now),
    deleteSessionsOfToken(core.options, session.userId, pair.id, session.id),
  ]);
  if (!stillValid) {
    await core.options.store.deleteSession(session.id);
    decisions.session = undefined;
    decisions.remember = undefined;
    return "dead";
  }
  core.events.emit("loadedFromCookie", { user, request });
  return { user, session, source: "remember", fresh: false, rememberSelector: pair.id };
}

async function revokeAfterTheft<U extends AuthUser>(
  core: ManagerCore<U>,
  request: RequestView,
  userId: string,
): Promise<void> {
  const { store } = core.options;
  const [count] = await Promise.all([
    store.deleteUserSessions(userId),
    store.deleteUserRememberTokens(userId),
  ]);
  core.events.emit("rememberTheft", { userId, request });
  core.events.emit("sessionsRevoked", { userId, reason: "theft", count, request });
}

function loadFromRequest<U extends AuthUser>(
  core: ManagerCore<U>,
  request: RequestView,
): MaybePromise<LoadedState<U>> {
  const loader = core.requestLoader;
  if (!loader) return ANONYMOUS;
  return settle(loader(request), (user): LoadedState<U> => {
    if (!user) return ANONYMOUS;
    core.events.emit("loadedFromRequest", { user, request });
    return { user, session: null, source: "request", fresh: false, rememberSelector: null };
  });
}
