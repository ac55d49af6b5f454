import type { LoginManager, RequestView } from "login-manager";
import { clientAddress } from "login-manager/adapter";
import type { Logger } from "pino";
import type { Mailer } from "./mailer.js";
import { noticeMail } from "./mails.js";
import type { User, UserRepository } from "./users.js";

/** Why a user is told: a change to their credentials or sessions, or a suspicious attempt. */
export type NotificationKind =
  /** They changed their password (ASVS 6.3.7). */
  | "password.changed"
  /** Their password was reset through a mailed link (ASVS 6.3.7, 6.4). */
  | "password.reset"
  /** They logged out every other session (ASVS 6.3.7). */
  | "sessions.revoked-others"
  /** A used remember-me token was replayed: every session was ended (ASVS 6.3.5). */
  | "remember.theft"
  /** Failed logins locked their account for a while (ASVS 6.3.5). */
  | "account.locked"
  /** Two-step verification with an authenticator app was turned on (ASVS 6.3.7). */
  | "mfa.enabled"
  /** Two-step verification with an authenticator app was turned off (ASVS 6.3.7). */
  | "mfa.disabled"
  /** New recovery codes replaced the old ones (ASVS 6.3.7). */
  | "mfa.recovery-codes"
  /** A passkey was added to the account (ASVS 6.3.7). */
  | "passkey.added"
  /** A passkey was removed from the account (ASVS 6.3.7). */
  | "passkey.removed";

/**
 * A message for one user. Carries who, what, when and from which address; never a password, token,
 * cookie or hash.
 */
export interface UserNotification {
  kind: NotificationKind;
  userId: string;
  username: string;
  /**
   * Where a mailing notifier sends it: the account's address once verified, else undefined (an
   * unconfirmed address may be a typo, someone else's inbox).
   */
  email?: string | undefined;
  /** What happened and what to do, in words for the user (the body of an e-mail). */
  message: string;
  /** The client address of the request that caused it, when there was one. */
  ip?: string | undefined;
  at: Date;
}

/**
 * Tells users about changes to their account and suspicious sign-in activity: {@link MailNotifier}
 * by default, or any other implementation (a push message; queue the work: `notify` is called while
 * a request is answered and must not throw or block).
 *
 * @example
 * ```ts
 * const notifier: Notifier = { notify: (n) => mailQueue.push({ to: n.userId, body: n.message }) };
 * ```
 */
export interface Notifier {
  notify(notification: UserNotification): void;
}

/**
 * The default {@link Notifier}: writes each notification as one JSON log line
 * (`"kind":"notification"`, the `notification` kind, `userId`, `username`, `ip`, `message`, `at`),
 * the hand-off point for a mailer that reads the log. It does not reach the user by itself.
 *
 * @example
 * ```ts
 * const notifier = new LogNotifier(logger);
 * notifier.notify({ kind: "password.changed", userId: "1", username: "alice", message: "...", at: new Date() });
 * ```
 */
export class LogNotifier implements Notifier {
  constructor(private readonly logger: Logger) {}

  notify(notification: UserNotification): void {
    this.logger.info(
      {
        kind: "notification",
        notification: notification.kind,
        userId: notification.userId,
        username: notification.username,
        ip: notification.ip,
        message: notification.message,
        at: notification.at.toISOString(),
      },
      "user notification",
    );
  }
}

/** The text of each notification, the same for every user. */
export const NOTIFICATION_MESSAGES: Readonly<Record<NotificationKind, string>> = {
  "password.changed":
    "Your password was changed, and every other session was logged out. If this wasn't you, reset your password and contact support.",
  "password.reset":
    "Your password was reset with a link sent to this address, and every session was logged out. If this wasn't you, reset your password again and contact support.",
  "sessions.revoked-others":
    "All your other sessions were logged out. If you didn't do this, change your password.",
  "remember.theft":
    "Someone used an old copy of your remember-me cookie, which can mean it was stolen. Every session of your account was logged out; log in again and consider changing your password.",
  "account.locked":
    "Several wrong passwords were tried for your account, so logins are paused for a while. If this wasn't you, someone may be guessing your password.",
  "mfa.enabled":
    "Two-step verification with an authenticator app was turned on for your account. If this wasn't you, reset your password and contact support.",
  "mfa.disabled":
    "Two-step verification with an authenticator app was turned off for your account. If this wasn't you, reset your password, turn it on again and contact support.",
  "mfa.recovery-codes":
    "New recovery codes were made for your account, and the old ones no longer work. If this wasn't you, reset your password and contact support.",
  "passkey.added":
    "A passkey was added to your account: it can now sign in without your password. If this wasn't you, remove it on your account page, reset your password and contact support.",
  "passkey.removed":
    "A passkey was removed from your account. If this wasn't you, reset your password and contact support.",
};

/** The subject of each notification's mail. */
export const NOTIFICATION_SUBJECTS: Readonly<Record<NotificationKind, string>> = {
  "password.changed": "Your password was changed",
  "password.reset": "Your password was changed",
  "sessions.revoked-others": "Your other sessions were logged out",
  "remember.theft": "Every session of your account was logged out",
  "account.locked": "Logins to your account are paused",
  "mfa.enabled": "Two-step verification was turned on",
  "mfa.disabled": "Two-step verification was turned off",
  "mfa.recovery-codes": "You have new recovery codes",
  "passkey.added": "A passkey was added to your account",
  "passkey.removed": "A passkey was removed from your account",
};

/**
 * The default {@link Notifier}: logs each notification like {@link LogNotifier} and mails it to the
 * user's verified address, in the background (a failure is logged with its error code only).
 *
 * @example
 * ```ts
 * const notifier = new MailNotifier(logger, mailer);
 * notifier.notify(notificationFor("password.changed", user, ip));
 * ```
 */
export class MailNotifier implements Notifier {
  readonly #log: LogNotifier;
  readonly #pending = new Set<Promise<void>>();

  constructor(
    private readonly logger: Logger,
    private readonly mailer: Mailer,
  ) {
    this.#log = new LogNotifier(logger);
  }

  notify(notification: UserNotification): void {
    this.#log.notify(notification);
    const { email } = notification;
    if (email === undefined) return;
    const mail = noticeMail({
      to: email,
      username: notification.username,
      subject: NOTIFICATION_SUBJECTS[notification.kind],
      message: notification.message,
    });
    const sent: Promise<void> = this.mailer
      .send(mail)
      .then(
        () => logMail(this.logger, notification.kind, notification.userId),
        (error: unknown) => logMail(this.logger, notification.kind, notification.userId, error),
      )
      .finally(() => this.#pending.delete(sent));
    this.#pending.add(sent);
  }

  /** Resolves once every mail started so far has settled. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }
}

/**
 * One log line per mail: its kind and user, and for a failure the error's code (`ECONNECTION`,
 * `EAUTH`, an SMTP reply code), never the address, the text or the server's message.
 *
 * @example
 * ```ts
 * logMail(logger, "password.reset", user.getId());
 * ```
 */
export function logMail(logger: Logger, mail: string, userId: string, error?: unknown): void {
  if (error === undefined) {
    logger.info({ kind: "mail", mail, userId, outcome: "sent" }, "mail sent");
    return;
  }
  const { code, responseCode } = (error ?? {}) as { code?: unknown; responseCode?: unknown };
  logger.warn(
    {
      kind: "mail",
      mail,
      userId,
      outcome: "failed",
      code: typeof code === "string" ? code : undefined,
      responseCode: typeof responseCode === "number" ? responseCode : undefined,
    },
    "mail not sent",
  );
}

/**
 * Builds a notification for `user` with the standard message of `kind`, addressed to the user's
 * address when it is verified.
 *
 * @example
 * ```ts
 * notifier.notify(notificationFor("password.changed", user, ip));
 * ```
 */
export function notificationFor(
  kind: NotificationKind,
  user: Pick<User, "username"> & { getId(): string; email?: string | null; emailVerified?: boolean },
  ip: string | undefined,
  now: Date = new Date(),
): UserNotification {
  return {
    kind,
    userId: user.getId(),
    username: user.username,
    email: user.emailVerified && user.email ? user.email : undefined,
    message: NOTIFICATION_MESSAGES[kind],
    ip,
    at: now,
  };
}

/**
 * Notifies users of the login manager's suspicious-activity events (ASVS 6.3.5): a replayed
 * remember-me token (`rememberTheft`) and an account locked by failed logins (`loginFailed` with
 * reason `locked`, once per lock, not on every refused attempt while it lasts, and only for an
 * account that exists). The user is looked up in `users`; a failed lookup is logged, never thrown.
 * Returns a function that stops.
 *
 * @example
 * ```ts
 * const stop = watchForNotifications(manager, users, notifier, logger, { trustProxyHops: 0 });
 * ```
 */
export function watchForNotifications(
  manager: LoginManager<User>,
  users: UserRepository,
  notifier: Notifier,
  logger: Logger,
  options: { trustProxyHops: number; now?: () => number },
): () => void {
  const now = options.now ?? Date.now;
  const ip = (request: RequestView | undefined) =>
    request ? clientAddress(request, options.trustProxyHops) : undefined;
  /** User id to the end of the lock they were told about. */
  const lockedUntil = new Map<string, number>();
  const send = (
    kind: NotificationKind,
    find: () => Promise<User | null>,
    request: RequestView,
    lockMs = 0,
  ) => {
    Promise.resolve()
      .then(find)
      .then(
        (user) => {
          if (!user) return;
          const id = user.getId();
          if (kind === "account.locked") {
            for (const [key, until] of lockedUntil) if (until <= now()) lockedUntil.delete(key);
            if (lockedUntil.has(id)) return;
            lockedUntil.set(id, now() + lockMs);
          }
          notifier.notify(notificationFor(kind, user, ip(request), new Date(now())));
        },
        (error: unknown) =>
          logger.warn(
            {
              kind: "notification",
              notification: kind,
              err: error instanceof Error ? error.message : String(error),
            },
            "notification failed: user lookup",
          ),
      );
  };
  const stops = [
    manager.on("rememberTheft", ({ userId, request }) =>
      send("remember.theft", () => users.findById(userId), request),
    ),
    manager.on("loginFailed", ({ account, reason, retryAfterSeconds, request }) => {
      if (reason !== "locked") return;
      send("account.locked", () => users.findByKey(account), request, (retryAfterSeconds ?? 0) * 1000);
    }),
  ];
  return () => {
    for (const stop of stops) stop();
  };
}
