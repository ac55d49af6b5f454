/**
 * The texts of the app's mails. Links are built from the site's base URL (`APP_BASE_URL`), never
 * from a request's Host header, and a token appears only in its link.
 *
 * @module
 */
import type { Mail } from "./mailer.js";

const SITE = "login-manager demo";

/** What every account mail needs: who it is for, and where to send it. */
interface Recipient {
  to: string;
  username: string;
}

/**
 * The link a mail carries: `${baseUrl}${path}?token=...`.
 *
 * @example
 * ```ts
 * tokenLink("https://app.example.com", "/password/reset", token); // "https://app.example.com/password/reset?token=..."
 * ```
 */
export function tokenLink(baseUrl: string, path: string, token: string): string {
  return `${baseUrl}${path}?token=${encodeURIComponent(token)}`;
}

/**
 * "Reset your password": the link, how long it works, and what to do when it was not you.
 *
 * @example
 * ```ts
 * await mailer.send(resetMail({ to: user.email, username: user.username, link, expiresAt }));
 * ```
 */
export function resetMail(input: Recipient & { link: string; expiresAt: Date; now?: Date }): Mail {
  return {
    to: input.to,
    subject: `Reset your ${SITE} password`,
    text: `Hello ${input.username},

someone (hopefully you) asked to reset the password of your ${SITE} account. Open this link to
choose a new one. It works once, for ${lifetime(input.expiresAt, input.now)}:

${input.link}

Resetting logs you out everywhere. If you didn't ask for this, ignore this mail: your password stays
as it is.
`,
  };
}

/**
 * "Confirm your e-mail address", at registration, for "send again", and for a new address (`change`).
 *
 * @example
 * ```ts
 * await mailer.send(verifyMail({ to: email, username: user.username, link, expiresAt, change: false }));
 * ```
 */
export function verifyMail(
  input: Recipient & { link: string; expiresAt: Date; change: boolean; now?: Date },
): Mail {
  const why = input.change
    ? `you asked to use this address for your ${SITE} account. The change takes effect once you
confirm it`
    : `please confirm that this address belongs to your ${SITE} account`;
  return {
    to: input.to,
    subject: `Confirm your e-mail address for ${SITE}`,
    text: `Hello ${input.username},

${why}: open this link and press "Confirm". It works once, for ${lifetime(input.expiresAt, input.now)}:

${input.link}

If you didn't ask for this, ignore this mail.
`,
  };
}

/**
 * To the current address when a change to `newEmail` is asked for: the change waits for the new
 * address to be confirmed, so the owner of this one can still act.
 *
 * @example
 * ```ts
 * await mailer.send(emailChangeNotice({ to: user.email, username: user.username, newEmail, resetLink }));
 * ```
 */
export function emailChangeNotice(input: Recipient & { newEmail: string; resetLink: string }): Mail {
  return {
    to: input.to,
    subject: `Your ${SITE} e-mail address is being changed`,
    text: `Hello ${input.username},

someone logged in to your ${SITE} account asked to change its e-mail address to
${input.newEmail}. Nothing changes until that address is confirmed.

If this wasn't you, reset your password now (it logs out every session and cancels the change):

${input.resetLink}
`,
  };
}

/**
 * A security notice (a password change, sessions logged out, a stolen cookie, a lock): the
 * notification's own words.
 *
 * @example
 * ```ts
 * await mailer.send(noticeMail({ to: user.email, username: user.username, subject: "...", message }));
 * ```
 */
export function noticeMail(input: Recipient & { subject: string; message: string }): Mail {
  return {
    to: input.to,
    subject: `${input.subject} (${SITE})`,
    text: `Hello ${input.username},

${input.message}
`,
  };
}

/** "30 minutes", "2 hours", "1 day": how long until `expiresAt`, to the nearest minute, at least one. */
function lifetime(expiresAt: Date, now = new Date()): string {
  const minutes = Math.max(1, Math.round((expiresAt.getTime() - now.getTime()) / 60_000));
  if (minutes < 120) return plural(minutes, "minute");
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? plural(hours, "hour") : plural(Math.floor(hours / 24), "day");
}

function plural(count: number, unit: string): string {
  return `${count} ${unit}${count === 1 ? "" : "s"}`;
}
