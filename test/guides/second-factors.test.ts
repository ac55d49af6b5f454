/**
 * docs/guides/second-factors.md: its complete example is examples/guides/second-factors.ts, verbatim,
 * and every other code block of the guide is a piece of that file. The example runs here over HTTP
 * (supertest, a cookie-keeping browser, a fake clock): turning TOTP on, a password login that stops at
 * a pending login until a code completes it, recovery codes that work once, the failure budget shared
 * with the password, step-up, turning TOTP off with a notice, and passkeys (registered, then signing in
 * alone or as the second step) with the tests' software authenticator. TOTP codes come from an
 * authenticator written here from RFC 6238, not from the library.
 */
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { MemoryStore } from "login-manager/stores/memory";
import { beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../../examples/guides/second-factors.js";
import { Browser, type BrowserResponse, expressClient } from "../adapters/harness.js";
import { fencedBlocks, fencedFileBlock } from "../helpers/markdown.js";
import { SoftwareAuthenticator } from "../helpers/webauthn-authenticator.js";

const GUIDE = "docs/guides/second-factors.md";
const EXAMPLE = "examples/guides/second-factors.ts";
const SECRET = "second-factors-guide-secret-0123456789ab";
const ORIGIN = "http://localhost:3000";
const EMAIL = "ada@example.com";
const PASSWORD = "correct horse battery staple";

/** RFC 4648 base32 to bytes. */
function base32Bytes(text: string): Buffer {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const char of text.toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(char);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 6238 (HMAC-SHA-1, 30 s, 6 digits) of the base32 `secret` at `nowMs`. */
function totp(secret: string, nowMs: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(nowMs / 30_000)));
  const mac = createHmac("sha1", base32Bytes(secret)).update(counter).digest();
  const offset = (mac.at(-1) ?? 0) & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

/** A clock the test moves by hand, starting at a step boundary. */
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

let clock: FakeClock;
let store: MemoryStore;
let notices: [string, string][];
let browser: () => Browser;

beforeEach(async () => {
  clock = new FakeClock();
  store = new MemoryStore();
  notices = [];
  const notify = async (email: string, text: string) => {
    notices.push([email, text]);
  };
  const client = expressClient(await createApp({ secret: SECRET, origin: ORIGIN, store, clock, notify }));
  browser = () => new Browser(client);
});

/** Posts `form` to `path` with the CSRF token of the page at `from`. */
async function submit(who: Browser, from: string, path: string, form: Record<string, string> = {}) {
  const _csrf = csrfOf(await who.get(from));
  return who.post(path, { form: { ...form, _csrf } });
}

const logIn = (who: Browser, password = PASSWORD, remember = false) =>
  submit(who, "/login", "/login", { email: EMAIL, password, ...(remember ? { remember: "1" } : {}) });

/** Turns TOTP on for ada in a browser of its own; the secret and the recovery codes shown. */
async function enrolTotp(): Promise<{ secret: string; codes: string[] }> {
  const owner = browser();
  expect((await logIn(owner)).headers.location).toBe("/account");
  const setup = await submit(owner, "/account", "/account/2fa/totp/start");
  const secret = /data-totp-secret>([A-Z2-7]+)</.exec(setup.text)?.[1] ?? "";
  const _csrf = csrfOf(setup);
  const done = await owner.post("/account/2fa/totp/confirm", {
    form: { code: totp(secret, clock.now()), _csrf },
  });
  const codes = [...done.text.matchAll(/<li data-recovery-code>([^<]+)</g)].map((match) => match[1] ?? "");
  clock.advance(30); // the confirming code's step is used: the next login needs the next step's code
  return { secret, codes };
}

/** The trimmed, non-empty lines of `text`. */
const linesOf = (text: string) =>
  text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);

describe(GUIDE, () => {
  it(`shows ${EXAMPLE} verbatim`, () => {
    const block = fencedFileBlock(new URL(`../../${GUIDE}`, import.meta.url), EXAMPLE);
    expect(block).toBe(readFileSync(EXAMPLE, "utf8"));
  });

  it(`takes every other TypeScript block from ${EXAMPLE}, lines in order`, () => {
    const example = linesOf(readFileSync(EXAMPLE, "utf8")).join("\n");
    const markdown = readFileSync(GUIDE, "utf8");
    const pieces = fencedBlocks(markdown.slice(0, markdown.indexOf("## Complete example")));
    const snippets = pieces.filter((block) => block.info === "ts");
    expect(snippets.length).toBeGreaterThan(5);
    for (const snippet of snippets) expect(example).toContain(linesOf(snippet.body).join("\n"));
  });

  it("our authenticator gives RFC 6238's SHA-1 vectors (last 6 digits)", () => {
    const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    expect([59_000, 1_111_111_109_000, 20_000_000_000_000].map((t) => totp(secret, t))).toEqual([
      "287082",
      "081804",
      "353130",
    ]);
  });

  it("turns TOTP on: a QR code drawn on the server, the key and URI as text, a first code, ten recovery codes", async () => {
    const owner = browser();
    await logIn(owner);
    expect((await owner.get("/account")).text).toContain("Authenticator app: off. Recovery codes left: 0.");
    const setup = await submit(owner, "/account", "/account/2fa/totp/start");
    expect(setup.text).toMatch(/<img src="data:image\/png;base64,[A-Za-z0-9+/=]+"/);
    const secret = /data-totp-secret>([A-Z2-7]{32})</.exec(setup.text)?.[1] ?? "";
    expect(setup.text).toContain(`otpauth://totp/Example:ada%40example.com?secret=${secret}`);
    const _csrf = csrfOf(setup);
    const wrong = String((Number(totp(secret, clock.now())) + 1) % 1_000_000).padStart(6, "0");
    const refused = await owner.post("/account/2fa/totp/confirm", { form: { code: wrong, _csrf } });
    expect([refused.status, refused.text]).toEqual([400, "Wrong code: try again."]);
    const done = await owner.post("/account/2fa/totp/confirm", {
      form: { code: totp(secret, clock.now()), _csrf },
    });
    const codes = [...done.text.matchAll(/<li data-recovery-code>([^<]+)</g)].map((match) => match[1]);
    expect(codes).toHaveLength(10);
    for (const code of codes) expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{6}(-[0-9a-hjkmnp-tv-z]{6}){3}$/);
    expect((await owner.get("/account")).text).toContain("Authenticator app: on. Recovery codes left: 10.");
    expect(
      await submit(owner, "/account", "/account/2fa/totp/confirm", { code: totp(secret, clock.now()) }),
    ).toMatchObject({ status: 400, text: "The setup expired: start again." }); // used once
  });

  it("stops a right password at a pending login, anonymous until a code completes it", async () => {
    const { secret } = await enrolTotp();
    const person = browser();
    const password = await logIn(person, PASSWORD, true);
    expect([password.status, password.headers.location]).toEqual([303, "/login/2fa"]);
    expect(person.jar.has("session")).toBe(false);
    expect((await person.get("/account")).status).toBe(302); // loginRequired: still a visitor
    const form = await person.get("/login/2fa");
    expect(form.text).toContain('name="code"');
    expect(form.text).not.toContain('id="passkey"'); // ada has no passkey
    const done = await submit(person, "/login/2fa", "/login/2fa", { code: totp(secret, clock.now()) });
    expect([done.status, done.headers.location]).toEqual([303, "/account"]);
    expect(person.jar.has("remember_token")).toBe(true); // remember-me as chosen at the password step
    expect((await person.get("/account")).text).toContain(`Signed in as ${EMAIL}`);

    const replay = browser(); // the same code in another login: its time step is used
    await logIn(replay);
    expect(
      (await submit(replay, "/login/2fa", "/login/2fa", { code: totp(secret, clock.now()) })).status,
    ).toBe(401);
    clock.advance(30);
    expect(
      (await submit(replay, "/login/2fa", "/login/2fa", { code: totp(secret, clock.now()) })).status,
    ).toBe(303);
  });

  it("accepts each recovery code once", async () => {
    const { codes } = await enrolTotp();
    const code = codes[0] ?? "";
    const first = browser();
    await logIn(first);
    const used = await submit(first, "/login/2fa", "/login/2fa", { recovery_code: code.toUpperCase() });
    expect([used.status, used.headers.location]).toEqual([303, "/account"]);
    expect((await first.get("/account")).text).toContain("Recovery codes left: 9.");
    const second = browser();
    await logIn(second);
    const again = await submit(second, "/login/2fa", "/login/2fa", { recovery_code: code });
    expect(again.status).toBe(401);
    expect(again.text).toContain("That code is not right.");
    expect((await second.get("/account")).status).toBe(302);
  });

  it("counts wrong codes in the password's budget: the fifth failure locks with 429 and Retry-After", async () => {
    const { secret } = await enrolTotp();
    const person = browser();
    await logIn(person); // charged, and the charge stays until the second step succeeds
    const wrong = String((Number(totp(secret, clock.now())) + 500_000) % 1_000_000).padStart(6, "0");
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await submit(person, "/login/2fa", "/login/2fa", { code: wrong })).status);
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
    const locked = await submit(person, "/login/2fa", "/login/2fa", { code: totp(secret, clock.now()) });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers["retry-after"])).toBeGreaterThan(0);
    expect((await logIn(browser())).status).toBe(429); // the password too: one budget
  });

  it("sends the second step back to /login once the pending login's five minutes are over", async () => {
    const { secret } = await enrolTotp();
    const person = browser();
    await logIn(person);
    const _csrf = csrfOf(await person.get("/login/2fa"));
    clock.advance(301);
    const late = await person.post("/login/2fa", { form: { code: totp(secret, clock.now()), _csrf } });
    expect([late.status, late.headers.location]).toEqual([303, "/login"]);
    expect((await person.get("/login")).text).toContain("Your sign-in expired. Log in again.");
  });

  it("steps up: /account/export needs a second factor proven in the last five minutes", async () => {
    const before = browser(); // no factor yet: sent to set one up
    await logIn(before);
    expect((await before.get("/account/export")).headers.location).toBe("/account");
    const { secret } = await enrolTotp();
    const person = browser();
    await logIn(person);
    await submit(person, "/login/2fa", "/login/2fa", { code: totp(secret, clock.now()) });
    expect((await person.get("/account/export")).status).toBe(200);
    clock.advance(301);
    const stale = await person.get("/account/export");
    expect([stale.status, stale.headers.location]).toEqual([302, "/reauth?next=%2Faccount%2Fexport"]);
    const reauth = await submit(person, stale.headers.location ?? "", stale.headers.location ?? "", {
      password: PASSWORD,
      code: totp(secret, clock.now()),
    });
    expect([reauth.status, reauth.headers.location]).toEqual([303, "/account/export"]);
    expect((await person.get("/account/export")).text).toBe(`Everything we keep about ${EMAIL}.`);
  });

  it("at /reauth takes a recovery code and records it as one (rc), once", async () => {
    const { secret, codes } = await enrolTotp();
    const person = browser();
    await logIn(person);
    await submit(person, "/login/2fa", "/login/2fa", { code: totp(secret, clock.now()) });
    clock.advance(301);
    const reauth = "/reauth?next=%2Faccount%2Fexport";
    expect((await person.get("/account/export")).headers.location).toBe(reauth);
    const form = { password: PASSWORD, code: codes[0] ?? "" };
    const done = await submit(person, reauth, reauth, form);
    expect([done.status, done.headers.location]).toEqual([303, "/account/export"]);
    expect((await person.get("/account/export")).status).toBe(200);
    const [session] = (await store.listUserSessions("1", clock.now())).filter((record) =>
      record.authMethods.includes("otp:"),
    );
    expect(session?.authMethods).toContain(`rc:${clock.now()}`); // the code's kind, not "otp"
    expect(session?.authMethods).not.toContain(`otp:${clock.now()}`);
    clock.advance(301);
    expect((await submit(person, reauth, reauth, form)).status).toBe(401); // used up
  });

  it("turns TOTP off only with a right code, and tells the user", async () => {
    const { secret } = await enrolTotp();
    const person = browser();
    await logIn(person);
    await submit(person, "/login/2fa", "/login/2fa", { code: totp(secret, clock.now()) });
    clock.advance(30);
    const wrong = await submit(person, "/account", "/account/2fa/totp/disable", { code: "000000" });
    expect(wrong.status).toBe(401);
    expect(notices).toEqual([]);
    const off = await submit(person, "/account", "/account/2fa/totp/disable", {
      code: totp(secret, clock.now()),
    });
    expect([off.status, off.headers.location]).toEqual([303, "/account"]);
    expect(notices).toEqual([[EMAIL, "Two-step verification was turned off for your account."]]);
    expect((await person.get("/account")).text).toContain("Authenticator app: off. Recovery codes left: 0.");
    expect((await logIn(browser())).headers.location).toBe("/account"); // the password alone again
  });

  describe("passkeys", () => {
    type Options = { challenge: string; [name: string]: unknown };
    /** POSTs JSON as the page script does: the CSRF token of the page at `from` in X-CSRF-Token. */
    async function postJson(who: Browser, from: string, path: string, json: unknown) {
      const csrf = csrfOf(await who.get(from));
      return who.post(path, { json, headers: { "x-csrf-token": csrf, accept: "application/json" } });
    }

    /** Registers a passkey for ada (password login in a browser of its own); its options as sent. */
    async function register(authenticator: SoftwareAuthenticator): Promise<Options> {
      const owner = browser();
      await logIn(owner);
      const options = (await postJson(owner, "/account", "/passkeys/register/options", {})).json() as Options;
      const credential = authenticator.create(options as never);
      const done = await postJson(owner, "/account", "/passkeys/register", { credential, label: "Laptop" });
      expect(done.json()).toEqual({ ok: true });
      expect((await owner.get("/account")).text).toContain("Laptop");
      return options;
    }

    it("registers a discoverable passkey with user verification, under a random user handle", async () => {
      const options = await register(new SoftwareAuthenticator(ORIGIN));
      expect(Buffer.from(options.challenge, "base64url")).toHaveLength(32);
      expect(options).toMatchObject({
        rp: { id: "localhost", name: "Example" },
        authenticatorSelection: { residentKey: "required", userVerification: "required" },
      });
      const handle = Buffer.from((options.user as { id: string }).id, "base64url");
      expect(handle).toHaveLength(32); // random bytes, never the app's user id ("1")
    });

    it("signs in with the passkey alone (usernameless, both factors), each challenge once and in its browser", async () => {
      const authenticator = new SoftwareAuthenticator(ORIGIN);
      await register(authenticator);
      const person = browser();
      const options = (await postJson(person, "/login", "/passkeys/login/options", {})).json() as Options;
      expect(options).toMatchObject({ allowCredentials: [], userVerification: "required" });
      const credential = authenticator.get(options as never);
      const elsewhere = await postJson(browser(), "/login", "/passkeys/login", { credential });
      expect([elsewhere.status, elsewhere.json()]).toEqual([401, { error: "challenge" }]);
      const other = (await postJson(person, "/login", "/passkeys/login/options", {})).json() as Options;
      const signedIn = await postJson(person, "/login", "/passkeys/login", {
        credential: authenticator.get(other as never),
        next: "/account/export",
        remember: true, // the login form's box, sent by the page script
      });
      expect(signedIn.json()).toEqual({ ok: true, redirect: "/account/export" });
      expect(person.jar.has("remember_token")).toBe(true);
      expect((await person.get("/account/export")).status).toBe(200); // the passkey proved a second factor
      const replay = await postJson(browser(), "/login", "/passkeys/login", { credential });
      expect(replay.json()).toEqual({ error: "challenge" });
    });

    it("holds a passkey user's password login until the passkey completes it", async () => {
      const authenticator = new SoftwareAuthenticator(ORIGIN);
      await register(authenticator);
      const person = browser();
      expect((await logIn(person)).headers.location).toBe("/login/2fa");
      const page = await person.get("/login/2fa");
      expect([page.text.includes('id="passkey"'), page.text.includes('name="code"')]).toEqual([true, false]);
      const options = (await postJson(person, "/login/2fa", "/passkeys/login/options", {})).json() as Options;
      expect((options.allowCredentials as unknown[]).length).toBe(1);
      const credential = authenticator.get(options as never);
      const done = await postJson(person, "/login/2fa", "/passkeys/login", { credential });
      expect(done.json()).toEqual({ ok: true, redirect: "/account" });
      expect((await person.get("/account")).text).toContain(`Signed in as ${EMAIL}`);
    });

    it("at /reauth takes only the user's own passkeys: another is refused, and the login is confirmed, never switched", async () => {
      const authenticator = new SoftwareAuthenticator(ORIGIN);
      await register(authenticator);
      const person = browser();
      await logIn(person); // then the passkey as the second step
      const second = (await postJson(person, "/login/2fa", "/passkeys/login/options", {})).json() as Options;
      await postJson(person, "/login/2fa", "/passkeys/login", {
        credential: authenticator.get(second as never),
      });
      clock.advance(301);
      expect((await person.get("/account/export")).status).toBe(302); // step-up asks again
      const options = (await postJson(person, "/account", "/passkeys/login/options", {})).json() as Options;
      expect(options).toMatchObject({ userVerification: "required" });
      expect((options.allowCredentials as unknown[]).length).toBe(1); // the user's own passkey
      const credential = authenticator.get(options as never);
      const someoneElse = { ...credential, id: "c29tZW9uZS1lbHNl", rawId: "c29tZW9uZS1lbHNl" };
      const refused = await postJson(person, "/account", "/passkeys/login", { credential: someoneElse });
      expect([refused.status, refused.json()]).toEqual([401, { error: "unknown-credential" }]);
      expect((await person.get("/account")).text).toContain(`Signed in as ${EMAIL}`);
      const before = person.jar.get("session");
      const again = (await postJson(person, "/account", "/passkeys/login/options", {})).json() as Options;
      const own = await postJson(person, "/account", "/passkeys/login", {
        credential: authenticator.get(again as never),
        next: "/account/export",
      });
      expect(own.json()).toEqual({ ok: true, redirect: "/account/export" });
      expect(person.jar.get("session")).not.toBe(before); // confirmed under a new session id
      expect((await person.get("/account/export")).status).toBe(200);
    });
  });
});
