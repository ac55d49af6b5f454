// Enumeration by timing, tested deterministically: instead of a stopwatch, count argon2 invocations
// through the hasher's onHashWork hook (Django's CountingMD5PasswordHasher / test_authentication_timing).
import express from "express";
import { LoginManager, PasswordInputError, UserMixin } from "login-manager";
import { initApp } from "login-manager/express";
import type { HashWorkKind } from "login-manager/password";
import { createPasswordHasher } from "login-manager/password";
import { MemoryStore } from "login-manager/stores/memory";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Served } from "./support.js";
import { Browser, SECRET, serve } from "./support.js";

class User extends UserMixin {
  constructor(
    readonly id: string,
    readonly passwordHash: string,
    readonly active = true,
  ) {
    super();
  }

  override get isActive(): boolean {
    return this.active;
  }
}

const PASSWORD = "correct horse battery staple";
const work: HashWorkKind[] = [];
const hasher = createPasswordHasher({ onHashWork: (kind) => work.push(kind) });
const users = new Map<string, User>();

/** The README tutorial's login route, plus the mapping of PasswordInputError to the generic answer. */
function createLoginApp(maxAccountFailures: number) {
  const manager = new LoginManager<User>({
    secret: SECRET,
    store: new MemoryStore(),
    userLoader: (id) => users.get(id) ?? null,
    throttle: { maxAccountFailures },
  });
  const app = express();
  initApp(app, manager);
  app.get("/csrf", (req, res) => {
    res.json({ csrf: req.auth.csrfToken() });
  });
  app.post("/login", async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const email = String(body.email ?? "");
    const password = String(body.password ?? "");
    let outcome: "ok" | "invalid" | "locked" | "second-factor";
    try {
      const result = await req.auth.attemptLogin({
        account: email,
        verify: async () => {
          const user = users.get(email);
          if (!user) return hasher.verifyDummy(password).then(() => null); // same work for unknown users
          return (await hasher.verify(user.passwordHash, password)) ? user : null;
        },
      });
      outcome = result.ok ? "ok" : result.reason;
    } catch (error) {
      if (!(error instanceof PasswordInputError)) throw error;
      outcome = "invalid"; // too long or not text: rejected before hashing, answered like a wrong password
    }
    if (outcome === "ok") res.redirect(303, "/");
    else if (outcome === "locked") res.status(429).send("Too many attempts");
    else res.status(401).send("Bad login");
  });
  return app;
}

describe("equal hashing work for every failed login [CS-Authentication] [Django #20760] [A5 6.3.8] [checklist D.27-D.28]", () => {
  let served: Served;

  beforeAll(async () => {
    users.set("alice@example.com", new User("alice@example.com", await hasher.hash(PASSWORD)));
    users.set("carol@example.com", new User("carol@example.com", await hasher.hash(PASSWORD), false));
    users.set("mallory@example.com", new User("mallory@example.com", "not-an-argon2-hash"));
    served = await serve(createLoginApp(100));
  });
  afterAll(async () => served.close());
  beforeEach(() => {
    work.length = 0;
  });

  async function login(email: string, password: string) {
    const browser = new Browser(served.url);
    await browser.csrf();
    work.length = 0;
    const response = await browser.post("/login", { email, password });
    return { response, work: [...work] };
  }

  it.each([
    ["an unknown user", "nobody@example.com", PASSWORD],
    ["a wrong password", "alice@example.com", "wrong password, long enough"],
    ["an inactive user with the right password", "carol@example.com", PASSWORD],
    ["an inactive user with a wrong password", "carol@example.com", "wrong password, long enough"],
    ["a user whose stored hash is malformed", "mallory@example.com", PASSWORD],
  ])("%s costs exactly one argon2 verify and no hash, answered 401", async (_case, email, password) => {
    const { response, work: done } = await login(email, password);
    expect(done).toEqual(["verify"]);
    expect(response.status).toBe(401);
  });

  it("the right password costs exactly one verify too (the baseline the failures match)", async () => {
    const { response, work: done } = await login("alice@example.com", PASSWORD);
    expect(done).toEqual(["verify"]);
    expect(response.status).toBe(303);
  });

  it.each([
    ["an unknown user", "nobody@example.com"],
    ["a known user", "alice@example.com"],
  ])(
    "an over-long password for %s is rejected before any hashing (zero argon2 runs) [CS-Password_Storage] [checklist B.18]",
    async (_case, email) => {
      for (const password of ["a".repeat(1025), "é".repeat(513), "😀".repeat(257), "x".repeat(15_000)]) {
        const { response, work: done } = await login(email, password);
        expect(done).toEqual([]);
        expect(response.status).toBe(401);
      }
    },
  );

  it("unknown user, wrong password, inactive user and over-long password get the same status, body and headers", async () => {
    const answers: unknown[] = [];
    for (const [email, password] of [
      ["nobody@example.com", PASSWORD],
      ["alice@example.com", "wrong password, long enough"],
      ["carol@example.com", PASSWORD],
      ["alice@example.com", "a".repeat(2000)],
    ] as const) {
      const { response } = await login(email, password);
      const { date: _date, ...headers } = response.headers as Record<string, unknown>;
      answers.push({ status: response.status, body: response.text, headers });
    }
    for (const answer of answers.slice(1)) expect(answer).toEqual(answers[0]);
  });
});

describe("a locked account costs no hashing, known or not [NIST 800-63B 3.2.2] [checklist C.21, D.27]", () => {
  it("after the threshold, neither a known nor an unknown account runs argon2, and both answer 429", async () => {
    users.set("dave@example.com", new User("dave@example.com", await hasher.hash(PASSWORD)));
    const served = await serve(createLoginApp(2));
    try {
      for (const email of ["dave@example.com", "nobody-else@example.com"]) {
        const browser = new Browser(served.url);
        for (let i = 0; i < 2; i++) {
          expect((await browser.post("/login", { email, password: `wrong guess ${i}` })).status).toBe(401);
        }
        await browser.csrf();
        work.length = 0;
        const locked = await browser.post("/login", { email, password: PASSWORD });
        expect(locked.status).toBe(429);
        expect(work).toEqual([]);
      }
    } finally {
      await served.close();
    }
  });
});
