import type { SessionInfo } from "login-manager";
import { describeUserAgent } from "./user-agent.js";

/** One row of the "your sessions" table, ready to print. */
export interface SessionRow {
  handle: string;
  device: string;
  ipAddress: string;
  createdAt: string;
  createdIso: string;
  lastSeenAt: string;
  lastSeenIso: string;
  current: boolean;
  remembered: boolean;
}

const FORMAT = new Intl.DateTimeFormat("en-GB", {
  day: "numeric",
  month: "short",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  timeZone: "UTC",
});

/**
 * Turns `auth.listSessions()` into table rows: a readable device, UTC dates, the current one first.
 *
 * @example
 * ```ts
 * const rows = sessionRows(await req.auth.listSessions());
 * rows[0].device; // "Firefox 128 on Windows"
 * ```
 */
export function sessionRows(sessions: readonly SessionInfo[]): SessionRow[] {
  return [...sessions]
    .sort((a, b) => Number(b.current) - Number(a.current) || b.lastSeenAt.getTime() - a.lastSeenAt.getTime())
    .map((session) => ({
      handle: session.handle,
      device: describeUserAgent(session.userAgent),
      ipAddress: session.ipAddress.replace(/^::ffff:/, ""),
      createdAt: formatUtc(session.createdAt),
      createdIso: session.createdAt.toISOString(),
      lastSeenAt: formatUtc(session.lastSeenAt),
      lastSeenIso: session.lastSeenAt.toISOString(),
      current: session.current,
      remembered: session.remembered,
    }));
}

/** A passkey as the account page lists it (see `login-manager/passkeys`' `PasskeyInfo`). */
export interface PasskeyRow {
  /** Its position in the list, for the ids of its form's fields. */
  index: number;
  /** The credential id (base64url), which the rename and remove forms send. */
  id: string;
  label: string;
  createdAt: string;
  createdIso: string;
  /** "" when never used. */
  lastUsedAt: string;
  lastUsedIso: string;
  /** Backed up by a passkey provider (synced between devices), rather than bound to one device. */
  synced: boolean;
}

/**
 * Turns `passkeys.list(userId)` into the account page's rows, oldest first, with UTC dates.
 *
 * @example
 * ```ts
 * const rows = passkeyRows(await passkeys.list(user.getId()));
 * rows[0].lastUsedAt; // "29 Nov 2026, 17:42 UTC", or "" when never used
 * ```
 */
export function passkeyRows(
  passkeys: readonly {
    id: string;
    label: string;
    createdAt: Date | number;
    lastUsedAt: Date | number | null;
    backedUp: boolean;
  }[],
): PasskeyRow[] {
  return passkeys.map((passkey, index) => {
    const created = new Date(passkey.createdAt);
    const used = passkey.lastUsedAt === null ? null : new Date(passkey.lastUsedAt);
    return {
      index,
      id: passkey.id,
      label: passkey.label,
      createdAt: formatUtc(created),
      createdIso: created.toISOString(),
      lastUsedAt: used ? formatUtc(used) : "",
      lastUsedIso: used ? used.toISOString() : "",
      synced: passkey.backedUp,
    };
  });
}

/**
 * A date as "29 Nov 2026, 17:42 UTC".
 *
 * @example
 * ```ts
 * formatUtc(new Date(0)); // "1 Jan 1970, 00:00 UTC"
 * ```
 */
export function formatUtc(date: Date): string {
  return `${FORMAT.format(date)} UTC`;
}
