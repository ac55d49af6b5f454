/**
 * Cookie tossing (issue 16.8): a Cookie header that gives `session` or `remember_token` more than one
 * value. What each value costs (store lookups, counted through the store probe), which one wins, and
 * when the response may delete the cookie. The same behaviours over HTTP on all three frameworks:
 * test/adapters/cookie-tossing.test.ts.
 */
import type { RequestView } from "login-manager";
import { LoginManager, UserMixin } from "login-manager";
import type { ResponseView } from "login-manager/adapter";
import { isPromiseLike } from "login-manager/adapter";
import { MemoryStore } from "login-manager/stores/memory";
import { createLoginCookie, fakeRequest } from "login-manager/testing";
import type request from "supertest";
import { afterEach, describe, expect, it } from "vitest";
import { clearsCookie, Harness, setCookie } from "./helpers.js";

let harness: Harness;

afterEach(async () => {
  await harness?.close();
});

const JUNK = "junk.junk";
/** A token-shaped value no store issued; `i` makes distinct ones. */
const shaped = (i = 0) => `${String(i).padStart(22, "A")}.${"B".repeat(22)}`;

/** GET /whoami with exactly this Cookie header. */
function sendCookies(cookie: string): Promise<request.Response> {
  return harness.browser().get("/whoami", { cookie });
}

async function sessionOf(id: number): Promise<string> {
  const browser = harness.browser();
  await browser.login(id);
  return browser.cookies.get("session") as string;
}

describe("what tossed values cost", () => {
  it("one valid session cookie costs one lookup, as before", async () => {
    harness = new Harness();
    const session = await sessionOf(1);
    harness.probe.reset();
    expect((await sendCookies(`session=${session}`)).body).toMatchObject({ name: "Notch" });
    expect(harness.probe.count("getSession")).toBe(1);
  });

  it("values that cannot be ours cost no lookup, however many, and do not hide the real one", async () => {
    harness = new Harness();
    const session = await sessionOf(1);
    harness.probe.reset();
    const junk = Array.from({ length: 100 }, (_, i) => `session=junk${i}`).join("; ");
    const res = await sendCookies(`${junk}; session=${session}`);
    expect(res.body).toMatchObject({ name: "Notch" });
    expect(harness.probe.count("getSession")).toBe(1);
    expect(setCookie(res, "session")).toBeUndefined();
  });

  it("the same value repeated is looked up once", async () => {
    harness = new Harness();
    harness.probe.reset();
    const res = await sendCookies(Array(12).fill(`session=${shaped()}`).join("; "));
    expect(res.body).toMatchObject({ anonymous: true });
    expect(harness.probe.count("getSession")).toBe(1);
    // It was shaped as ours, looked up and found dead, and nothing else was left untried.
    expect(clearsCookie(res, "session")).toBe(true);
  });

  it("at most three values are looked up: a fourth, even the real one, is left alone, and nothing is deleted", async () => {
    harness = new Harness();
    const session = await sessionOf(1);
    harness.probe.reset();
    const res = await sendCookies(
      `session=${shaped(1)}; session=${shaped(2)}; session=${shaped(3)}; session=${session}`,
    );
    expect(res.body).toMatchObject({ anonymous: true });
    expect(harness.probe.count("getSession")).toBe(3);
    expect(setCookie(res, "session")).toBeUndefined();
    // Two tossed values fewer, and the real one is within reach.
    const within = await sendCookies(`session=${shaped(1)}; session=${shaped(2)}; session=${session}`);
    expect(within.body).toMatchObject({ name: "Notch" });
  });

  it("the remember cookie is bounded the same way: three rotations tried at most", async () => {
    harness = new Harness();
    harness.probe.reset();
    const tossed = Array.from({ length: 20 }, (_, i) => `remember_token=${shaped(i)}`).join("; ");
    const res = await sendCookies(tossed);
    expect(res.body).toMatchObject({ anonymous: true });
    // A restore looks the token up (getRememberToken), then swaps its validator; unknown tokens stop at the lookup.
    expect(harness.probe.count("getRememberToken")).toBe(3);
    expect(harness.probe.count("swapRememberValidator")).toBe(0);
    expect(setCookie(res, "remember_token")).toBeUndefined();
  });
});

describe("which value wins", () => {
  it("a session whose user no longer loads is ended and skipped: the next value logs in, nothing is deleted", async () => {
    harness = new Harness();
    const steve = await sessionOf(2);
    const notch = await sessionOf(1);
    harness.users.delete("2");
    const res = await sendCookies(`session=${steve}; session=${notch}`);
    expect(res.body).toMatchObject({ name: "Notch", source: "session" });
    expect(setCookie(res, "session")).toBeUndefined();
    expect(await harness.session(steve)).toBeNull();
  });

  it("a tossed junk session does not stop the remember cookie from restoring the user", async () => {
    harness = new Harness();
    const browser = harness.browser();
    await browser.login(1, { remember: true });
    const remember = browser.cookies.get("remember_token") as string;
    const res = await sendCookies(`session=${JUNK}; remember_token=${JUNK}; remember_token=${remember}`);
    expect(res.body).toMatchObject({ name: "Notch", source: "remember" });
    expect(setCookie(res, "session")?.value).toMatch(/^[\w-]{22}\.[\w-]{22}$/);
    expect(setCookie(res, "remember_token")?.value).toMatch(/^[\w-]{22}\.[\w-]{22}$/);
  });

  it("a dead session of ours next to junk is deleted, and the remember cookie restores the user", async () => {
    harness = new Harness();
    const browser = harness.browser();
    await browser.login(1, { remember: true });
    const dead = browser.cookies.get("session") as string;
    const remember = browser.cookies.get("remember_token") as string;
    harness.clock.advance(harness.manager.options.session.idleTimeoutSeconds + 1);
    const res = await sendCookies(`session=${JUNK}; session=${dead}; remember_token=${remember}`);
    expect(res.body).toMatchObject({ name: "Notch", source: "remember" });
    // Deleted, then replaced by the restored session in the same response.
    expect(setCookie(res, "session")?.value).toMatch(/^[\w-]{22}\.[\w-]{22}$/);
  });
});

describe("the per-request path stays synchronous", () => {
  class User extends UserMixin {
    constructor(readonly id: string) {
      super();
    }
  }
  const alice = new User("1");
  const silent: ResponseView = { setCookie: () => undefined, setHeader: () => undefined };
  const requestWith = (cookie: string): RequestView =>
    fakeRequest({
      url: "/",
      headers: { host: "localhost", "user-agent": "UA", cookie },
      remoteAddress: "127.0.0.1",
    });

  it("with a synchronous store, junk before the real cookie is still answered without a promise", async () => {
    const store = new MemoryStore();
    const manager = new LoginManager<User>({
      secret: "cookie-tossing-test-secret-0123456789abcdef",
      store,
      userLoader: (id) => (id === "1" ? alice : null),
    });
    const cookie = await createLoginCookie(manager, alice, { userAgent: "UA", remoteAddress: "127.0.0.1" });
    for (const header of [cookie, `session=${JUNK}; ${cookie}`, `session=${shaped()}; ${cookie}`]) {
      const identified = manager.identify(requestWith(header), silent);
      expect(isPromiseLike(identified)).toBe(false);
      expect(isPromiseLike(identified) ? null : identified.user.getId()).toBe("1");
    }
    await store.close();
  });
});
