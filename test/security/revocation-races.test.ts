/**
 * Issue 16.1: a login racing a password change (or any revocation of the user's sessions) must not
 * outlive it, under any interleaving, on every store. Each test stops one store call of one party
 * with a HoldingStore until the other party has acted, so the interleaving is the same on every run.
 * SECURITY.md "Logins racing revocations" cites these tests (ASVS 7.4.3, 7.4.5).
 */
import { randomBytes } from "node:crypto";
import type { AuthContext, LoginAttemptResult, SessionStore } from "login-manager";
import { LoginManager, UserMixin } from "login-manager";
import { MemoryStore } from "login-manager/stores/memory";
import { PostgresStore } from "login-manager/stores/postgres";
import { RedisStore } from "login-manager/stores/redis";
import { SqliteStore } from "login-manager/stores/sqlite";
import { fakeRequest } from "login-manager/testing";
import pg from "pg";
import { createClient } from "redis";
import { afterEach, describe, expect, it } from "vitest";
import { HoldingStore } from "../helpers/holding-store.js";
import {
  describeIfPostgres,
  describeIfRedis,
  postgresConfig,
  postgresUrl,
  redisUrl,
} from "../helpers/services.js";

const SECRET = "revocation-races-secret-0123456789abcdef";

class User extends UserMixin {
  constructor(readonly id: string) {
    super();
  }
}

/** A browser: its cookie jar, address and User-Agent. */
class Browser {
  readonly jar = new Map<string, string>();
  constructor(
    readonly world: World,
    readonly address: string,
    readonly agent: string,
  ) {}

  /** The request's context, with the response's cookies going into the jar. */
  auth(method = "POST"): Promise<AuthContext<User>> {
    const cookie = [...this.jar].map(([name, value]) => `${name}=${value}`).join("; ");
    const request = fakeRequest({
      method,
      headers: { cookie: cookie || undefined, "user-agent": this.agent },
      remoteAddress: this.address,
    });
    return this.world.manager.authenticate(request, {
      setHeader: () => undefined,
      setCookie: (name, serialized) => {
        const value = serialized.slice(name.length + 1).split(";")[0] ?? "";
        if (/max-age=0/i.test(serialized) || value === "") this.jar.delete(name);
        else this.jar.set(name, value);
      },
    });
  }

  async attemptLogin(password: string, options: { remember?: boolean; gate?: Promise<void> } = {}) {
    const auth = await this.auth();
    return auth.attemptLogin({
      account: "alice",
      remember: options.remember,
      verify: async () => {
        const right = this.world.password === password;
        await options.gate;
        return right ? this.world.alice : null;
      },
    });
  }

  async isLoggedIn(): Promise<boolean> {
    return (await this.auth("GET")).isAuthenticated;
  }
}

class World {
  readonly alice = new User("alice");
  password = "old password";
  readonly holding: HoldingStore;
  readonly manager: LoginManager<User>;

  constructor(readonly store: SessionStore) {
    this.holding = new HoldingStore(store);
    this.manager = new LoginManager<User>({
      secret: SECRET,
      store: this.holding.store,
      userLoader: (id) => (id === "alice" ? this.alice : null),
    });
  }

  browser(address: string, agent = "Firefox"): Browser {
    return new Browser(this, address, agent);
  }

  /** The owner, logged in on browser A, changes the password there. */
  async changePassword(owner: Browser): Promise<void> {
    this.password = "new password";
    await (await owner.auth()).afterPasswordChange();
  }

  async sessionsOfAlice(): Promise<number> {
    return (await this.store.listUserSessions("alice", Date.now())).length;
  }
}

const INVALID: LoginAttemptResult<User> = { ok: false, reason: "invalid" };

type StoreSource = () => Promise<SessionStore>;
let cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  const pending = cleanups;
  cleanups = [];
  for (const cleanup of pending.reverse()) await cleanup();
});

function defineRaceTests(makeStore: StoreSource): void {
  async function world(): Promise<{ world: World; owner: Browser; other: Browser }> {
    const store = await makeStore();
    const w = new World(store);
    const owner = w.browser("10.0.0.1");
    expect((await owner.attemptLogin("old password")).ok).toBe(true);
    return { world: w, owner, other: w.browser("10.0.0.2", "Chrome") };
  }

  it("a password change that lands while the old password is being verified wins: the login answers invalid and nothing of it survives", async () => {
    const { world: w, owner, other } = await world();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const login = other.attemptLogin("old password", { remember: true, gate });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await w.changePassword(owner);
    open();
    expect(await login).toEqual(INVALID);
    expect(await other.isLoggedIn()).toBe(false);
    expect(other.jar.size).toBeLessThanOrEqual(1); // at most the CSRF cookie
    expect(await owner.isLoggedIn()).toBe(true);
    expect(await w.sessionsOfAlice()).toBe(1);
  });

  it("a password change between the check and the session's creation wins: the new session and remember token are undone", async () => {
    const { world: w, owner, other } = await world();
    const held = w.holding.hold("createSession");
    const login = other.attemptLogin("old password", { remember: true });
    await held.reached;
    await w.changePassword(owner);
    held.release();
    expect((await login).ok).toBe(false);
    expect(await other.isLoggedIn()).toBe(false);
    const restored = w.browser("10.0.0.2", "Chrome");
    for (const [name, value] of other.jar) restored.jar.set(name, value);
    expect(await restored.isLoggedIn()).toBe(false);
    expect(await w.sessionsOfAlice()).toBe(1);
  });

  it("a password change that starts just after the session was stored deletes it (the change's deletions see it)", async () => {
    const { world: w, owner, other } = await world();
    // Hold the login's re-read of the epochs: its session exists, the change runs to the end.
    const held = w.holding.hold("getCounter", (args) => String(args[0]).startsWith("epoch:user:"));
    const heldAgain = w.holding.hold("getCounter", (args) => String(args[0]).startsWith("epoch:user:"));
    const login = other.attemptLogin("old password", { remember: true });
    held.release(); // the snapshot after verification goes through
    await held.reached;
    await heldAgain.reached; // the re-read after the session was created
    await w.changePassword(owner);
    heldAgain.release();
    expect((await login).ok).toBe(false);
    expect(await other.isLoggedIn()).toBe(false);
    expect(await w.sessionsOfAlice()).toBe(1);
  });

  it("revokeUserSessions racing a login leaves no session of it, and so does revokeAllSessions", async () => {
    for (const revoke of ["user", "all"] as const) {
      const { world: w, other } = await world();
      const held = w.holding.hold("createSession");
      const login = other.attemptLogin("old password", { remember: true });
      await held.reached;
      if (revoke === "user") await w.manager.revokeUserSessions("alice");
      else await w.manager.revokeAllSessions();
      held.release();
      expect((await login).ok).toBe(false);
      expect(await other.isLoggedIn()).toBe(false);
      expect(await w.sessionsOfAlice()).toBe(0);
    }
  });

  it('"log out other sessions" racing a login on another browser ends that login too', async () => {
    const { world: w, owner, other } = await world();
    const held = w.holding.hold("createSession");
    const login = other.attemptLogin("old password");
    await held.reached;
    expect(await (await owner.auth()).revokeOtherSessions()).toBe(0);
    held.release();
    expect((await login).ok).toBe(false);
    expect(await other.isLoggedIn()).toBe(false);
    expect(await owner.isLoggedIn()).toBe(true);
    expect(await w.sessionsOfAlice()).toBe(1);
  });

  it("a remember-me restore racing revokeUserSessions does not outlive it", async () => {
    const store = await makeStore();
    const w = new World(store);
    const laptop = w.browser("10.0.0.3");
    expect((await laptop.attemptLogin("old password", { remember: true })).ok).toBe(true);
    laptop.jar.delete("session"); // the browser was closed: only the remember cookie is left
    const held = w.holding.hold("createSession");
    const restore = laptop.auth("GET");
    await held.reached;
    await w.manager.revokeUserSessions("alice");
    held.release();
    expect((await restore).isAuthenticated).toBe(false); // it re-read its token: gone
    expect(await laptop.isLoggedIn()).toBe(false);
    expect(await w.sessionsOfAlice()).toBe(0);
  });

  it("a re-authentication racing a password change elsewhere does not revive the session the change ended", async () => {
    const { world: w, owner, other } = await world();
    expect((await other.attemptLogin("old password")).ok).toBe(true);
    const held = w.holding.hold("createSession");
    const auth = await other.auth();
    const reauth = auth.attemptReauth({
      account: "alice",
      verify: async () => w.password === "old password",
    });
    await held.reached;
    await w.changePassword(owner);
    held.release();
    expect(await reauth).toEqual(INVALID);
    expect(auth.isAuthenticated).toBe(false);
    expect(await other.isLoggedIn()).toBe(false);
    expect(await w.sessionsOfAlice()).toBe(1);
  });
}

describe("logins racing revocations (memory store)", () => {
  defineRaceTests(async () => new MemoryStore());
});

for (const driver of ["node:sqlite", "better-sqlite3"] as const) {
  describe(`logins racing revocations (SqliteStore, ${driver})`, () => {
    defineRaceTests(async () => {
      const store = new SqliteStore({ database: ":memory:", driver });
      cleanups.push(() => store.close());
      return store;
    });
  });
}

await describeIfPostgres("logins racing revocations (PostgresStore)", () => {
  defineRaceTests(async () => {
    const schema = `lm_races_${randomBytes(6).toString("hex")}`;
    const store = new PostgresStore({ connectionString: postgresUrl(), schema, poolMax: 4 });
    cleanups.push(async () => {
      await store.close();
      const admin = new pg.Client(postgresConfig());
      await admin.connect();
      try {
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await admin.end();
      }
    });
    return store;
  });
});

await describeIfRedis("logins racing revocations (RedisStore)", () => {
  defineRaceTests(async () => {
    const keyPrefix = `lm-races-test:${randomBytes(6).toString("hex")}:`;
    const client = createClient({ url: redisUrl() });
    client.on("error", () => undefined);
    await client.connect();
    cleanups.push(async () => {
      for await (const keys of client.scanIterator({ MATCH: `${keyPrefix}*` })) {
        if (keys.length > 0) await client.del(keys);
      }
      await client.close();
    });
    return new RedisStore({ client, keyPrefix });
  });
});
