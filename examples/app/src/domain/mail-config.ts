/**
 * The mail settings: `SMTP_URL`, `MAIL_FROM` and `RESET_TOKEN_TTL_SECONDS`.
 *
 * @module
 */
import { checkEmail } from "./email.js";
import { ConfigError, integer, serverUrl, value } from "./env.js";

/** How the app sends mail (password reset, address verification, security notices). */
export interface MailConfig {
  /**
   * `SMTP_URL` (`smtp://` or `smtps://`, credentials in the URL); undefined writes each mail to
   * `DATA_DIR/outbox/` instead, which only a development setup may do.
   */
  smtpUrl: string | undefined;
  /** `MAIL_FROM`: the sender, `name@example.com` or `Name <name@example.com>`. */
  from: string;
  /** `RESET_TOKEN_TTL_SECONDS`: how long a password reset link works. */
  resetTokenTtlSeconds: number;
}

const SMTP_EXAMPLE = "smtp://user:password@mail.example.com:587";
/** `Display Name <address>`; the name without characters that would end or split the header. */
const NAMED_ADDRESS = /^([^<>"\p{Cc}]{1,100}?)\s*<([^<>\s]+)>$/u;

/**
 * Reads the mail settings. In production (`NODE_ENV=production`) a missing `SMTP_URL` stops
 * start-up, naming it: mail must reach people. `MAIL_FROM` defaults to `no-reply@` the host of
 * the site's base URL (`localhost` for an IP address).
 *
 * @example
 * ```ts
 * mailConfig({ SMTP_URL: "smtp://127.0.0.1:2525" }, { production: false, baseUrl: "http://127.0.0.1:5000" });
 * // { smtpUrl: "smtp://127.0.0.1:2525", from: "login-manager demo <no-reply@localhost>", resetTokenTtlSeconds: 1800 }
 * ```
 */
export function mailConfig(
  env: NodeJS.ProcessEnv,
  site: { production: boolean; baseUrl: string },
): MailConfig {
  const smtpUrl = serverUrl(env, "SMTP_URL", ["smtp:", "smtps:"], SMTP_EXAMPLE);
  if (smtpUrl === undefined && site.production) {
    throw new ConfigError(
      "SMTP_URL",
      `is required in production (NODE_ENV=production): password reset and address verification mail goes out through it, e.g. ${SMTP_EXAMPLE} (without it, outside production, mail is written to DATA_DIR/outbox/)`,
    );
  }
  return {
    smtpUrl,
    from: sender(env, site.baseUrl),
    resetTokenTtlSeconds: integer(env, "RESET_TOKEN_TTL_SECONDS", 1800, 60, 86_400),
  };
}

function sender(env: NodeJS.ProcessEnv, baseUrl: string): string {
  const raw = value(env, "MAIL_FROM");
  if (raw === undefined) return `login-manager demo <no-reply@${senderDomain(baseUrl)}>`;
  const named = NAMED_ADDRESS.exec(raw);
  const address = named ? named[2] : raw;
  if (!checkEmail(address, { allowDotless: true }).ok) {
    throw new ConfigError(
      "MAIL_FROM",
      `must be an address, like no-reply@example.com or "Example <no-reply@example.com>", got ${JSON.stringify(raw)}`,
    );
  }
  return raw;
}

/** The host of the base URL, or `localhost` when it is an IP address. */
function senderDomain(baseUrl: string): string {
  const { hostname } = new URL(baseUrl);
  return hostname.startsWith("[") || /^[\d.]+$/.test(hostname) ? "localhost" : hostname;
}
