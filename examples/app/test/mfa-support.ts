/**
 * The two-step verification tests' tools: an authenticator app of their own (RFC 6238 written here
 * from the RFC, not the library's code, so the app is checked against an independent reading), the
 * setup page's `otpauth://` URI and recovery codes read from the HTML as a person would, and a
 * clock the tests move by whole 30-second steps.
 *
 * @module
 */
import { createHmac } from "node:crypto";
import { expect } from "vitest";
import type { Framework } from "../src/frameworks.js";
import type { ServiceOverrides } from "../src/services.js";
import { PASSWORD, startTestApp, type TestApp, TestBrowser } from "./helpers.js";

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 base32 (no padding needed) to bytes. */
export function base32Bytes(text: string): Buffer {
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const char of text.replace(/=+$/, "").toUpperCase()) {
    const index = BASE32.indexOf(char);
    if (index === -1) throw new Error(`not base32: ${char}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/**
 * The 6-digit TOTP code (RFC 6238: HMAC-SHA-1, 30-second steps, dynamic truncation of RFC 4226) of
 * the base32 `secret` at `nowMs`.
 *
 * @example
 * ```ts
 * totpCodeAt("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 59_000); // "287082" (RFC 6238 appendix B, 8 digits 94287082)
 * ```
 */
export function totpCodeAt(secret: string, nowMs: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(nowMs / 1000 / 30)));
  const mac = createHmac("sha1", base32Bytes(secret)).update(counter).digest();
  const offset = (mac[mac.length - 1] as number) & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 1_000_000).padStart(6, "0");
}

/**
 * A 6-digit code that is not the code of the step at `nowMs` nor of the steps next to it (which the
 * app accepts for clock drift): certainly wrong.
 *
 * @example
 * ```ts
 * await browser.post("/login/2fa", { code: wrongCodeAt(secret, clocked.now()) }); // 401
 * ```
 */
export function wrongCodeAt(secret: string, nowMs: number): string {
  const near = new Set([-30_000, 0, 30_000].map((delta) => totpCodeAt(secret, nowMs + delta)));
  for (let candidate = 0; ; candidate += 111_111) {
    const code = String(candidate % 1_000_000).padStart(6, "0");
    if (!near.has(code)) return code;
  }
}

/** The `otpauth://` URI the setup page shows as text (HTML entities decoded). */
export function otpauthUriIn(html: string): string {
  const shown = /id="otpauth-uri">([^<]+)</.exec(html)?.[1];
  if (!shown) throw new Error("no otpauth URI on the page");
  return shown.replaceAll("&amp;", "&").replaceAll("&#39;", "'").replaceAll("&quot;", '"');
}

/** The `secret` parameter of an `otpauth://totp/...` URI. */
export function secretOf(uri: string): string {
  const url = new URL(uri);
  expect(url.protocol).toBe("otpauth:");
  expect(url.host).toBe("totp");
  return url.searchParams.get("secret") ?? "";
}

/** The recovery codes a page shows, each in an element with `data-recovery-code`. */
export function recoveryCodesIn(html: string): string[] {
  return [...html.matchAll(/<code data-recovery-code>([^<]+)<\/code>/g)].map((match) => match[1] as string);
}

/** An app on `framework` whose clock the test moves, and the time it reads. */
export interface ClockedApp {
  app: TestApp;
  /** The app's time now (the login manager's clock), in milliseconds. */
  now(): number;
  /** Moves the app's clock by `ms` (forward for a positive value). */
  advance(ms: number): void;
  /** Moves the clock to the start of the next 30-second step, so the next code is a new one. */
  nextStep(): void;
}

/**
 * Starts the app on `framework` with a clock the test moves (real time plus an offset), and other
 * `overrides` merged in.
 *
 * @example
 * ```ts
 * const { app, nextStep } = await startClockedApp("hono");
 * ```
 */
export async function startClockedApp(
  framework: Framework,
  options: { overrides?: ServiceOverrides; env?: Record<string, string> } = {},
): Promise<ClockedApp> {
  let offset = 0;
  const now = () => Date.now() + offset;
  const app = await startTestApp({
    framework,
    ...(options.env ? { env: options.env } : {}),
    overrides: {
      ...options.overrides,
      manager: { ...options.overrides?.manager, clock: { now } },
    },
  });
  return {
    app,
    now,
    advance: (ms) => {
      offset += ms;
    },
    nextStep: () => {
      offset += 30_000 - (now() % 30_000);
    },
  };
}

/** What turning TOTP on leaves a test with. */
export interface Enrolled {
  secret: string;
  uri: string;
  recoveryCodes: string[];
}

/**
 * Turns TOTP on for the user logged in to `browser` through the account page, as a person does:
 * start, read the URI shown, type the current code. Moves the clock to the next step afterwards,
 * so the code just used is not the current one any more.
 *
 * @example
 * ```ts
 * const { secret, recoveryCodes } = await enrolTotp(browser, clocked);
 * ```
 */
export async function enrolTotp(browser: TestBrowser, clocked: ClockedApp): Promise<Enrolled> {
  await browser.get("/account");
  const start = await browser.post("/account/2fa/totp/start");
  expect(start.status).toBe(200);
  const uri = otpauthUriIn(start.text);
  const secret = secretOf(uri);
  const confirm = await browser.post("/account/2fa/totp/confirm", {
    code: totpCodeAt(secret, clocked.now()),
  });
  expect(confirm.status).toBe(200);
  const recoveryCodes = recoveryCodesIn(confirm.text);
  expect(recoveryCodes).toHaveLength(10);
  clocked.nextStep();
  return { secret, uri, recoveryCodes };
}

let counter = 0;

/**
 * A new user with TOTP on, logged out afterwards: their name, the enrolment, and a new browser.
 *
 * @example
 * ```ts
 * const { username, secret, browser } = await userWithTotp(clocked, "otp");
 * ```
 */
export async function userWithTotp(
  clocked: ClockedApp,
  label: string,
): Promise<Enrolled & { username: string; browser: TestBrowser }> {
  counter += 1;
  const username = `${label}${counter}`;
  const owner = new TestBrowser(clocked.app.baseUrl);
  expect((await owner.registerAndLogin(username)).status).toBe(303);
  const enrolled = await enrolTotp(owner, clocked);
  await owner.post("/logout");
  return { ...enrolled, username, browser: new TestBrowser(clocked.app.baseUrl) };
}

/** Logs in with the password only: the answer is the redirect to the second step. */
export async function passwordStep(
  browser: TestBrowser,
  username: string,
  fields: Record<string, string> = {},
): Promise<Awaited<ReturnType<TestBrowser["post"]>>> {
  await browser.get("/login");
  return browser.post("/login", { username, password: PASSWORD, ...fields });
}
