/**
 * `login-manager/passkeys`: passkeys (WebAuthn) on a `LoginManager`, with `@simplewebauthn/server`
 * (an optional peer dependency: install it to use this entry point). {@link Passkeys} registers
 * discoverable credentials with user verification, signs users in with them as the second step of a
 * pending login or usernameless (both factors at once), and keeps them in the manager's store:
 * public keys, signature counters (a counter going backwards is refused as a possible clone), backup
 * flags, the user's random WebAuthn user handle, and single-use challenges bound to the browser.
 *
 * @example
 * ```ts
 * import { Passkeys } from "login-manager/passkeys";
 *
 * const passkeys = new Passkeys(manager, {
 *   rpId: "example.com",
 *   rpName: "Example",
 *   origins: ["https://example.com"],
 *   findUserById: (id) => users.findById(id),
 * });
 * ```
 *
 * @module
 */
export {
  PASSKEY_AUTHENTICATION_PURPOSE,
  type PasskeyLoginResult,
} from "./authentication.js";
export { MAX_RESPONSE_LENGTH } from "./ceremony.js";
export type { PasskeyDeviceType, PasskeyInfo } from "./credentials.js";
export type { AuthenticationFailure, PasskeyEvents, RegistrationFailure } from "./deps.js";
export type { PasskeysOptions, ResolvedPasskeysOptions } from "./options.js";
export { Passkeys } from "./passkeys.js";
export { isPasskeyLabel, PASSKEY_REGISTRATION_PURPOSE } from "./registration.js";
