import { clientAddress, clientFingerprint, userAgent } from "./client.js";
import type { RequestView } from "./http.js";
import type { ResolvedOptions } from "./options.js";
import type { SessionRecord } from "./store.js";
import { hashToken, randomToken } from "./tokens.js";
import type { AuthUser } from "./users.js";

/**
 * Creates and stores a new session for `userId`; returns it with the cookie value (`<id>.<secret>`)
 * that only the client will ever hold.
 */
export async function createSession<U extends AuthUser>(
  options: ResolvedOptions<U>,
  request: RequestView,
  init: { userId: string; fresh: boolean; rememberSelector: string | null },
): Promise<{ session: SessionRecord; cookieValue: string }> {
  const now = options.clock.now();
  const secret = randomToken();
  const address = clientAddress(request, options.trustProxyHops);
  const agent = userAgent(request);
  const absoluteExpiresAt = now + options.absoluteTimeoutSeconds * 1000;
  const session: SessionRecord = {
    id: randomToken(),
    secretHash: hashToken(secret),
    userId: init.userId,
    fresh: init.fresh,
    createdAt: now,
    lastSeenAt: now,
    expiresAt: Math.min(now + options.idleTimeoutSeconds * 1000, absoluteExpiresAt),
    absoluteExpiresAt,
    fingerprint: options.sessionProtection ? clientFingerprint(address, agent) : "",
    userAgent: agent,
    ipAddress: address,
    rememberSelector: init.rememberSelector,
  };
  await options.store.createSession(session);
  return { session, cookieValue: `${session.id}.${secret}` };
}

/**
 * Deletes the user's sessions that carry the remember token `selector`, except `keepSessionId`.
 * Keeps one live session per remember token, and lets logout end a session that a parallel request
 * was restoring from the same token at that moment.
 */
export async function deleteSessionsOfToken<U extends AuthUser>(
  options: ResolvedOptions<U>,
  userId: string,
  selector: string,
  keepSessionId?: string,
): Promise<void> {
  const sessions = await options.store.listUserSessions(userId, options.clock.now());
  const doomed = sessions.filter(
    (session) => session.rememberSelector === selector && session.id !== keepSessionId,
  );
  await Promise.all(doomed.map((session) => options.store.deleteSession(session.id)));
}
