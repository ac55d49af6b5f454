/**
 * A minimal login-manager + Express app in process, on a real `PostgresStore` or `RedisStore`, and a
 * cookie-jar HTTP client, for the concurrency and round-trip tests. CSRF is skipped (these tests are
 * about the store); users live in a `Map` or, for the round-trip tests, in the app's PostgreSQL
 * users table.
 *
 * @module
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { LoginManager, type LoginManagerOptions, type SessionStore, UserMixin } from "login-manager";
import { initApp, loginRequired } from "login-manager/express";

/** A user of the library-level app. */
export class TestUser extends UserMixin {
  constructor(
    readonly id: string,
    readonly name: string,
  ) {
    super();
  }
}

/** The running app and what the tests read from it. */
export interface LibraryApp {
  url: string;
  manager: LoginManager<TestUser>;
  /** How many times each manager event fired. */
  events: Map<string, number>;
  /** Calls of the user loader (the user cache hides most of them when `userCache.ttlSeconds` is set). */
  loaderCalls(): number;
  close(): Promise<void>;
}

/**
 * Starts the app on a free port. Routes: `POST /login` (`{ id, remember }`), `GET /me`,
 * `POST /logout`, `POST /revoke-all` (`{ id }`, admin: every session and token of the user).
 *
 * @example
 * ```ts
 * const app = await startLibraryApp(store, (id) => users.get(id) ?? null);
 * ```
 */
export async function startLibraryApp(
  store: SessionStore,
  loadUser: (id: string) => TestUser | null | Promise<TestUser | null>,
  options: Partial<LoginManagerOptions<TestUser>> = {},
): Promise<LibraryApp> {
  let loaderCalls = 0;
  const manager = new LoginManager<TestUser>({
    secret: "scale-out-library-test-secret-0123456789",
    store,
    userLoader: (id) => {
      loaderCalls += 1;
      return loadUser(id);
    },
    csrf: { skip: () => true },
    rememberMe: { raceGraceSeconds: 30 },
    ...options,
  });
  const events = new Map<string, number>();
  for (const name of [
    "loggedIn",
    "loggedOut",
    "loadedFromCookie",
    "rememberTheft",
    "sessionsRevoked",
  ] as const) {
    manager.on(name, () => {
      events.set(name, (events.get(name) ?? 0) + 1);
    });
  }
  const app = express();
  initApp(app, manager);
  app.post("/login", async (req, res) => {
    const { id, remember } = req.body as { id: string; remember?: boolean };
    const user = await loadUser(id);
    if (!user) {
      res.status(404).json({ error: "no such user" });
      return;
    }
    await req.auth.loginUser(user, { remember: remember === true });
    res.json({ ok: true });
  });
  app.get("/me", loginRequired, (req, res) => {
    res.json({ id: req.auth.requireUser().getId(), source: req.auth.source });
  });
  app.post("/logout", async (req, res) => {
    await req.auth.logoutUser();
    res.json({ ok: true });
  });
  app.post("/revoke-all", async (req, res) => {
    const { id } = req.body as { id: string };
    res.json({ count: await manager.revokeUserSessions(id) });
  });
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, "127.0.0.1", () => resolve(listening));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    manager,
    events,
    loaderCalls: () => loaderCalls,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** One response as the tests read it. */
export interface Reply {
  status: number;
  body: unknown;
  /** Cookies the response set, by name ("" when it cleared one). */
  setCookies: Map<string, string>;
}

/**
 * A client with its own cookie jar (one browser). Cookie values are `<id>.<secret>` for the session
 * and `<selector>.<validator>` for the remember-me token.
 *
 * @example
 * ```ts
 * const browser = new Jar(app.url);
 * await browser.post("/login", { id: "1", remember: true });
 * browser.sessionId(); // the session's id in the store
 * ```
 */
export class Jar {
  readonly cookies = new Map<string, string>();

  constructor(readonly url: string) {}

  get(path: string): Promise<Reply> {
    return this.#send("GET", path);
  }

  post(path: string, body: unknown = {}): Promise<Reply> {
    return this.#send("POST", path, body);
  }

  /** The store id of the session cookie, if any. */
  sessionId(): string | undefined {
    return this.cookies.get("session")?.split(".")[0];
  }

  /** The selector of the remember-me cookie, if any. */
  rememberSelector(): string | undefined {
    return this.cookies.get("remember_token")?.split(".")[0];
  }

  /** A second jar holding only some of this one's cookies (e.g. the remember-me cookie alone). */
  copy(names: string[]): Jar {
    const jar = new Jar(this.url);
    for (const name of names) {
      const value = this.cookies.get(name);
      if (value !== undefined) jar.cookies.set(name, value);
    }
    return jar;
  }

  async #send(method: string, path: string, body?: unknown): Promise<Reply> {
    const headers: Record<string, string> = { accept: "application/json" };
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
    if (cookie) headers.cookie = cookie;
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const setCookies = new Map<string, string>();
    for (const line of response.headers.getSetCookie()) {
      const [pair = ""] = line.split(";");
      const equals = pair.indexOf("=");
      const name = pair.slice(0, equals).trim();
      const value = pair.slice(equals + 1).trim();
      const cleared = value === "" || /max-age=0\b/i.test(line);
      setCookies.set(name, cleared ? "" : value);
      if (cleared) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed, setCookies };
  }
}
