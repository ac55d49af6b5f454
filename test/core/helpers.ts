import type { Server } from "node:http";
import type { Express, NextFunction, Request, Response } from "express";
import express from "express";
import type { AuthContext, LoginManagerEvents, LoginManagerOptions } from "login-manager";
import { LoginManager, StoreError, UserMixin } from "login-manager";
import type { AuthReply } from "login-manager/adapter";
import { guardReply } from "login-manager/adapter";
import { freshLoginRequired, initApp, loginRequired, sendReply } from "login-manager/express";
import type { SessionRecord } from "login-manager/store";
import { MemoryStore } from "login-manager/stores/memory";
import request from "supertest";

/** A secret used only by these tests. */
export const SECRET = "core-integration-test-secret-0123456789abcdef";
/** The fake clock's start: 2026-01-01T12:00:00Z. */
export const T0 = Date.UTC(2026, 0, 1, 12);

/** A user like Flask-Login's test `User`: id, name, and an `active` flag that can change. */
export class User extends UserMixin {
  constructor(
    readonly id: number | string,
    readonly name: string,
    public active = true,
  ) {
    super();
  }

  override get isActive(): boolean {
    return this.active;
  }
}

/** A clock the tests move by hand (no timed assertions). */
export class FakeClock {
  t = T0;
  readonly now = (): number => this.t;
  advance(seconds: number): void {
    this.t += seconds * 1000;
  }
}

export type EventName = keyof LoginManagerEvents<User>;
const EVENT_NAMES: readonly EventName[] = [
  "loggedIn",
  "loggedOut",
  "loadedFromCookie",
  "loadedFromRequest",
  "loginConfirmed",
  "unauthorized",
  "needsRefresh",
  "accessed",
  "sessionProtected",
  "loginFailed",
  "rememberTheft",
  "secondFactorRequired",
  "sessionsRevoked",
  "csrfFailed",
  "allSessionsRevoked",
];

/** Every event the manager emitted, in order. */
export class EventLog {
  readonly entries: Array<{ name: EventName; payload: Record<string, unknown> }> = [];

  constructor(manager: LoginManager<User>) {
    for (const name of EVENT_NAMES) {
      manager.on(name, (payload) => {
        this.entries.push({ name, payload: payload as Record<string, unknown> });
      });
    }
  }

  named(name: EventName): Array<Record<string, unknown>> {
    return this.entries.filter((entry) => entry.name === name).map((entry) => entry.payload);
  }

  count(name: EventName): number {
    return this.named(name).length;
  }

  clear(): void {
    this.entries.length = 0;
  }
}

const WRITE_METHODS = new Set([
  "createSession",
  "updateSession",
  "deleteSession",
  "deleteUserSessions",
  "deleteAllSessions",
  "createRememberToken",
  "swapRememberValidator",
  "deleteRememberToken",
  "deleteUserRememberTokens",
  "deleteAllRememberTokens",
  "incrementCounter",
  "deleteCounter",
  "createOneTimeToken",
  "consumeOneTimeToken",
  "deleteUserOneTimeTokens",
  "createFactor",
  "updateFactor",
  "advanceFactorCounter",
  "deleteFactor",
  "deleteUserFactors",
]);

/** Wraps a MemoryStore to count calls and to simulate an unreachable server. */
export class StoreProbe {
  readonly calls: Array<{ method: string; args: unknown[] }> = [];
  unavailable = false;
  readonly store: MemoryStore;

  constructor(readonly memory: MemoryStore) {
    this.store = new Proxy(memory, {
      get: (target, property, receiver) => {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== "function") return value;
        return async (...args: unknown[]) => {
          this.calls.push({ method: String(property), args });
          if (this.unavailable) {
            throw new StoreError(`test store is down (${String(property)})`, { unavailable: true });
          }
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  }

  /** Calls of one method. */
  count(method: string): number {
    return this.calls.filter((call) => call.method === method).length;
  }

  /** Calls that change stored state. */
  writes(): string[] {
    return this.calls.filter((call) => WRITE_METHODS.has(call.method)).map((call) => call.method);
  }

  reset(): void {
    this.calls.length = 0;
  }
}

type HarnessOptions = Partial<LoginManagerOptions<User>>;

export interface HarnessSetup {
  /** Routes mounted before the login-manager middleware (like static files). */
  before?: (app: Express) => void;
  /** Extra routes mounted after the middleware, before the default ones. */
  routes?: (app: Express, manager: LoginManager<User>) => void;
  /** Skip registering a user loader (for request-loader-only setups). */
  noUserLoader?: boolean;
}

/** An Express app with login-manager, its manager, store, clock, users and events. */
export class Harness {
  readonly clock = new FakeClock();
  readonly memory = new MemoryStore();
  readonly probe = new StoreProbe(this.memory);
  readonly users = new Map<string, User>();
  readonly manager: LoginManager<User>;
  readonly events: EventLog;
  readonly app: Express;
  readonly errors: unknown[] = [];
  /** How many times POST /attempt checked a password. */
  readonly counters = { verify: 0 };
  readonly server: Server;

  constructor(options: HarnessOptions = {}, setup: HarnessSetup = {}) {
    for (const user of [new User(1, "Notch"), new User(2, "Steve"), new User(3, "Creeper", false)]) {
      this.users.set(user.getId(), user);
    }
    this.manager = new LoginManager<User>({
      secret: SECRET,
      store: this.probe.store,
      clock: this.clock,
      userLoader: setup.noUserLoader ? undefined : (id) => this.users.get(id) ?? null,
      ...options,
    });
    this.events = new EventLog(this.manager);
    this.app = express();
    setup.before?.(this.app);
    initApp(this.app, this.manager);
    setup.routes?.(this.app, this.manager);
    mountDefaultRoutes(this.app, this.users, this.counters);
    this.app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
      this.errors.push(error);
      res.status(500).json({ error: error instanceof Error ? error.message : String(error) });
    });
    this.server = this.app.listen(0);
  }

  /** A new browser with an empty cookie jar. */
  browser(headers: Record<string, string> = {}): Browser {
    return new Browser(this.server, headers);
  }

  /** The session record a session cookie value points at (null when gone or expired). */
  session(cookieValue: string | undefined): Promise<SessionRecord | null> {
    if (!cookieValue) return Promise.resolve(null);
    return Promise.resolve(this.memory.getSession(cookieValue.split(".")[0] as string, this.clock.now()));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.memory.close();
  }
}

function auth(req: Request): AuthContext<User> {
  return req.auth as unknown as AuthContext<User>;
}

function mountDefaultRoutes(app: Express, users: Map<string, User>, counters: { verify: number }): void {
  app.get("/", (_req, res) => {
    res.send("Welcome!");
  });
  app.get("/csrf", (req, res) => {
    res.json({ token: req.auth.csrfToken() });
  });
  app.get("/whoami", (req, res) => {
    const context = auth(req);
    const user = context.user;
    res.json({
      authenticated: context.isAuthenticated,
      anonymous: user.isAnonymous,
      id: user.getId(),
      name: user.isAnonymous ? null : user.name,
      fresh: context.loginFresh(),
      remembered: context.loginRemembered(),
      source: context.source,
    });
  });
  app.post("/login", async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const user = users.get(String(body.id));
    if (!user) {
      res.status(404).json({ ok: false });
      return;
    }
    const ok = await auth(req).loginUser(user, {
      remember: body.remember === true,
      fresh: body.fresh === undefined ? undefined : body.fresh === true,
      force: body.force === true,
      durationSeconds: body.duration as number | undefined,
    });
    res.json({ ok });
  });
  app.post("/logout", async (req, res) => {
    res.json({ ok: await auth(req).logoutUser() });
  });
  app.post("/confirm", async (req, res) => {
    res.json({ ok: await auth(req).confirmLogin() });
  });
  app.post("/attempt", async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const account = String(body.account);
    const result = await auth(req).attemptLogin({
      account,
      remember: body.remember === true,
      verify: async () => {
        counters.verify++;
        const user = [...users.values()].find((candidate) => candidate.name === account);
        return user && body.password === `${account}-password` ? user : null;
      },
    });
    if (result.ok) res.json({ ok: true, id: result.user.getId() });
    else if (result.reason === "locked") {
      res
        .status(429)
        .set("retry-after", String(result.retryAfterSeconds))
        .json({ ok: false, error: "locked" });
    } else {
      // retryAfterSeconds only when a lock runs once this failure is counted (JSON drops undefined).
      res.status(401).json({
        ok: false,
        error: "Invalid username or password.",
        retryAfterSeconds: result.retryAfterSeconds,
      });
    }
  });
  app.get("/protected", loginRequired, (_req, res) => {
    res.send("Access Granted");
  });
  app.get("/very-protected", freshLoginRequired, (_req, res) => {
    res.send("Access Granted");
  });
  app.get("/sessions", loginRequired, async (req, res) => {
    res.json(await auth(req).listSessions());
  });
  app.post("/sessions/revoke", loginRequired, async (req, res) => {
    res.json({ ok: await auth(req).revokeSession(String((req.body as { handle?: unknown }).handle)) });
  });
  app.post("/sessions/revoke-others", loginRequired, async (req, res) => {
    res.json({ count: await auth(req).revokeOtherSessions() });
  });
  app.post("/password-changed", freshLoginRequired, async (req, res) => {
    res.json({ count: await auth(req).afterPasswordChange() });
  });
  app.get("/flashes", (req, res) => {
    res.json(req.auth.takeFlashes());
  });
  // The guards' replies, asked for directly (Flask-Login's unauthorized() and needs_refresh()): the
  // tests call /secret anonymously and /needs-refresh with a stale login, so both are refused.
  app.get("/secret", (req, res) => {
    sendGuardReply(res, guardReply(auth(req), { fresh: false }));
  });
  app.get("/needs-refresh", (req, res) => {
    sendGuardReply(res, guardReply(auth(req), { fresh: true }));
  });
}

/** Sends a guard's reply; a request the guard lets through gets 200 "not refused". */
function sendGuardReply(res: Response, reply: AuthReply | null | undefined): void {
  if (reply) sendReply(res, reply);
  else res.send("not refused");
}

/** One parsed Set-Cookie header. */
export interface SetCookie {
  name: string;
  value: string;
  attributes: Map<string, string>;
  raw: string;
}

/** Parses a response's Set-Cookie headers. */
export function setCookies(res: request.Response): SetCookie[] {
  const header = res.headers["set-cookie"] as string[] | string | undefined;
  const list = header === undefined ? [] : Array.isArray(header) ? header : [header];
  return list.map((raw) => {
    const [pair = "", ...rest] = raw.split(";");
    const equals = pair.indexOf("=");
    const attributes = new Map<string, string>();
    for (const part of rest) {
      const [key = "", ...value] = part.trim().split("=");
      attributes.set(key.toLowerCase(), value.join("="));
    }
    return { name: pair.slice(0, equals), value: pair.slice(equals + 1), attributes, raw };
  });
}

/** The Set-Cookie of one cookie name in a response, if any. */
export function setCookie(res: request.Response, name: string): SetCookie | undefined {
  return setCookies(res).find((cookie) => cookie.name === name);
}

/** True when the response deletes the named cookie. */
export function clearsCookie(res: request.Response, name: string): boolean {
  const cookie = setCookie(res, name);
  return cookie !== undefined && cookie.value === "" && cookie.attributes.get("max-age") === "0";
}

interface PostOptions {
  /** A CSRF token to send; by default one is fetched from GET /csrf. false sends none. */
  csrf?: string | false;
  headers?: Record<string, string>;
  /** Send the body as a urlencoded form instead of JSON. */
  form?: boolean;
}

/** A client with a cookie jar, so tests can capture, drop and replay cookies explicitly. */
export class Browser {
  readonly cookies = new Map<string, string>();

  constructor(
    readonly server: Server,
    readonly headers: Record<string, string> = {},
  ) {}

  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<request.Response> {
    return this.#send(request(this.server).get(path), headers);
  }

  async options(path: string, headers: Record<string, string> = {}): Promise<request.Response> {
    return this.#send(request(this.server).options(path), headers);
  }

  async csrfToken(): Promise<string> {
    const res = await this.get("/csrf");
    return (res.body as { token: string }).token;
  }

  async post(
    path: string,
    body: Record<string, unknown> = {},
    options: PostOptions = {},
  ): Promise<request.Response> {
    const token = options.csrf === undefined ? await this.csrfToken() : options.csrf;
    const payload = token === false ? body : { _csrf: token, ...body };
    const req = request(this.server).post(path);
    if (options.form) req.type("form");
    return this.#send(req.send(payload), { "sec-fetch-site": "same-origin", ...options.headers });
  }

  async login(id: number | string, options: Record<string, unknown> = {}): Promise<request.Response> {
    const res = await this.post("/login", { id, ...options });
    if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`);
    return res;
  }

  async whoami(headers: Record<string, string> = {}): Promise<Whoami> {
    return (await this.get("/whoami", headers)).body as Whoami;
  }

  /** Copies this browser's cookies into a new browser (an attacker who stole them). */
  clone(headers: Record<string, string> = this.headers): Browser {
    const copy = new Browser(this.server, headers);
    for (const [name, value] of this.cookies) copy.cookies.set(name, value);
    return copy;
  }

  async #send(req: request.Test, headers: Record<string, string>): Promise<request.Response> {
    const cookie = this.cookieHeader();
    // An empty value leaves the header out (e.g. a POST without Sec-Fetch-Site).
    for (const [name, value] of Object.entries({ ...this.headers, ...headers })) {
      if (value !== "") req.set(name, value);
    }
    if (cookie) req.set("cookie", cookie);
    const res = await req;
    for (const cookie of setCookies(res)) {
      if (cookie.attributes.get("max-age") === "0") this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
    return res;
  }
}

export interface Whoami {
  authenticated: boolean;
  anonymous: boolean;
  id: string | null;
  name: string | null;
  fresh: boolean;
  remembered: boolean;
  source: string | null;
}
