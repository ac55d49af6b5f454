/**
 * Account recovery for the app: login-manager's `PasswordReset` and `EmailVerification` helpers
 * (one-time tokens, limits, the same answer whether or not an account exists) wired to the app's
 * users and mail.
 *
 * @module
 */
import type { LoginManager } from "login-manager";
import { EmailVerification, PasswordReset, type RecoveryLimits } from "login-manager/recovery";
import type { Logger } from "pino";
import type { AppConfig } from "./config.js";
import { emailKey } from "./email.js";
import type { Mailer } from "./mailer.js";
import { resetMail, tokenLink, verifyMail } from "./mails.js";
import { logMail } from "./notifier.js";
import type { User, UserRepository } from "./users.js";

/** The page a reset link opens (`${APP_BASE_URL}/password/reset?token=...`). */
export const RESET_PATH = "/password/reset";
/** The page a verification link opens (`${APP_BASE_URL}/email/verify?token=...`). */
export const VERIFY_PATH = "/email/verify";

/** The app's recovery helpers. */
export interface Recovery {
  reset: PasswordReset<User>;
  verification: EmailVerification<User>;
  /** Resolves once every recovery mail started so far has settled (for shutdown, and tests). */
  settled(): Promise<void>;
}

/** What {@link createRecovery} wires together. */
export interface RecoveryDeps {
  manager: LoginManager<User>;
  users: UserRepository;
  mailer: Mailer;
  config: AppConfig;
  logger: Logger;
  /** Requests per account and per client address (a test seam; login-manager's defaults otherwise). */
  limits?: RecoveryLimits | undefined;
}

/**
 * Builds password reset (links live `RESET_TOKEN_TTL_SECONDS`) and e-mail verification (a day) on
 * the manager's one-time tokens. Mails go to the address stored on the account, with links built
 * from `APP_BASE_URL`; each is logged by kind and user only. A disabled account gets no reset link.
 *
 * @example
 * ```ts
 * const recovery = createRecovery({ manager, users, mailer, config, logger });
 * await recovery.reset.request({ email, request: auth.request });
 * ```
 */
export function createRecovery(deps: RecoveryDeps): Recovery {
  const { manager, users, mailer, config, logger } = deps;
  const now = () => new Date(manager.options.clock.now());
  // Each send logs its own outcome; a failure that escapes it is still logged, by code only.
  const onDeliveryError = (error: unknown) => logMail(logger, "recovery", "unknown", error);
  const deliver = async (kind: string, user: User, mail: Parameters<Mailer["send"]>[0]) => {
    try {
      await mailer.send(mail);
      logMail(logger, kind, user.getId());
    } catch (error) {
      logMail(logger, kind, user.getId(), error);
    }
  };
  const reset = new PasswordReset<User>(manager, {
    findUserByEmail: async (email) => {
      const key = emailKey(email);
      const user = key === undefined ? null : await users.findByEmail(key);
      return user?.isActive ? user : null;
    },
    findUserById: (id) => users.findById(id),
    sendResetMail: async ({ user, token, expiresAt }) => {
      if (!user.email) return;
      const link = tokenLink(config.baseUrl, RESET_PATH, token);
      const mail = resetMail({ to: user.email, username: user.username, link, expiresAt, now: now() });
      await deliver("password.reset-link", user, mail);
    },
    ttlSeconds: config.mail.resetTokenTtlSeconds,
    onDeliveryError,
    ...(deps.limits ? { limits: deps.limits } : {}),
  });
  const verification = new EmailVerification<User>(manager, {
    sendVerificationMail: async ({ user, email, token, expiresAt }) => {
      const link = tokenLink(config.baseUrl, VERIFY_PATH, token);
      const change = user.email === null || emailKey(user.email) !== emailKey(email);
      const mail = verifyMail({ to: email, username: user.username, link, expiresAt, change, now: now() });
      await deliver("email.verify-link", user, mail);
    },
    onDeliveryError,
    ...(deps.limits ? { limits: deps.limits } : {}),
  });
  return {
    reset,
    verification,
    settled: async () => {
      await Promise.all([reset.deliveriesSettled(), verification.deliveriesSettled()]);
    },
  };
}
