import type { LoginManager, RequestView } from "login-manager";
import { clientAddress } from "login-manager/adapter";
import { type DestinationStream, type Logger, pino } from "pino";
import type { User } from "./users.js";

/** What happened, in the words of the log's `event` field. */
export type SecurityEventName =
  | "register"
  | "login.success"
  | "login.failure"
  | "login.locked"
  | "login.second-factor"
  | "logout"
  | "reauth.success"
  | "reauth.failure"
  | "password.change"
  | "password.breach-check"
  | "password.reset-request"
  | "password.reset"
  | "email.verify"
  | "email.change"
  | "sessions.revoked"
  | "sessions.revoked-all"
  | "session.protected"
  | "remember.theft"
  | "csrf.failure"
  | "mfa.enabled"
  | "mfa.disabled"
  | "mfa.recovery-codes"
  | "mfa.recovery-code-used"
  | "mfa.failure"
  | "passkey.added"
  | "passkey.renamed"
  | "passkey.removed"
  | "passkey.clone-suspected";

/** One security event: a single JSON line in the log. Never put a secret in it. */
export interface SecurityEvent {
  event: SecurityEventName;
  outcome: "success" | "failure" | "blocked" | "alert";
  userId?: string | null;
  username?: string;
  ip?: string;
  reason?: string;
  count?: number;
  retryAfterSeconds?: number;
  /** Where a refused request went: the path only, never the query string (it may carry secrets). */
  path?: string;
  /** Second factors: which one (`totp`, `recovery-code`, `passkey`), and recovery codes left. */
  factor?: string;
  remaining?: number;
  /** `sessions.revoked-all`: the sessions and remember-me tokens ended. */
  sessions?: number;
  rememberTokens?: number;
}

/** Keys whose values never reach the log, at the top level or one level down. */
const REDACTED_KEYS = [
  "password",
  "current_password",
  "new_password",
  "passwordHash",
  "token",
  "cookie",
  "csrf",
  "_csrf",
  "secret",
  "recovery_code",
  "recoveryCodes",
  "uri",
  "authorization",
];
const REDACT_PATHS = [
  ...REDACTED_KEYS,
  ...REDACTED_KEYS.map((key) => `*.${key}`),
  "*.headers.cookie",
  "*.headers.authorization",
  '*.headers["set-cookie"]',
  '*.headers["x-csrf-token"]',
];
const MAX_LOGGED_NAME = 64;
const MAX_LOGGED_PATH = 128;

/**
 * The app's logger: pino writing one JSON line per entry (to stdout unless `destination` is given),
 * with UTC ISO timestamps, level names, and password/token/cookie/CSRF fields redacted.
 *
 * @example
 * ```ts
 * const logger = createLogger(); // JSON lines on stdout
 * ```
 */
export function createLogger(destination?: DestinationStream): Logger {
  const options = {
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
  };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * Writes a security event as one JSON line (`"kind":"security"`); failures and alerts at warn level.
 * JSON encoding escapes CR/LF, so a crafted username cannot forge a line.
 *
 * @example
 * ```ts
 * logSecurityEvent(logger, { event: "register", outcome: "success", userId: "1", username: "alice", ip });
 * ```
 */
export function logSecurityEvent(logger: Logger, event: SecurityEvent): void {
  const entry = {
    kind: "security",
    ...event,
    ...(event.username === undefined ? {} : { username: truncate(event.username, MAX_LOGGED_NAME) }),
    ...(event.path === undefined ? {} : { path: truncate(event.path, MAX_LOGGED_PATH) }),
  };
  if (event.outcome === "success") logger.info(entry, event.event);
  else logger.warn(entry, event.event);
}

/**
 * The path of a request URL, without the query string (which may carry a token or a password).
 *
 * @example
 * ```ts
 * pathOf("/login?next=%2Faccount"); // "/login"
 * ```
 */
export function pathOf(url: string): string {
  const query = url.search(/[?#]/);
  return query === -1 ? url : url.slice(0, query);
}

/**
 * Logs the manager's security events: logins and failures, locks, logouts, re-authentication,
 * revoked sessions (one user's, or everyone's by an operator), session-protection hits, remember-me
 * theft and requests refused by the CSRF check. Returns a function that stops.
 *
 * @example
 * ```ts
 * const stop = watchManager(manager, logger, { trustProxyHops: 0 });
 * ```
 */
export function watchManager(
  manager: LoginManager<User>,
  logger: Logger,
  options: { trustProxyHops: number },
): () => void {
  const ip = (request: RequestView | undefined) =>
    request ? clientAddress(request, options.trustProxyHops) : undefined;
  const log = (event: SecurityEvent) => logSecurityEvent(logger, event);
  const stops = [
    manager.on("loggedIn", ({ user, request }) =>
      log({
        event: "login.success",
        outcome: "success",
        userId: user.getId(),
        username: user.username,
        ip: ip(request),
      }),
    ),
    // The password was right; the login waits for the account's second factor (`/login/2fa`).
    manager.on("secondFactorRequired", ({ userId, request }) =>
      log({ event: "login.second-factor", outcome: "success", userId, ip: ip(request) }),
    ),
    manager.on("loginFailed", ({ account, reason, retryAfterSeconds, request }) =>
      log(
        reason === "locked"
          ? {
              event: "login.locked",
              outcome: "blocked",
              username: account,
              ip: ip(request),
              retryAfterSeconds,
            }
          : { event: "login.failure", outcome: "failure", username: account, ip: ip(request), reason },
      ),
    ),
    manager.on("loggedOut", ({ user, request }) =>
      log({
        event: "logout",
        outcome: "success",
        userId: user?.getId() ?? null,
        ...(user ? { username: user.username } : {}),
        ip: ip(request),
      }),
    ),
    manager.on("loginConfirmed", ({ user, request }) =>
      log({
        event: "reauth.success",
        outcome: "success",
        userId: user.getId(),
        username: user.username,
        ip: ip(request),
      }),
    ),
    manager.on("sessionsRevoked", ({ userId, reason, count, request }) =>
      log({ event: "sessions.revoked", outcome: "success", userId, reason, count, ip: ip(request) }),
    ),
    manager.on("sessionProtected", ({ userId, mode, request }) =>
      log({ event: "session.protected", outcome: "alert", userId, reason: mode, ip: ip(request) }),
    ),
    manager.on("rememberTheft", ({ userId, request }) =>
      log({ event: "remember.theft", outcome: "alert", userId, ip: ip(request) }),
    ),
    // An operator's "log everyone out" (outside any request): no user, no address.
    manager.on("allSessionsRevoked", ({ sessions, rememberTokens }) =>
      log({ event: "sessions.revoked-all", outcome: "success", sessions, rememberTokens }),
    ),
    // The token itself is never in the payload; the path is logged without its query string.
    manager.on("csrfFailed", ({ reason, request }) =>
      log({ event: "csrf.failure", outcome: "blocked", reason, ip: ip(request), path: pathOf(request.url) }),
    ),
  ];
  return () => {
    for (const stop of stops) stop();
  };
}

function truncate(value: string, max: number): string {
  const points = [...value];
  return points.length <= max ? value : `${points.slice(0, max).join("")}…`;
}
