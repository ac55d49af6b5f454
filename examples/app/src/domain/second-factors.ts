/**
 * Second factors for the app: login-manager's TOTP and recovery codes (`login-manager/mfa`) and
 * passkeys (`login-manager/passkeys`), configured from the site's public origin.
 *
 * @module
 */
import type { LoginManager, RegisteredUser, RequestView } from "login-manager";
import { clientAddress } from "login-manager/adapter";
import { SecondFactors } from "login-manager/mfa";
import { Passkeys } from "login-manager/passkeys";
import type { Logger } from "pino";
import type { AppConfig } from "./config.js";
import { logSecurityEvent } from "./security-log.js";
import type { User, UserRepository } from "./users.js";

/** The name authenticator apps show next to the account, and passkey prompts show as the site. */
export const SITE_NAME = "login-manager demo";

/** TOTP, recovery codes and passkeys, as the routes use them. */
export interface SecondFactorServices {
  /** TOTP and recovery codes. */
  readonly factors: SecondFactors<RegisteredUser>;
  /**
   * Passkeys for the site's origin (`APP_BASE_URL`), made on first use: with `PORT=0` the origin is
   * known only once the server listens (`start()` fills in the port).
   */
  passkeys(): Passkeys<RegisteredUser>;
}

/** A WebAuthn relying party: the domain credentials are bound to, and the origins allowed to use them. */
export interface RelyingParty {
  rpId: string;
  origins: string[];
}

const LOOPBACK_ADDRESSES = new Set(["127.0.0.1", "[::1]"]);

/**
 * The relying party of a site whose public origin is `baseUrl`: its host name and its origin.
 * Browsers refuse WebAuthn on an IP address, so a loopback address (the development default,
 * `http://127.0.0.1:5000`) becomes `localhost` with the same scheme and port: open the site at
 * `http://localhost:5000` to use passkeys there.
 *
 * @example
 * ```ts
 * relyingParty("https://accounts.example.com"); // { rpId: "accounts.example.com", origins: ["https://accounts.example.com"] }
 * relyingParty("http://127.0.0.1:5000"); // { rpId: "localhost", origins: ["http://localhost:5000"] }
 * ```
 */
export function relyingParty(baseUrl: string): RelyingParty {
  const url = new URL(baseUrl);
  if (LOOPBACK_ADDRESSES.has(url.hostname)) url.hostname = "localhost";
  return { rpId: url.hostname, origins: [url.origin] };
}

/**
 * Builds the app's second factors on `manager`: TOTP with the site's name as issuer and ten
 * recovery codes; passkeys for {@link relyingParty} of `config.baseUrl`, loading users from `users`.
 * With a `logger`, the security log gets a line for every recovery code used (at the login's second
 * step, at `/reauth`, to turn TOTP off) and for a passkey whose signature counter went backwards (a
 * possible clone; the use was refused).
 *
 * @example
 * ```ts
 * const second = createSecondFactors(manager, users, config, logger);
 * const status = await second.factors.status(user.getId());
 * ```
 */
export function createSecondFactors(
  manager: LoginManager<User>,
  users: UserRepository,
  config: Pick<AppConfig, "baseUrl" | "trustProxyHops">,
  logger?: Logger,
): SecondFactorServices {
  // The routes see `AuthContext<RegisteredUser>` (the app does not register its User type with
  // login-manager's `Register`), so the helpers are typed for that user; the manager loads `User`s.
  const shared = manager as unknown as LoginManager<RegisteredUser>;
  const factors = new SecondFactors<RegisteredUser>(shared, {
    totp: { issuer: SITE_NAME },
    recoveryCodes: { count: 10 },
  });
  const ip = (request: RequestView | undefined) =>
    request ? clientAddress(request, config.trustProxyHops) : undefined;
  if (logger) {
    factors.events.on("recoveryCodeUsed", ({ userId, remaining, request }) =>
      logSecurityEvent(logger, {
        event: "mfa.recovery-code-used",
        outcome: "success",
        userId,
        remaining,
        ip: ip(request),
      }),
    );
  }
  let passkeys: Passkeys<RegisteredUser> | undefined;
  return {
    factors,
    passkeys() {
      if (!passkeys) {
        const { rpId, origins } = relyingParty(config.baseUrl);
        passkeys = new Passkeys<RegisteredUser>(shared, {
          rpId,
          rpName: SITE_NAME,
          origins,
          findUserById: (id: string) => users.findById(id),
        });
        if (logger) {
          passkeys.events.on("passkeyCloneSuspected", ({ userId, request }) =>
            logSecurityEvent(logger, {
              event: "passkey.clone-suspected",
              outcome: "alert",
              userId,
              ip: ip(request),
            }),
          );
        }
      }
      return passkeys;
    },
  };
}
