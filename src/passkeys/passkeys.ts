/**
 * `Passkeys`: WebAuthn registration and sign-in on a `LoginManager`, with `@simplewebauthn/server`
 * doing the WebAuthn checks and the manager's store keeping credentials, user handles and
 * single-use challenges.
 *
 * @module
 */
import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from "@simplewebauthn/server";
import { TypedEvents } from "../core/events.js";
import type { LoginManager } from "../core/manager.js";
import type { FactorRecord } from "../core/store.js";
import type { AuthUser } from "../core/users.js";
import {
  dropOrphanRecoveryCodes,
  FACTOR_KINDS,
  freshUser,
  type PasskeyAuth,
  type SecondFactorAuth,
} from "../mfa/shared.js";
import { authenticationOptions, finishAuthentication, type PasskeyLoginResult } from "./authentication.js";
import { MAX_CREDENTIAL_ID_LENGTH } from "./ceremony.js";
import { type PasskeyInfo, passkeyInfoOf } from "./credentials.js";
import type { PasskeyDeps, PasskeyEvents, RegistrationFailure } from "./deps.js";
import { type PasskeysOptions, type ResolvedPasskeysOptions, resolvePasskeysOptions } from "./options.js";
import { finishRegistration, isPasskeyLabel, registrationOptions } from "./registration.js";

const CREDENTIAL_ID = /^[A-Za-z0-9_-]+$/;

/**
 * Passkeys (WebAuthn) for the users of a {@link LoginManager}: register discoverable credentials
 * with user verification, sign in with one as the second step of a pending login or usernameless
 * (both factors at once), list, rename and remove them. Challenges are 32 random bytes kept as
 * single-use one-time tokens bound to the browser; signature counters and backup flags are kept.
 *
 * @example
 * ```ts
 * const passkeys = new Passkeys(manager, {
 *   rpId: "example.com",
 *   rpName: "Example",
 *   origins: ["https://example.com"],
 *   findUserById: (id) => users.findById(id),
 * });
 * app.post("/login/passkey/options", async (req, res) => res.json(await passkeys.authenticationOptions(req.auth)));
 * app.post("/login/passkey", async (req, res) => {
 *   const result = await passkeys.finishAuthentication(req.auth, req.body, { remember: false });
 *   res.status(result.ok ? 200 : 400).json({ ok: result.ok });
 * });
 * ```
 */
export class Passkeys<U extends AuthUser = AuthUser> {
  /** The checked, frozen options. */
  readonly options: ResolvedPasskeysOptions<U>;
  /** Events of each step (see {@link PasskeyEvents}). */
  readonly events = new TypedEvents<PasskeyEvents>();
  readonly #deps: PasskeyDeps<U>;

  constructor(manager: LoginManager<U>, options: PasskeysOptions<U>) {
    this.options = resolvePasskeysOptions<U>(options);
    const { store, clock } = manager.options;
    this.#deps = { manager, store, clock, options: this.options, events: this.events };
  }

  /**
   * Options for `navigator.credentials.create()` (resident key and user verification required; the
   * user's passkeys excluded). Needs a fresh login; throws for a `userName` not of 1 to 320
   * characters or a `displayName` over 64.
   *
   * @example
   * ```ts
   * res.json(await passkeys.registrationOptions(req.auth, { userName: user.email, displayName: user.name }));
   * ```
   */
  registrationOptions(
    auth: SecondFactorAuth<U>,
    input: { userName: string; displayName: string },
  ): Promise<PublicKeyCredentialCreationOptionsJSON> {
    return registrationOptions(this.#deps, auth, input);
  }

  /**
   * Checks the browser's registration response (JSON text or parsed, at most 64 KiB) against its
   * challenge, the origins and rpId, and stores the passkey named `label` (at most 64 characters).
   * Needs a fresh login.
   *
   * @example
   * ```ts
   * const result = await passkeys.finishRegistration(req.auth, req.body.credential, { label: req.body.label });
   * if (!result.ok) return res.status(400).json({ error: result.reason });
   * ```
   */
  finishRegistration(
    auth: SecondFactorAuth<U>,
    responseJson: unknown,
    input: { label: string },
  ): Promise<{ ok: true; passkey: PasskeyInfo } | { ok: false; reason: RegistrationFailure }> {
    return finishRegistration(this.#deps, auth, responseJson, input);
  }

  /**
   * The user's passkeys, oldest first.
   *
   * @example
   * ```ts
   * res.render("passkeys", { passkeys: await passkeys.list(user.getId()) });
   * ```
   */
  async list(userId: string): Promise<PasskeyInfo[]> {
    const factors = await this.#deps.store.listUserFactors(userId, FACTOR_KINDS.passkey);
    return factors.map(passkeyInfoOf).filter((info): info is PasskeyInfo => info !== null);
  }

  /**
   * Renames one of the logged-in user's passkeys; false when it is not theirs or the label is not a
   * string of at most 64 characters without control characters.
   *
   * @example
   * ```ts
   * await passkeys.rename(req.auth, req.params.id, req.body.label);
   * ```
   */
  async rename(auth: SecondFactorAuth<U>, id: string, label: string): Promise<boolean> {
    const userId = auth.requireUser().getId();
    if (!isPasskeyLabel(label)) return false;
    const factor = await this.#own(userId, id);
    if (factor === null) return false;
    if (!(await this.#deps.store.updateFactor(FACTOR_KINDS.passkey, factor.id, { label }))) return false;
    this.events.emit("passkeyRenamed", { userId, id: factor.id, label, request: auth.request });
    return true;
  }

  /**
   * Removes one of the logged-in user's passkeys (needs a fresh login); false when it is not theirs.
   * When no second factor remains (no passkey, no TOTP), the recovery codes go too.
   *
   * @example
   * ```ts
   * await passkeys.remove(req.auth, req.params.id);
   * ```
   */
  async remove(auth: SecondFactorAuth<U>, id: string): Promise<boolean> {
    const userId = freshUser(auth, "remove").getId();
    const factor = await this.#own(userId, id);
    const { store } = this.#deps;
    if (factor === null || !(await store.deleteFactor(FACTOR_KINDS.passkey, factor.id))) return false;
    await dropOrphanRecoveryCodes(store, userId);
    this.events.emit("passkeyRemoved", { userId, id: factor.id, request: auth.request });
    return true;
  }

  /**
   * Options for `navigator.credentials.get()`: the pending login's user's passkeys; for a logged-in
   * browser, its user's own passkeys (re-authentication, user verification required); otherwise
   * usernameless (no list, user verification required).
   *
   * @example
   * ```ts
   * res.json(await passkeys.authenticationOptions(req.auth));
   * ```
   */
  authenticationOptions(auth: PasskeyAuth<U>): Promise<PublicKeyCredentialRequestOptionsJSON> {
    return authenticationOptions(this.#deps, auth);
  }

  /**
   * Checks the browser's sign-in response (at most 64 KiB): completes this browser's pending login
   * (method `hwk` or `swk`, under the account's failure budget; `remember` as chosen at the password
   * step), confirms a logged-in browser's login with one of its user's own passkeys (fresh, a new
   * session id, methods `hwk`/`swk` and `mfa`; another user's passkey is refused, never switched to),
   * or logs the passkey's owner in usernameless (methods `hwk`/`swk` and `mfa`, with `remember`).
   *
   * @example
   * ```ts
   * const result = await passkeys.finishAuthentication(req.auth, req.body.credential, { remember: false });
   * if (!result.ok) return res.status(400).json({ error: result.reason });
   * ```
   */
  finishAuthentication(
    auth: PasskeyAuth<U>,
    responseJson: unknown,
    input: { remember?: boolean } = {},
  ): Promise<PasskeyLoginResult<U>> {
    return finishAuthentication(this.#deps, auth, responseJson, input);
  }

  /** The passkey `id` when it belongs to `userId`; ids that cannot be credential ids reach no store call. */
  async #own(userId: string, id: unknown): Promise<FactorRecord | null> {
    if (typeof id !== "string" || id.length > MAX_CREDENTIAL_ID_LENGTH || !CREDENTIAL_ID.test(id))
      return null;
    const factor = await this.#deps.store.getFactor(FACTOR_KINDS.passkey, id);
    return factor !== null && factor.userId === userId ? factor : null;
  }
}
