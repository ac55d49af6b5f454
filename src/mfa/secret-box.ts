/**
 * Encryption at rest for small secrets such as TOTP seeds, under the app's `secret` list: the first
 * secret encrypts, every secret decrypts, so rotating keys means putting the new secret first and
 * re-encrypting boxes that {@link SecretBox.needsReencryption} flags as they are read.
 *
 * A box is `v1.<keyId>.<iv>.<ciphertext+tag>`, each part base64url: AES-256-GCM under a key derived
 * from one app secret by HKDF-SHA256 (the info string names this purpose, so the key is never the
 * one any other part of the app derives from the same secret), a random 12-byte IV, and the 16-byte
 * tag after the ciphertext. `keyId` is a short hash of the derived key: it says which secret to
 * use without revealing it. The version and key id (and any associated data the caller gives, such
 * as the user id) are authenticated, so a box cannot be relabelled or moved to another user's row.
 *
 * @module
 */
import { createCipheriv, createDecipheriv, hash, hkdfSync, randomBytes } from "node:crypto";
import { ConfigurationError } from "../core/errors.js";

const VERSION = "v1";
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** 6 bytes of SHA-256 as 8 base64url characters: enough to tell a handful of secrets apart. */
const KEY_ID_BYTES = 6;
const KEY_ID_LENGTH = 8;
const DEFAULT_PURPOSE = "totp-secret";
const PURPOSE = /^[a-z0-9-]{1,64}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** The largest box {@link SecretBox.open} parses: far above any TOTP seed, far below a memory risk. */
const MAX_BOX_LENGTH = 8192;

/**
 * Why a box could not be opened: it is not a box of this format, it was encrypted under a secret
 * that is no longer configured, or it failed authentication (changed, truncated, or bound to
 * different associated data). Never returns partial plaintext.
 *
 * @example
 * ```ts
 * try { box.open(stored, user.id); } catch (error) {
 *   if (error instanceof SecretBoxError) log.error(error.message);
 * }
 * ```
 */
export class SecretBoxError extends Error {
  readonly code = "ERR_SECRET_BOX";

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SecretBoxError";
  }
}

/**
 * Options of {@link SecretBox}: `purpose` names what the boxes hold and goes into the HKDF info
 * string, so boxes of one purpose never open as another (lower-case letters, digits and dashes).
 *
 * @example
 * ```ts
 * const options: SecretBoxOptions = { purpose: "totp-secret" };
 * ```
 */
export interface SecretBoxOptions {
  readonly purpose?: string;
}

interface BoxKey {
  readonly id: string;
  readonly key: Buffer;
}

interface ParsedBox {
  readonly keyId: string;
  readonly iv: Buffer;
  readonly sealed: Buffer;
}

/**
 * Seals and opens boxes under a list of app secrets (see the module comment).
 *
 * @example
 * ```ts
 * const box = new SecretBox([process.env.SECRET_KEY!, process.env.OLD_SECRET_KEY!]);
 * const stored = box.seal(generateTotpSecret(), user.id);
 * const secret = box.open(stored, user.id);
 * if (box.needsReencryption(stored)) await users.setTotpSecret(user.id, box.seal(secret, user.id));
 * ```
 */
export class SecretBox {
  readonly #keys: readonly BoxKey[];

  constructor(secrets: readonly string[], options: SecretBoxOptions = {}) {
    const purpose = options.purpose ?? DEFAULT_PURPOSE;
    if (!PURPOSE.test(purpose)) {
      throw new ConfigurationError(
        `purpose must be 1-64 of a-z, 0-9 and "-", got ${JSON.stringify(purpose)}`,
      );
    }
    if (!Array.isArray(secrets) || secrets.length === 0 || !secrets.every(isNonEmptyString)) {
      throw new ConfigurationError("SecretBox needs a non-empty list of secrets (the app's `secret` option)");
    }
    this.#keys = secrets.map((secret) => deriveKey(secret, purpose));
  }

  /**
   * Encrypts `plaintext` under the first secret. `associatedData` (e.g. the user id) is
   * authenticated but not stored: {@link SecretBox.open} needs the same value.
   *
   * @example
   * ```ts
   * const stored = box.seal("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", user.id);
   * ```
   */
  seal(plaintext: string, associatedData = ""): string {
    const { id, key } = this.#current();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(additionalData(id, associatedData));
    const sealed = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
    return [VERSION, id, iv.toString("base64url"), sealed.toString("base64url")].join(".");
  }

  /**
   * Decrypts a box with the secret its key id names, or throws a {@link SecretBoxError}.
   *
   * @example
   * ```ts
   * const secret = box.open(user.totpSecretBox, user.id);
   * ```
   */
  open(box: string, associatedData = ""): string {
    const parsed = parseBox(box);
    const entry = this.#keys.find((candidate) => candidate.id === parsed.keyId);
    if (!entry) {
      throw new SecretBoxError(
        `the box was encrypted under a secret that is not configured (key id ${parsed.keyId}); keep the old secret in the list until every box is re-encrypted`,
      );
    }
    return decrypt(entry, parsed, associatedData);
  }

  /**
   * True when `box` is not under the first secret (so it should be opened and sealed again); throws
   * a {@link SecretBoxError} when it is not a box at all. Does not authenticate the box.
   *
   * @example
   * ```ts
   * if (box.needsReencryption(stored)) await save(box.seal(box.open(stored, id), id));
   * ```
   */
  needsReencryption(box: string): boolean {
    return parseBox(box).keyId !== this.#current().id;
  }

  #current(): BoxKey {
    const [first] = this.#keys;
    if (!first) throw new ConfigurationError("SecretBox has no secrets");
    return first;
  }
}

function deriveKey(secret: string, purpose: string): BoxKey {
  const info = `login-manager ${VERSION} secret-box aes-256-gcm: ${purpose}`;
  const key = Buffer.from(hkdfSync("sha256", secret, Buffer.alloc(0), info, KEY_BYTES));
  // 6 bytes are exactly 8 base64url characters, so the prefix of the encoding is the encoded prefix.
  const id = hash("sha256", key, "base64url").slice(0, KEY_ID_LENGTH);
  return { id, key };
}

function additionalData(keyId: string, associatedData: string): Buffer {
  if (typeof associatedData !== "string") throw new ConfigurationError("associatedData must be a string");
  // The caller's data after a separator the header cannot contain, so the two never run together.
  return Buffer.from(`${VERSION}.${keyId}\n${associatedData}`, "utf8");
}

function parseBox(box: string): ParsedBox {
  if (typeof box !== "string" || box.length > MAX_BOX_LENGTH)
    throw malformed("not a string of a sane length");
  const parts = box.split(".");
  if (parts.length !== 4) throw malformed("it does not have four dot-separated parts");
  const [version, keyId = "", iv = "", sealed = ""] = parts;
  if (version !== VERSION) throw malformed(`unknown version ${JSON.stringify(version)}`);
  const ivBytes = canonicalBase64url(iv);
  const sealedBytes = canonicalBase64url(sealed);
  const keyIdBytes = canonicalBase64url(keyId);
  if (keyIdBytes?.length !== KEY_ID_BYTES) throw malformed("the key id is not 8 base64url characters");
  if (ivBytes?.length !== IV_BYTES) throw malformed("the IV is not 12 bytes of base64url");
  if (!sealedBytes || sealedBytes.length < TAG_BYTES)
    throw malformed("the ciphertext is shorter than its tag");
  return { keyId, iv: ivBytes, sealed: sealedBytes };
}

/** The bytes of `text` when it is exactly the unpadded base64url encoding of them. */
function canonicalBase64url(text: string): Buffer | undefined {
  if (!BASE64URL.test(text)) return undefined;
  const bytes = Buffer.from(text, "base64url");
  return bytes.toString("base64url") === text ? bytes : undefined;
}

function decrypt(entry: BoxKey, parsed: ParsedBox, associatedData: string): string {
  const ciphertext = parsed.sealed.subarray(0, parsed.sealed.length - TAG_BYTES);
  const tag = parsed.sealed.subarray(parsed.sealed.length - TAG_BYTES);
  const decipher = createDecipheriv("aes-256-gcm", entry.key, parsed.iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(additionalData(entry.id, associatedData));
  decipher.setAuthTag(tag);
  const plaintext = decipher.update(ciphertext);
  try {
    // final() checks the tag; until it has, `plaintext` is unauthenticated and is dropped on failure.
    return Buffer.concat([plaintext, decipher.final()]).toString("utf8");
  } catch (error) {
    throw new SecretBoxError(
      "the box failed authentication: it was changed or truncated, or opened with different associated data",
      { cause: error },
    );
  }
}

function malformed(reason: string): SecretBoxError {
  return new SecretBoxError(`not a secret box (v1.<keyId>.<iv>.<ciphertext>): ${reason}`);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === "string" && value.length > 0;
}
