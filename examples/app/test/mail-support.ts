/**
 * The recovery tests' setting: the app on one framework sending its mail through a real SMTP server
 * on loopback, links built from a base URL that is not the address the tests connect to (so a link
 * built from the Host header would show), and a clock the tests can move forward.
 *
 * @module
 */
import type { RecoveryLimits } from "login-manager/recovery";
import { expect } from "vitest";
import type { Framework } from "../src/frameworks.js";
import { emailFor, PASSWORD, startTestApp, type TestApp, TestBrowser } from "./helpers.js";
import { type ReceivedMail, TestMailServer } from "./mail-server.js";

/** The public origin mail links are built from (`APP_BASE_URL`); the tests connect to 127.0.0.1. */
export const PUBLIC_ORIGIN = "https://accounts.example.test";
/** `MAIL_FROM` of the test apps. */
export const MAIL_FROM = "Example Accounts <accounts@example.test>";

/** An app on `framework` whose mail goes to its own SMTP server. */
export interface MailApp {
  app: TestApp;
  smtp: TestMailServer;
  /** Moves the manager's clock (token lifetimes, sessions) forward by `ms`; 0 puts it back. */
  skew(ms: number): void;
  close(): Promise<void>;
}

/**
 * Starts an SMTP server and the app on `framework` sending to it (`SMTP_URL`), with
 * `APP_BASE_URL=${PUBLIC_ORIGIN}` and `evil.example` among the allowed hosts.
 *
 * @example
 * ```ts
 * const { app, smtp } = await startMailApp("hono");
 * ```
 */
export async function startMailApp(
  framework: Framework,
  options: { limits?: RecoveryLimits; env?: Record<string, string> } = {},
): Promise<MailApp> {
  const smtp = await TestMailServer.start();
  let offset = 0;
  const app = await startTestApp({
    framework,
    env: {
      SMTP_URL: smtp.url,
      MAIL_FROM,
      APP_BASE_URL: PUBLIC_ORIGIN,
      ALLOWED_HOSTS: "127.0.0.1,evil.example",
      ...options.env,
    },
    overrides: {
      manager: { clock: { now: () => Date.now() + offset }, rememberMe: { raceGraceSeconds: 0 } },
      recoveryLimits: options.limits ?? { perAccount: 1000, perAddress: 100_000 },
    },
  });
  return {
    app,
    smtp,
    skew: (ms) => {
      offset = ms;
    },
    async close() {
      await app.close();
      await smtp.close();
    },
  };
}

/**
 * The path and query of the one link in `mail`, checked to be built from {@link PUBLIC_ORIGIN} and
 * `path`, for a request to the test app.
 *
 * @example
 * ```ts
 * const link = linkIn(mail, "/password/reset"); // "/password/reset?token=..."
 * ```
 */
export function linkIn(mail: ReceivedMail, path: string): string {
  expect(mail.links).toHaveLength(1);
  const url = new URL(mail.links[0] as string);
  expect(url.origin).toBe(PUBLIC_ORIGIN);
  expect(url.pathname).toBe(path);
  return `${url.pathname}${url.search}`;
}

/** The token of a link path (`/password/reset?token=...`). */
export function tokenOf(link: string): string {
  return new URL(link, PUBLIC_ORIGIN).searchParams.get("token") ?? "";
}

/**
 * Waits for the next mail to `to` whose subject starts with `subject`, after the `seen` mails
 * already received for that address.
 *
 * @example
 * ```ts
 * const seen = smtp.mailsTo(email).length;
 * await browser.post("/password/forgot", { email });
 * const mail = await nextMail(smtp, email, "Reset", seen);
 * ```
 */
export function nextMail(
  smtp: TestMailServer,
  to: string,
  subject: string,
  seen: number,
): Promise<ReceivedMail> {
  return smtp.waitFor((mail) => {
    const mine = smtp.mailsTo(to);
    return mine.indexOf(mail) >= seen && mail.subject.startsWith(subject);
  });
}

let counter = 0;

/**
 * Registers a new user (address from {@link emailFor}) and logs in; resolves the browser, the
 * username and the address.
 *
 * @example
 * ```ts
 * const { browser, email } = await newUser(app, "reset");
 * ```
 */
export async function newUser(
  app: TestApp,
  label: string,
  options: { remember?: boolean; userAgent?: string } = {},
): Promise<{ browser: TestBrowser; username: string; email: string }> {
  counter += 1;
  const username = `${label}${counter}`;
  const browser = new TestBrowser(app.baseUrl, options.userAgent);
  expect((await browser.registerAndLogin(username, PASSWORD, options.remember ?? false)).status).toBe(303);
  return { browser, username, email: emailFor(username) };
}
