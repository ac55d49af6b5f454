/**
 * docs/guides/account-recovery.md: its complete example is examples/guides/recovery.ts, verbatim, and
 * runs here against a real SMTP server on loopback (smtp-server), whose mails are parsed with
 * mailparser: password reset, its rules (same answer either way, limits, single use, expiry, sessions
 * ended) and e-mail verification.
 */
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApp, type RecoveryApp } from "../../examples/guides/recovery.js";
import { Browser, type BrowserResponse, expressClient } from "../adapters/harness.js";
import { fencedFileBlock } from "../helpers/markdown.js";

const GUIDE = "docs/guides/account-recovery.md";
const EXAMPLE = "examples/guides/recovery.ts";
const SECRET = "recovery-guide-secret-0123456789abcdefgh";
/** Not the Host the test browser sends (localhost): links must come from configuration. */
const BASE_URL = "https://app.example.test";
const OLD_PASSWORD = "correct horse battery staple";
const NEW_PASSWORD = "a brand new passphrase for ada";
const NOT_FOUND_TEXT = "This link has expired or was already used. Ask for a new one.";

/** A mail as the SMTP server received it. */
interface Mail {
  /** The envelope's recipients. */
  to: string[];
  subject: string;
  text: string;
  /** The first https link of the text. */
  link: string | undefined;
}

/** A real SMTP server on 127.0.0.1 (no TLS, no AUTH) that keeps every mail it accepts. */
async function startMailbox(): Promise<{ url: string; mails: Mail[]; close(): Promise<void> }> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream).then(
        (parsed) => {
          const text = parsed.text ?? "";
          mails.push({
            to: session.envelope.rcptTo.map((recipient) => recipient.address),
            subject: parsed.subject ?? "",
            text,
            link: /https:\/\/\S+/.exec(text)?.[0],
          });
          callback();
        },
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A clock the test moves by hand. */
class FakeClock {
  t = Date.UTC(2026, 0, 1, 12);
  readonly now = (): number => this.t;
  advance(seconds: number): void {
    this.t += seconds * 1000;
  }
}

function csrfOf(page: BrowserResponse): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(page.text);
  if (!match?.[1]) throw new Error(`no CSRF field in: ${page.text}`);
  return match[1];
}

/** The path and query of a mailed link, after checking that it starts with the configured base URL. */
function pathOf(link: string | undefined, path: string): string {
  expect(link?.startsWith(`${BASE_URL}${path}?token=`)).toBe(true);
  return (link ?? "").slice(BASE_URL.length);
}

let mailbox: Awaited<ReturnType<typeof startMailbox>>;
let clock: FakeClock;
let built: RecoveryApp;
let browser: () => Browser;

beforeEach(async () => {
  mailbox = await startMailbox();
  clock = new FakeClock();
  built = await createApp({ secret: SECRET, baseUrl: BASE_URL, smtpUrl: mailbox.url, clock });
  const client = expressClient(built.app);
  browser = () => new Browser(client);
});

afterEach(async () => {
  await built.mailsSettled();
  await mailbox.close();
});

async function logIn(who: Browser, password: string, remember = false): Promise<BrowserResponse> {
  const _csrf = csrfOf(await who.get("/login"));
  const form = { email: "ada@example.com", password, _csrf, ...(remember ? { remember: "1" } : {}) };
  return who.post("/login", { form });
}

async function askForReset(who: Browser, email: string): Promise<BrowserResponse> {
  const _csrf = csrfOf(await who.get("/password/forgot"));
  return who.post("/password/forgot", { form: { email, _csrf } });
}

async function setPassword(who: Browser, linkPath: string, password: string): Promise<BrowserResponse> {
  const page = await who.get(linkPath);
  const token = new URL(linkPath, BASE_URL).searchParams.get("token") ?? "";
  const _csrf = page.status === 200 ? csrfOf(page) : csrfOf(await who.get("/password/forgot"));
  return who.post("/password/reset", { form: { token, password, _csrf } });
}

/** Requests a link for ada and returns the path of the one mailed. */
async function resetLinkForAda(who: Browser): Promise<string> {
  expect((await askForReset(who, "ada@example.com")).status).toBe(200);
  await built.mailsSettled();
  return pathOf(mailbox.mails.at(-1)?.link, "/password/reset");
}

describe(GUIDE, () => {
  it(`shows ${EXAMPLE} verbatim`, () => {
    const block = fencedFileBlock(new URL(`../../${GUIDE}`, import.meta.url), EXAMPLE);
    expect(block).toBe(readFileSync(EXAMPLE, "utf8"));
  });

  it("answers a reset request the same for an unknown address, and mails only the account's owner", async () => {
    const anonymous = browser();
    const known = await askForReset(anonymous, "ada@example.com");
    const unknown = await askForReset(anonymous, "nobody@example.com");
    expect(known.status).toBe(200);
    expect([unknown.status, unknown.text, unknown.headers["content-type"]]).toEqual([
      known.status,
      known.text,
      known.headers["content-type"],
    ]);
    await built.mailsSettled();
    expect(mailbox.mails.map((mail) => [mail.to, mail.subject])).toEqual([
      [["ada@example.com"], "Reset your password"],
    ]);
    const link = mailbox.mails[0]?.link;
    expect(link).toMatch(/^https:\/\/app\.example\.test\/password\/reset\?token=[\w-]{22}\.[\w-]{22}$/);
  });

  it("resets the password once from the mailed link and logs every browser out", async () => {
    const other = browser();
    expect((await logIn(other, OLD_PASSWORD, true)).headers.location).toBe("/account");
    expect((await other.get("/account")).status).toBe(200);

    const person = browser();
    const linkPath = await resetLinkForAda(person);
    for (let i = 0; i < 2; i++) {
      const form = await person.get(linkPath); // a mail scanner, then the person: nothing used up
      expect(form.status).toBe(200);
      expect(form.headers["referrer-policy"]).toBe("no-referrer");
      expect(form.headers["cache-control"]).toBe("no-store");
      expect(form.text).toContain('name="password" type="password" autocomplete="new-password"');
    }

    const short = await setPassword(person, linkPath, "too short");
    expect(short.status).toBe(400);
    expect(short.text).toContain("Use at least 15 characters.");
    expect((await person.get(linkPath)).status).toBe(200); // a refused password does not cost the link

    const done = await setPassword(person, linkPath, NEW_PASSWORD);
    expect([done.status, done.headers.location]).toEqual([303, "/login"]);
    expect((await person.get("/login")).text).toContain(
      "Your password was changed. Log in with the new one.",
    );
    expect(mailbox.mails.at(-1)).toMatchObject({
      to: ["ada@example.com"],
      subject: "Your password was changed",
    });
    expect(mailbox.mails.at(-1)?.text).not.toContain(NEW_PASSWORD);

    const again = await setPassword(person, linkPath, "yet another passphrase here");
    expect([again.status, again.text]).toEqual([400, NOT_FOUND_TEXT]);
    expect((await person.get(linkPath)).status).toBe(400);

    // The other browser's session and its remember-me cookie were ended.
    expect(other.jar.has("remember_token")).toBe(true);
    expect((await other.get("/account")).status).toBe(302);

    const stale = browser();
    expect((await logIn(stale, OLD_PASSWORD)).status).toBe(401);
    expect((await logIn(stale, "yet another passphrase here")).status).toBe(401);
    const fresh = await logIn(stale, NEW_PASSWORD);
    expect([fresh.status, fresh.headers.location]).toEqual([303, "/account"]);
  });

  it("refuses a link once it has expired (30 minutes), and one a newer request replaced", async () => {
    const person = browser();
    const first = await resetLinkForAda(person);
    const linkPath = await resetLinkForAda(person);
    expect(linkPath).not.toBe(first);
    expect((await person.get(first)).status).toBe(400);

    clock.advance(1799);
    expect((await person.get(linkPath)).status).toBe(200);
    clock.advance(1);
    const expired = await person.get(linkPath);
    expect([expired.status, expired.text]).toEqual([400, NOT_FOUND_TEXT]);
    expect(expired.headers["referrer-policy"]).toBe("no-referrer");
    expect((await setPassword(person, linkPath, NEW_PASSWORD)).status).toBe(400);
    expect((await logIn(person, OLD_PASSWORD)).status).toBe(303);
  });

  it("limits requests per address typed with 429 and Retry-After, the same for an unknown address", async () => {
    const person = browser();
    for (const email of ["ada@example.com", "nobody@example.com"]) {
      const answers: (string | number | undefined)[][] = [];
      for (let i = 0; i < 4; i++) {
        const res = await askForReset(person, email);
        answers.push([res.status, res.headers["retry-after"]]);
      }
      expect(answers).toEqual([
        [200, undefined],
        [200, undefined],
        [200, undefined],
        [429, "3600"],
      ]);
    }
    await built.mailsSettled();
    expect(mailbox.mails.map((mail) => mail.to.join())).toEqual(Array(3).fill("ada@example.com"));
  });

  it("confirms an e-mail address once, from a link opened in any browser", async () => {
    const owner = browser();
    await logIn(owner, OLD_PASSWORD);
    const account = await owner.get("/account");
    expect(account.text).toContain("Signed in as ada@example.com (not confirmed)");
    const sent = await owner.post("/email/verify/send", { form: { _csrf: csrfOf(account) } });
    expect([sent.status, sent.headers.location]).toEqual([303, "/account"]);
    expect((await owner.get("/account")).text).toContain(
      "A confirmation link is on its way to ada@example.com.",
    );
    await built.mailsSettled();
    expect(mailbox.mails.map((mail) => [mail.to, mail.subject])).toEqual([
      [["ada@example.com"], "Confirm your e-mail address"],
    ]);
    const linkPath = pathOf(mailbox.mails[0]?.link, "/email/verify");

    const phone = browser();
    for (let i = 0; i < 2; i++) {
      const page = await phone.get(linkPath);
      expect(page.status).toBe(200);
      expect(page.headers["referrer-policy"]).toBe("no-referrer");
      expect(page.text).toContain("<p>Confirm ada@example.com?</p>");
    }
    const token = new URL(linkPath, BASE_URL).searchParams.get("token") ?? "";
    const _csrf = csrfOf(await phone.get(linkPath));
    const confirmed = await phone.post("/email/verify", { form: { token, _csrf } });
    expect([confirmed.status, confirmed.text]).toEqual([200, "ada@example.com is confirmed."]);
    const again = await phone.post("/email/verify", { form: { token, _csrf } });
    expect([again.status, again.text]).toEqual([400, NOT_FOUND_TEXT]);
    expect((await owner.get("/account")).text).toContain("Signed in as ada@example.com (confirmed)");
  });
});
