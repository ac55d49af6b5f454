/**
 * The brute-force throttle across processes [A5 6.3.1] [NIST 800-63B 3.2.2] [checklist C.21]: several
 * app instances share one store, each with its own in-process state. Each "process" here is its own
 * LoginManager over its own store connection (its own MemoryStore view, SQLite connection,
 * PostgreSQL pool or Redis client), so the only thing they share is the store, as in production.
 * SECURITY.md "Known limitations: Multi-process throttling" described the race this closes: every
 * process could let one guess past the threshold.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { LoginAttemptResult, RequestView, SessionStore } from "login-manager";
import { LoginManager, UserMixin } from "login-manager";
import type { ResponseView } from "login-manager/adapter";
import { MemoryStore } from "login-manager/stores/memory";
import { PostgresStore } from "login-manager/stores/postgres";
import { RedisStore } from "login-manager/stores/redis";
import { SqliteStore } from "login-manager/stores/sqlite";
import { fakeRequest } from "login-manager/testing";
import pg from "pg";
import { createClient } from "redis";
import { afterEach, describe, expect, it } from "vitest";
import {
  describeIfPostgres,
  describeIfRedis,
  postgresConfig,
  postgresUrl,
  redisUrl,
} from "../helpers/services.js";

const SECRET = "throttle-processes-secret-0123456789abcdef";
const PROCESSES = 8;
const GUESSES_PER_PROCESS = 4;
const MAX_ACCOUNT_FAILURES = 5;
const LOCK_BASE_SECONDS = 30;

class User extends UserMixin {
  constructor(readonly id: string) {
    super();
  }
}

/** A clock shared by every process (one wall clock), moved by hand; it starts at the real time
 * because Redis expires counters at their absolute `expiresAt`. */
class FakeClock {
  t = Date.now();
  readonly now = (): number => this.t;
  advance(seconds: number): void {
    this.t += seconds * 1000;
  }
}

const silentResponse: ResponseView = { setCookie: () => undefined, setHeader: () => undefined };

function requestFrom(remoteAddress: string, cookie?: string): RequestView {
  return fakeRequest({ method: "POST", url: "/login", headers: { cookie }, remoteAddress });
}

/** `PROCESSES` app instances over one shared store, counting every password verification. */
class Fleet {
  readonly clock = new FakeClock();
  readonly alice = new User("alice");
  readonly managers: LoginManager<User>[];
  /** How many times any process verified a password. */
  verifies = 0;

  constructor(stores: SessionStore[]) {
    this.managers = stores.map(
      (store) =>
        new LoginManager<User>({
          secret: SECRET,
          store,
          clock: this.clock,
          userLoader: (id) => (id === "alice" ? this.alice : null),
          throttle: {
            maxAccountFailures: MAX_ACCOUNT_FAILURES,
            // Only the per-account limit is under test: the guesses come from a botnet.
            maxAddressFailures: 100,
            lockBaseSeconds: LOCK_BASE_SECONDS,
          },
        }),
    );
  }

  /** A password check that takes a little while, like hashing, so attempts of all processes overlap. */
  async #check(password: string): Promise<boolean> {
    this.verifies++;
    await sleep(2);
    return password === "correct horse";
  }

  /** Every process fires `GUESSES_PER_PROCESS` parallel logins to alice with `password`, all at once. */
  burst(password = "wrong"): Promise<LoginAttemptResult<User>[]> {
    return Promise.all(
      this.managers.flatMap((manager, process) =>
        Array.from({ length: GUESSES_PER_PROCESS }, async (_, guess) => {
          const auth = await manager.authenticate(
            requestFrom(`198.51.${process}.${guess + 1}`),
            silentResponse,
          );
          return auth.attemptLogin({
            account: "alice",
            verify: async () => ((await this.#check(password)) ? this.alice : null),
          });
        }),
      ),
    );
  }

  /** Every process fires `GUESSES_PER_PROCESS` parallel re-authentications of one logged-in session. */
  async reauthBurst(sessionCookie: string): Promise<LoginAttemptResult<User>[]> {
    return Promise.all(
      this.managers.flatMap((manager, process) =>
        Array.from({ length: GUESSES_PER_PROCESS }, async (_, guess) => {
          const auth = await manager.authenticate(
            requestFrom(`198.51.${process}.${guess + 1}`, sessionCookie),
            silentResponse,
          );
          return auth.attemptReauth({ account: "alice", verify: () => this.#check("wrong") });
        }),
      ),
    );
  }

  /**
   * Every process fires `GUESSES_PER_PROCESS` parallel wrong guesses, half of the processes at the
   * login form and half at re-authentication of one logged-in session.
   */
  mixedBurst(sessionCookie: string): Promise<LoginAttemptResult<User>[]> {
    return Promise.all(
      this.managers.flatMap((manager, process) =>
        Array.from({ length: GUESSES_PER_PROCESS }, async (_, guess) => {
          const address = `198.51.${process}.${guess + 1}`;
          if (process % 2 === 0) return this.#attemptOn(manager, address, "wrong");
          return this.#reauthOn(manager, address, sessionCookie, "wrong");
        }),
      ),
    );
  }

  /** One login of alice with `password` through process `process`. */
  login(process: number, password: string): Promise<LoginAttemptResult<User>> {
    return this.#attemptOn(this.managers[process] as LoginManager<User>, "192.0.2.7", password);
  }

  /** One re-authentication of the session `sessionCookie` with `password` through process `process`. */
  reauth(process: number, sessionCookie: string, password: string): Promise<LoginAttemptResult<User>> {
    return this.#reauthOn(this.managers[process] as LoginManager<User>, "192.0.2.7", sessionCookie, password);
  }

  async #attemptOn(manager: LoginManager<User>, address: string, password: string) {
    const auth = await manager.authenticate(requestFrom(address), silentResponse);
    return auth.attemptLogin({
      account: "alice",
      verify: async () => ((await this.#check(password)) ? this.alice : null),
    });
  }

  async #reauthOn(manager: LoginManager<User>, address: string, sessionCookie: string, password: string) {
    const auth = await manager.authenticate(requestFrom(address, sessionCookie), silentResponse);
    return auth.attemptReauth({ account: "alice", verify: () => this.#check(password) });
  }

  /** Logs alice in through the first process; returns the session cookie (`name=value`). */
  async loginAlice(): Promise<string> {
    let cookie = "";
    const response: ResponseView = {
      setCookie: (name, serialized) => {
        if (name === "session") cookie = serialized.split(";")[0] as string;
      },
      setHeader: () => undefined,
    };
    const auth = await (this.managers[0] as LoginManager<User>).authenticate(
      requestFrom("192.0.2.1"),
      response,
    );
    expect(await auth.loginUser(this.alice)).toBe(true);
    return cookie;
  }
}

function reasons(results: LoginAttemptResult<User>[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const result of results) {
    const key = result.ok ? "ok" : result.reason;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** The longest Retry-After the attempts were told: when the account is surely unlocked again. */
function longestLock(results: LoginAttemptResult<User>[]): number {
  return Math.max(
    ...results.map((result) => (!result.ok && result.reason === "locked" ? result.retryAfterSeconds : 0)),
  );
}

/** The scenarios every store runs; `stores()` opens `PROCESSES` connections to one fresh store. */
function defineFleetTests(stores: () => Promise<SessionStore[]>): void {
  it(`[A5 6.3.1] ${PROCESSES} processes firing ${PROCESSES * GUESSES_PER_PROCESS} parallel wrong guesses at one account verify at most maxAccountFailures passwords`, async () => {
    const fleet = new Fleet(await stores());
    const results = await fleet.burst();
    expect(fleet.verifies).toBeLessThanOrEqual(MAX_ACCOUNT_FAILURES);
    // The whole budget is used, no more: every other guess is refused with a lock.
    expect(fleet.verifies).toBe(MAX_ACCOUNT_FAILURES);
    expect(reasons(results)).toEqual({
      invalid: MAX_ACCOUNT_FAILURES,
      locked: PROCESSES * GUESSES_PER_PROCESS - MAX_ACCOUNT_FAILURES,
    });
  });

  it("[A5 6.3.1] once the lock has passed, a burst from every process gets exactly one more verification", async () => {
    const fleet = new Fleet(await stores());
    fleet.clock.advance(longestLock(await fleet.burst()));
    const before = fleet.verifies;
    const results = await fleet.burst();
    expect(fleet.verifies - before).toBe(1);
    expect(reasons(results)).toEqual({ invalid: 1, locked: PROCESSES * GUESSES_PER_PROCESS - 1 });
  });

  it("the owner still logs in from any process after the lock passes, and that resets the account", async () => {
    const fleet = new Fleet(await stores());
    fleet.clock.advance(longestLock(await fleet.burst()));
    const auth = await (fleet.managers.at(-1) as LoginManager<User>).authenticate(
      requestFrom("192.0.2.1"),
      silentResponse,
    );
    const verify = async () => fleet.alice;
    expect((await auth.attemptLogin({ account: "alice", verify })).ok).toBe(true);
    const before = fleet.verifies;
    await fleet.burst();
    expect(fleet.verifies - before).toBe(MAX_ACCOUNT_FAILURES);
  });

  defineSharedBudgetTests(stores);
}

/**
 * One failure budget per account across login and re-authentication (issue 16.6), on every store:
 * before, each had its own counter, so a session holder got maxAccountFailures guesses at each form.
 */
function defineSharedBudgetTests(stores: () => Promise<SessionStore[]>): void {
  it(`[A5 6.3.1] login and re-authentication guesses fired together from ${PROCESSES} processes verify at most maxAccountFailures passwords in all`, async () => {
    const fleet = new Fleet(await stores());
    const cookie = await fleet.loginAlice();
    const results = await fleet.mixedBurst(cookie);
    expect(fleet.verifies).toBe(MAX_ACCOUNT_FAILURES);
    expect(reasons(results)).toEqual({
      invalid: MAX_ACCOUNT_FAILURES,
      locked: PROCESSES * GUESSES_PER_PROCESS - MAX_ACCOUNT_FAILURES,
    });
  });

  it("wrong logins and re-authentications taking turns across processes lock at the same count as logins alone, and the lock refuses both", async () => {
    const fleet = new Fleet(await stores());
    const cookie = await fleet.loginAlice();
    const results: LoginAttemptResult<User>[] = [];
    for (let failure = 0; failure < MAX_ACCOUNT_FAILURES; failure++) {
      const process = failure % PROCESSES;
      results.push(
        failure % 2 === 0
          ? await fleet.login(process, "wrong")
          : await fleet.reauth(process, cookie, "wrong"),
      );
    }
    expect(results.slice(0, -1)).toEqual(
      Array.from({ length: MAX_ACCOUNT_FAILURES - 1 }, () => ({ ok: false, reason: "invalid" })),
    );
    expect(results.at(-1)).toEqual({ ok: false, reason: "invalid", retryAfterSeconds: LOCK_BASE_SECONDS });
    const verified = fleet.verifies;
    expect(await fleet.login(PROCESSES - 1, "correct horse")).toMatchObject({ ok: false, reason: "locked" });
    expect(await fleet.reauth(PROCESSES - 2, cookie, "correct horse")).toMatchObject({
      ok: false,
      reason: "locked",
    });
    expect(fleet.verifies).toBe(verified);
  });

  it("a lock started by re-authentication refuses the login, and one started by logins refuses re-authentication", async () => {
    const fleet = new Fleet(await stores());
    const cookie = await fleet.loginAlice();
    for (let i = 0; i < MAX_ACCOUNT_FAILURES; i++) await fleet.reauth(i % PROCESSES, cookie, "wrong");
    expect(await fleet.login(PROCESSES - 1, "correct horse")).toMatchObject({ ok: false, reason: "locked" });
    fleet.clock.advance(LOCK_BASE_SECONDS);
    // The lock has passed: the right password logs in and resets the budget.
    expect((await fleet.login(PROCESSES - 1, "correct horse")).ok).toBe(true);
    const fresh = await fleet.loginAlice();
    for (let i = 0; i < MAX_ACCOUNT_FAILURES; i++) await fleet.login(i % PROCESSES, "wrong");
    const verified = fleet.verifies;
    expect(await fleet.reauth(1, fresh, "correct horse")).toMatchObject({ ok: false, reason: "locked" });
    expect(fleet.verifies).toBe(verified);
  });
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("brute-force throttle across processes sharing a MemoryStore", () => {
  // One MemoryStore shared by reference stands in for a store server: its increment is atomic.
  defineFleetTests(async () => {
    const shared = new MemoryStore();
    cleanups.push(() => shared.close());
    return Array.from({ length: PROCESSES }, () => shared);
  });

  it("[A5 6.3.1] re-authentication has the same limit: parallel guesses from every process at one session verify at most maxAccountFailures passwords", async () => {
    const shared = new MemoryStore();
    cleanups.push(() => shared.close());
    const fleet = new Fleet(Array.from({ length: PROCESSES }, () => shared));
    const cookie = await fleet.loginAlice();
    const results = await fleet.reauthBurst(cookie);
    expect(fleet.verifies).toBe(MAX_ACCOUNT_FAILURES);
    expect(reasons(results)).toEqual({
      invalid: MAX_ACCOUNT_FAILURES,
      locked: PROCESSES * GUESSES_PER_PROCESS - MAX_ACCOUNT_FAILURES,
    });
  });
});

describe("brute-force throttle across processes sharing one SQLite file", () => {
  defineFleetTests(async () => {
    const dir = await mkdtemp(join(tmpdir(), "lm-throttle-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, "sessions.db");
    return Array.from({ length: PROCESSES }, () => {
      const store = new SqliteStore({ database: file });
      cleanups.push(() => store.close());
      return store;
    });
  });
});

await describeIfPostgres("brute-force throttle across processes sharing one PostgreSQL database", () => {
  defineFleetTests(async () => {
    const schema = `lm_throttle_${randomBytes(6).toString("hex")}`;
    cleanups.push(async () => {
      const admin = new pg.Client(postgresConfig());
      await admin.connect();
      try {
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await admin.end();
      }
    });
    const stores = Array.from({ length: PROCESSES }, () => {
      const store = new PostgresStore({ connectionString: postgresUrl(), schema, poolMax: 4 });
      cleanups.push(() => store.close());
      return store;
    });
    // Create the tables before the race, so the test measures the throttle, not the migration.
    await Promise.all(stores.map((store) => store.getCounter("warm-up", 0)));
    return stores;
  });
});

await describeIfRedis("brute-force throttle across processes sharing one Redis server", () => {
  defineFleetTests(async () => {
    const keyPrefix = `lm-throttle-test:${randomBytes(6).toString("hex")}:`;
    const clients = await Promise.all(
      Array.from({ length: PROCESSES }, async () => {
        const client = createClient({ url: redisUrl() });
        client.on("error", () => undefined);
        await client.connect();
        cleanups.push(() => client.close());
        return client;
      }),
    );
    cleanups.push(async () => {
      const client = clients[0] as (typeof clients)[number];
      for await (const keys of client.scanIterator({ MATCH: `${keyPrefix}*` })) {
        if (keys.length > 0) await client.del(keys);
      }
    });
    return clients.map((client) => new RedisStore({ client, keyPrefix }));
  });
});
