/**
 * Passkeys (WebAuthn): the JSON endpoints `public/passkeys.js` calls for registering a passkey
 * (fresh login required) and signing in with one (usernameless, or as the second step of a password
 * login), and the account page's forms that rename and remove one. Framework-neutral handlers;
 * `routes.ts` says which URL and guard each one serves.
 *
 * Every endpoint takes a JSON body (at most 8 KiB, like every body the app reads) and answers JSON;
 * a failure is a 4xx with `{ "error": "<code>", "message": "<for the person>" }`.
 *
 * @module
 */
import { safeNextUrl } from "login-manager";
import { clientAddress } from "login-manager/adapter";
import { notificationFor } from "../domain/notifier.js";
import { logSecurityEvent, type SecurityEvent } from "../domain/security-log.js";
import type { User } from "../domain/users.js";
import type { WebApp } from "./app.js";
import { field, redirect, type WebRequest, type WebResponse } from "./http.js";
import { appUser } from "./pages.js";

/** Longest passkey name, in code points. */
export const MAX_PASSKEY_LABEL = 64;
/** A credential id as the account page's forms send it: base64url, as long as the store allows. */
const CREDENTIAL_ID = /^[A-Za-z0-9_-]{1,1400}$/;

const JSON_HEADERS = { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" };

/**
 * A JSON answer.
 *
 * @example
 * ```ts
 * return json(200, { ok: true, redirect: "/account" });
 * ```
 */
export function json(status: number, body: unknown): WebResponse {
  return { status, headers: { ...JSON_HEADERS }, body: JSON.stringify(body) };
}

/**
 * A JSON error: `{ error, message }` with a 4xx status.
 *
 * @example
 * ```ts
 * return jsonError(400, "bad_request", "Send the passkey's answer as credential.");
 * ```
 */
export function jsonError(status: number, error: string, message: string): WebResponse {
  return json(status, { error, message });
}

/** The `credential` member of a JSON body: the browser's `PublicKeyCredential.toJSON()`, an object. */
function credentialOf(request: WebRequest): Record<string, unknown> | undefined {
  const { body } = request;
  if (body === null || typeof body !== "object" || Array.isArray(body)) return undefined;
  const credential = (body as Record<string, unknown>).credential;
  if (credential === null || typeof credential !== "object" || Array.isArray(credential)) return undefined;
  return credential as Record<string, unknown>;
}

/** What the person reads for the reasons a ceremony fails that they can act on. */
const FAILURE_MESSAGES: Readonly<Record<string, string>> = {
  exists: "This device already holds a passkey for your account.",
  "invalid-label": `Give the passkey a name of at most ${MAX_PASSKEY_LABEL} characters, without control characters.`,
  challenge: "The request expired or was already used. Please try again.",
  "no-pending-login": "Your sign-in expired. Please log in again.",
};

const NO_CREDENTIAL = () =>
  jsonError(400, "bad_request", 'Send the browser\'s passkey answer (credential.toJSON()) as "credential".');

/** A passkey's name from a form or JSON field: trimmed, at most {@link MAX_PASSKEY_LABEL} code points. */
function labelField(request: WebRequest): string | undefined {
  const label = field(request, "label").trim();
  return [...label].length <= MAX_PASSKEY_LABEL ? label : undefined;
}

function log(app: WebApp, { auth }: WebRequest, event: SecurityEvent): void {
  logSecurityEvent(app.logger, { ...event, ip: clientAddress(auth.request, app.config.trustProxyHops) });
}

function notify(app: WebApp, { auth }: WebRequest, kind: "passkey.added" | "passkey.removed", user: User) {
  app.notifier.notify(notificationFor(kind, user, clientAddress(auth.request, app.config.trustProxyHops)));
}

/** `POST /passkeys/register/options` (fresh login required): the options for `navigator.credentials.create()`. */
export async function registrationOptions(app: WebApp, { auth }: WebRequest): Promise<WebResponse> {
  const user = appUser(auth);
  const options = await app.mfa
    .passkeys()
    .registrationOptions(auth, { userName: user.username, displayName: user.username });
  return json(200, options);
}

/**
 * `POST /passkeys/register/verify` (fresh login required): `{ credential, label }` saves the new
 * passkey; `{ ok: true, redirect: "/account" }`, or 400 with why not.
 */
export async function finishRegistration(app: WebApp, request: WebRequest): Promise<WebResponse> {
  const { auth } = request;
  const user = appUser(auth);
  const credential = credentialOf(request);
  if (!credential) return NO_CREDENTIAL();
  const label = labelField(request);
  if (label === undefined) {
    return jsonError(400, "bad_label", `Give the passkey a name of at most ${MAX_PASSKEY_LABEL} characters.`);
  }
  const result = await app.mfa.passkeys().finishRegistration(auth, credential, { label });
  if (!result.ok) {
    const message = FAILURE_MESSAGES[result.reason] ?? "The passkey could not be added. Please try again.";
    return jsonError(400, result.reason, message);
  }
  log(app, request, {
    event: "passkey.added",
    outcome: "success",
    userId: user.getId(),
    username: user.username,
  });
  notify(app, request, "passkey.added", user);
  auth.flash(`Passkey “${result.passkey.label || "Passkey"}” added.`, "success");
  return json(200, { ok: true, redirect: "/account" });
}

/**
 * `POST /passkeys/login/options`: the options for `navigator.credentials.get()`: usernameless (any of
 * the site's passkeys); during the second step of a password login, that user's passkeys; for a
 * browser logged in already, its user's own (the ceremony then confirms that login, as at `/reauth`).
 */
export async function authenticationOptions(app: WebApp, { auth }: WebRequest): Promise<WebResponse> {
  return json(200, await app.mfa.passkeys().authenticationOptions(auth));
}

/**
 * `POST /passkeys/login/verify`: `{ credential, remember, next }` logs in (usernameless: the passkey
 * is both factors) or completes the password's pending login; `{ ok: true, redirect }` to a safe
 * `next`. 401 when the passkey does not sign in; 429 with `Retry-After` while the account is locked.
 */
export async function finishAuthentication(app: WebApp, request: WebRequest): Promise<WebResponse> {
  const { auth } = request;
  const credential = credentialOf(request);
  if (!credential) return NO_CREDENTIAL();
  const body = request.body as Record<string, unknown>;
  const pending = await auth.pendingLogin();
  const result = await app.mfa.passkeys().finishAuthentication(auth, credential, {
    remember: pending ? pending.remember : body.remember === true,
  });
  if (result.ok) {
    auth.flash("Logged in successfully.", "success");
    return json(200, { ok: true, redirect: safeNextUrl(field(request, "next"), "/") });
  }
  const retryAfterSeconds = (result as { retryAfterSeconds?: number }).retryAfterSeconds;
  log(app, request, {
    event: "mfa.failure",
    outcome: retryAfterSeconds === undefined ? "failure" : "blocked",
    userId: pending?.userId ?? null,
    factor: "passkey",
    reason: result.reason,
  });
  if (retryAfterSeconds !== undefined) {
    const response = jsonError(429, "locked", "Too many failed attempts. Please wait and try again.");
    response.headers["retry-after"] = String(retryAfterSeconds);
    return response;
  }
  const message = FAILURE_MESSAGES[result.reason] ?? "That passkey could not sign you in. Please try again.";
  return jsonError(401, result.reason, message);
}

/**
 * `POST /passkeys/reauth/options` (login required): options for confirming it's you at `/reauth`,
 * listing the user's own passkeys (user verification required).
 */
export async function reauthOptions(app: WebApp, { auth }: WebRequest): Promise<WebResponse> {
  return json(200, await app.mfa.passkeys().authenticationOptions(auth));
}

/**
 * `POST /passkeys/reauth/verify` (login required): `{ credential, next }` with one of the user's own
 * passkeys confirms the login (a new session id, both factors proven now, so the login is fresh);
 * `{ ok: true, redirect }` to a safe `next` (else `/account`). Another account's passkey is refused
 * (401): `/reauth` never switches accounts.
 */
export async function finishReauth(app: WebApp, request: WebRequest): Promise<WebResponse> {
  const { auth } = request;
  const user = appUser(auth);
  const credential = credentialOf(request);
  if (!credential) return NO_CREDENTIAL();
  const result = await app.mfa.passkeys().finishAuthentication(auth, credential);
  if (result.ok) {
    auth.flash("Thanks, it's you.", "success");
    return json(200, { ok: true, redirect: safeNextUrl(field(request, "next"), "/account") });
  }
  log(app, request, {
    event: "reauth.failure",
    outcome: "failure",
    userId: user.getId(),
    username: user.username,
    reason: `passkey-${result.reason}`,
  });
  return jsonError(401, result.reason, "That passkey could not confirm it's you. Please try again.");
}

/** The credential id of the account page's rename and remove forms, or undefined. */
function idField(request: WebRequest): string | undefined {
  const id = field(request, "id");
  return CREDENTIAL_ID.test(id) ? id : undefined;
}

/** `POST /account/passkeys/rename` (fresh login required): `id`, `label`; `303 /account`. */
export async function renamePasskey(app: WebApp, request: WebRequest): Promise<WebResponse> {
  const { auth } = request;
  const user = appUser(auth);
  const id = idField(request);
  const label = labelField(request);
  if (label === undefined || label === "") {
    auth.flash(`Give the passkey a name of 1 to ${MAX_PASSKEY_LABEL} characters.`, "error");
    return redirect("/account");
  }
  if (id === undefined || !(await app.mfa.passkeys().rename(auth, id, label))) {
    auth.flash("That passkey was already removed.", "info");
    return redirect("/account");
  }
  log(app, request, {
    event: "passkey.renamed",
    outcome: "success",
    userId: user.getId(),
    username: user.username,
  });
  auth.flash("Passkey renamed.", "success");
  return redirect("/account");
}

/** `POST /account/passkeys/remove` (fresh login required): `id`; `303 /account`, and a mail to the user. */
export async function removePasskey(app: WebApp, request: WebRequest): Promise<WebResponse> {
  const { auth } = request;
  const user = appUser(auth);
  const id = idField(request);
  if (id === undefined || !(await app.mfa.passkeys().remove(auth, id))) {
    auth.flash("That passkey was already removed.", "info");
    return redirect("/account");
  }
  log(app, request, {
    event: "passkey.removed",
    outcome: "success",
    userId: user.getId(),
    username: user.username,
  });
  notify(app, request, "passkey.removed", user);
  auth.flash("Passkey removed. It can no longer sign in to your account.", "success");
  return redirect("/account");
}
