/**
 * A software WebAuthn authenticator for the passkey tests (src/passkeys): ES256 keys from
 * node:crypto, authenticator data built by hand (rpIdHash, flags, signature counter, attested
 * credential data with a COSE key), "none" attestation objects CBOR-encoded with
 * @levischuck/tiny-cbor (which @simplewebauthn/server brings), and the browser's JSON responses,
 * with knobs for what a test wants to break: origin, rpId, user verification, counters, flags.
 */
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";
import { type CBORType, encodeCBOR } from "@levischuck/tiny-cbor";

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_BE = 0x08;
const FLAG_BS = 0x10;
const FLAG_AT = 0x40;
const COSE_EC2 = 2;
const COSE_ES256 = -7;
const COSE_P256 = 1;

/** One credential the authenticator holds. */
export interface SoftCredential {
  readonly id: Buffer;
  readonly privateKey: KeyObject;
  readonly rpId: string;
  readonly userHandle: Buffer;
  counter: number;
}

/** The parts of the creation options the authenticator reads. */
interface CreationOptions {
  challenge: string;
  rp: { id?: string };
  user: { id: string };
}

/** The parts of the request options the authenticator reads. */
interface RequestOptions {
  challenge: string;
  rpId?: string;
  allowCredentials?: { id: string }[];
}

/** What a test may change in one ceremony. */
export interface CeremonyOverrides {
  origin?: string;
  rpId?: string;
  challenge?: string;
  userVerified?: boolean;
  counter?: number;
  userHandle?: string | null;
  credential?: SoftCredential;
}

const b64url = (bytes: Uint8Array | string) => Buffer.from(bytes).toString("base64url");
const sha256 = (data: Uint8Array | string) => createHash("sha256").update(data).digest();

/** A platform authenticator in software. */
export class SoftwareAuthenticator {
  readonly credentials: SoftCredential[] = [];
  /** Whether the signature counter goes up with each use (synced passkeys usually report 0). */
  counting = true;
  /** Backup eligible and backed up (a synced passkey). */
  synced = false;
  userVerifying = true;

  constructor(readonly origin: string) {}

  /** navigator.credentials.create(): a registration response as the browser's toJSON() gives it. */
  create(options: CreationOptions, overrides: CeremonyOverrides = {}) {
    const rpId = overrides.rpId ?? options.rp.id ?? "";
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const credential: SoftCredential = {
      id: randomBytes(16),
      privateKey,
      rpId,
      userHandle: Buffer.from(options.user.id, "base64url"),
      counter: 0,
    };
    this.credentials.push(credential);
    const attested = Buffer.concat([
      Buffer.alloc(16),
      Buffer.from([credential.id.length >> 8, credential.id.length & 0xff]),
      credential.id,
      coseKey(publicKey),
    ]);
    const authData = this.#authData(rpId, FLAG_AT, 0, overrides, attested);
    const attestationObject = encodeCBOR(
      new Map<string, CBORType>([
        ["fmt", "none"],
        ["attStmt", new Map<string, CBORType>()],
        ["authData", new Uint8Array(authData)],
      ]),
    );
    return {
      id: b64url(credential.id),
      rawId: b64url(credential.id),
      type: "public-key",
      response: {
        clientDataJSON: b64url(this.#clientData("webauthn.create", options.challenge, overrides)),
        attestationObject: b64url(attestationObject),
        transports: ["internal"],
      },
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
    };
  }

  /** navigator.credentials.get(): an authentication response (a listed credential, else the newest). */
  get(options: RequestOptions, overrides: CeremonyOverrides = {}) {
    const allowed = new Set((options.allowCredentials ?? []).map((entry) => entry.id));
    const credential =
      overrides.credential ??
      [...this.credentials].reverse().find((entry) => allowed.size === 0 || allowed.has(b64url(entry.id)));
    if (!credential) throw new Error("no credential for these options");
    if (this.counting) credential.counter += 1;
    const counter = overrides.counter ?? (this.counting ? credential.counter : 0);
    const authData = this.#authData(overrides.rpId ?? credential.rpId, 0, counter, overrides);
    const clientData = this.#clientData("webauthn.get", options.challenge, overrides);
    const signature = sign("sha256", Buffer.concat([authData, sha256(clientData)]), credential.privateKey);
    const userHandle =
      overrides.userHandle === undefined ? b64url(credential.userHandle) : overrides.userHandle;
    return {
      id: b64url(credential.id),
      rawId: b64url(credential.id),
      type: "public-key",
      response: {
        clientDataJSON: b64url(clientData),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        ...(userHandle === null ? {} : { userHandle }),
      },
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
    };
  }

  /** Another authenticator holding copies of this one's credentials (counters as they are now). */
  clone(): SoftwareAuthenticator {
    const copy = new SoftwareAuthenticator(this.origin);
    for (const credential of this.credentials) copy.credentials.push({ ...credential });
    copy.counting = this.counting;
    copy.synced = this.synced;
    return copy;
  }

  #authData(
    rpId: string,
    extraFlags: number,
    counter: number,
    overrides: CeremonyOverrides,
    attested?: Buffer,
  ) {
    const verified = overrides.userVerified ?? this.userVerifying;
    const flags = FLAG_UP | (verified ? FLAG_UV : 0) | (this.synced ? FLAG_BE | FLAG_BS : 0) | extraFlags;
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    return Buffer.concat([sha256(rpId), Buffer.from([flags]), count, ...(attested ? [attested] : [])]);
  }

  #clientData(type: string, challenge: string, overrides: CeremonyOverrides): Buffer {
    const origin = overrides.origin ?? this.origin;
    return Buffer.from(
      JSON.stringify({ type, challenge: overrides.challenge ?? challenge, origin, crossOrigin: false }),
    );
  }
}

/** The COSE_Key (RFC 9053) of an ES256 public key. */
function coseKey(publicKey: KeyObject): Uint8Array {
  const jwk = publicKey.export({ format: "jwk" });
  return encodeCBOR(
    new Map<number, CBORType>([
      [1, COSE_EC2],
      [3, COSE_ES256],
      [-1, COSE_P256],
      [-2, new Uint8Array(Buffer.from(jwk.x ?? "", "base64url"))],
      [-3, new Uint8Array(Buffer.from(jwk.y ?? "", "base64url"))],
    ]),
  );
}
