/**
 * The server side of one WebAuthn ceremony before the signature is checked: the browser's JSON
 * response read within size limits, and the challenge. A challenge is a one-time token of the
 * manager (so single use, expiring, kept only as a SHA-256 hash, voided by a revocation of the
 * user's sessions): its two 16-byte halves are the 32 random bytes the authenticator signs. The
 * response names the challenge in its clientDataJSON; the token is consumed (of concurrent uses one
 * wins) and must name this browser's binding.
 *
 * @module
 */
import type { LoginManager } from "../core/manager.js";
import { constantTimeEqual, TOKEN_BYTES } from "../core/tokens.js";
import type { AuthUser } from "../core/users.js";

/**
 * The largest WebAuthn response accepted, as JSON text: far above a real one (a few KiB with an
 * attestation certificate chain), refused before any parsing beyond the size.
 *
 * @example
 * ```ts
 * app.use("/passkeys", express.json({ limit: MAX_RESPONSE_LENGTH }));
 * ```
 */
export const MAX_RESPONSE_LENGTH = 64 * 1024;
/**
 * The longest credential id accepted: 1023 bytes (WebAuthn's limit) as base64url, within the
 * store's 1400 characters for a factor id.
 *
 * @example
 * ```ts
 * if (id.length > MAX_CREDENTIAL_ID_LENGTH) return res.status(400).end();
 * ```
 */
export const MAX_CREDENTIAL_ID_LENGTH = 1400;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const CHALLENGE_BYTES = 2 * TOKEN_BYTES;

/**
 * A response as the browser sent it (`PublicKeyCredential.toJSON()`), shape-checked: `id` is
 * base64url within the size limit, `response.clientDataJSON` a string whose challenge is 32 bytes.
 *
 * @example
 * ```ts
 * const parsed: ParsedResponse = { json, id: "AbC...", challenge: "q3Xv...", token: "q3Xv....Zt9w" };
 * ```
 */
export interface ParsedResponse {
  /** The response as plain JSON data (a fresh copy). */
  readonly json: Record<string, unknown> & { response: Record<string, unknown> };
  /** The credential id (base64url). */
  readonly id: string;
  /** The challenge as clientDataJSON carries it (base64url of 32 bytes). */
  readonly challenge: string;
  /** The one-time token the challenge is. */
  readonly token: string;
}

/**
 * Reads `input` (JSON text or already-parsed JSON) as a WebAuthn response, or null when it is too
 * large, not JSON, or not shaped like one. Nothing reaches the store before this passes.
 *
 * @example
 * ```ts
 * const parsed = parseResponse(req.body);
 * if (!parsed) return res.status(400).json({ error: "malformed" });
 * ```
 */
export function parseResponse(input: unknown): ParsedResponse | null {
  const json = plainJson(input);
  if (json === null || typeof json.id !== "string" || json.type !== "public-key") return null;
  const { id, response } = json;
  if (id.length > MAX_CREDENTIAL_ID_LENGTH || !BASE64URL.test(id)) return null;
  if (typeof response !== "object" || response === null || Array.isArray(response)) return null;
  const clientData = (response as Record<string, unknown>).clientDataJSON;
  const challenge = typeof clientData === "string" ? challengeOf(clientData) : null;
  const token = challenge === null ? null : tokenOfChallenge(challenge);
  if (challenge === null || token === null) return null;
  return { json: json as ParsedResponse["json"], id, challenge, token };
}

/**
 * The 32 challenge bytes a token stands for (its two halves, decoded).
 *
 * @example
 * ```ts
 * const challenge = challengeOfToken(await manager.issueOneTimeToken(issue));
 * ```
 */
export function challengeOfToken(token: string): Uint8Array {
  const [first = "", second = ""] = token.split(".");
  return Buffer.concat([Buffer.from(first, "base64url"), Buffer.from(second, "base64url")]);
}

/**
 * What a ceremony's challenge token carries: the browser it was issued to and its mode.
 *
 * @example
 * ```ts
 * const grant: ChallengeGrant = { userId: "42", binding, mode: "second-factor", handle: "" };
 * ```
 */
export interface ChallengeGrant {
  readonly userId: string;
  readonly binding: string;
  readonly mode: "register" | "second-factor" | "usernameless" | "reauth";
  /** The WebAuthn user handle a registration was offered under ("" otherwise). */
  readonly handle: string;
}

/**
 * Issues a ceremony's challenge: a one-time token of `purpose` carrying `grant`, as 32 bytes.
 *
 * @example
 * ```ts
 * const challenge = await issueChallenge(manager, "passkey-registration", 300, grant);
 * ```
 */
export async function issueChallenge<U extends AuthUser>(
  manager: LoginManager<U>,
  purpose: string,
  ttlSeconds: number,
  grant: ChallengeGrant,
): Promise<Uint8Array> {
  const data = JSON.stringify({ b: grant.binding, m: grant.mode, h: grant.handle });
  const token = await manager.issueOneTimeToken({ purpose, userId: grant.userId, ttlSeconds, data });
  return challengeOfToken(token);
}

/**
 * Consumes the challenge a response names (once) and returns its grant when it is of `purpose`,
 * unexpired, not voided, and was issued to this browser (`binding`); null otherwise.
 *
 * @example
 * ```ts
 * const grant = await consumeChallenge(manager, "passkey-authentication", parsed, auth.browserBinding());
 * ```
 */
export async function consumeChallenge<U extends AuthUser>(
  manager: LoginManager<U>,
  purpose: string,
  parsed: ParsedResponse,
  binding: string,
): Promise<ChallengeGrant | null> {
  const token = await manager.consumeOneTimeToken(purpose, parsed.token);
  if (token === null) return null;
  const data = parseObject(token.data);
  const { b, m, h } = data ?? {};
  if (typeof b !== "string" || typeof h !== "string" || !isMode(m)) return null;
  if (!constantTimeEqual(b, binding)) return null;
  return { userId: token.userId, binding: b, mode: m, handle: h };
}

function isMode(mode: unknown): mode is ChallengeGrant["mode"] {
  return mode === "register" || mode === "second-factor" || mode === "usernameless" || mode === "reauth";
}

/** A fresh plain-JSON copy of `input` within the size limit, or null. */
function plainJson(input: unknown): Record<string, unknown> | null {
  let text: string;
  if (typeof input === "string") {
    text = input;
  } else if (typeof input === "object" && input !== null) {
    try {
      text = JSON.stringify(input);
    } catch {
      return null;
    }
  } else {
    return null;
  }
  return text.length > MAX_RESPONSE_LENGTH ? null : parseObject(text);
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** The challenge in a base64url clientDataJSON, when it is the canonical base64url of 32 bytes. */
function challengeOf(clientDataJSON: string): string | null {
  if (!BASE64URL.test(clientDataJSON)) return null;
  const clientData = parseObject(Buffer.from(clientDataJSON, "base64url").toString("utf8"));
  const challenge = clientData?.challenge;
  if (typeof challenge !== "string" || !BASE64URL.test(challenge)) return null;
  const bytes = Buffer.from(challenge, "base64url");
  return bytes.length === CHALLENGE_BYTES && bytes.toString("base64url") === challenge ? challenge : null;
}

function tokenOfChallenge(challenge: string): string | null {
  const bytes = Buffer.from(challenge, "base64url");
  if (bytes.length !== CHALLENGE_BYTES) return null;
  const first = bytes.subarray(0, TOKEN_BYTES).toString("base64url");
  const second = bytes.subarray(TOKEN_BYTES).toString("base64url");
  return `${first}.${second}`;
}
