/**
 * `manager.identify`, the form of `authenticate` the adapters call on every request: it hands the
 * context back without a promise when nothing has to be waited for (each promise is a microtask and,
 * on Node 20 with AsyncLocalStorage in use, a promise-hook call), and it never throws.
 */
import type { RequestView, SessionStore, UserLoader } from "login-manager";
import { LoginManager, StoreError, UserMixin } from "login-manager";
import type { ResponseView } from "login-manager/adapter";
import { isPromiseLike } from "login-manager/adapter";
import { MemoryStore } from "login-manager/stores/memory";
import { SqliteStore } from "login-manager/stores/sqlite";
import { createLoginCookie, fakeRequest } from "login-manager/testing";
import { afterEach, describe, expect, it } from "vitest";

class User extends UserMixin {
  constructor(readonly id: string) {
    super();
  }
}

const alice = new User("1");
const UA = "Mozilla/5.0 (identify test)";
const SECRET = "identify-test-secret-identify-test-secret";
const silentResponse: ResponseView = { setCookie: () => undefined, setHeader: () => undefined };

function requestWith(cookie: string | undefined): RequestView {
  return fakeRequest({
    url: "/protected",
    headers: { host: "localhost", "user-agent": UA, cookie },
    remoteAddress: "127.0.0.1",
  });
}

function managerOn(store: SessionStore, userLoader: UserLoader<User> = (id) => (id === "1" ? alice : null)) {
  return new LoginManager<User>({ secret: SECRET, store, userLoader });
}

async function loggedInRequest(manager: LoginManager<User>): Promise<RequestView> {
  const cookie = await createLoginCookie(manager, alice, { userAgent: UA, remoteAddress: "127.0.0.1" });
  return requestWith(cookie);
}

/** A memory store whose getSession answers through a promise, as the PostgreSQL and Redis stores do. */
class PromisingStore extends MemoryStore {
  override getSession(id: string, now: number) {
    return Promise.resolve(super.getSession(id, now));
  }
}

const stores: SessionStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
});

function track<S extends SessionStore>(store: S): S {
  stores.push(store);
  return store;
}

describe("manager.identify", () => {
  it.each([
    ["memory", () => new MemoryStore()],
    ["SQLite", () => new SqliteStore({ database: ":memory:" })],
  ])("returns the logged-in user's context itself, not a promise, on the %s store", async (_name, make) => {
    const store = track(make());
    const manager = managerOn(store);
    await (store as { initialize?: () => Promise<void> }).initialize?.();
    const request = await loggedInRequest(manager);
    const identified = manager.identify(request, silentResponse);
    expect(isPromiseLike(identified)).toBe(false);
    expect(isPromiseLike(identified) ? null : identified.user?.getId()).toBe("1");
  });

  it("returns an anonymous visitor's context at once when there is no remember cookie or request loader", () => {
    const manager = managerOn(track(new MemoryStore()));
    const identified = manager.identify(requestWith(undefined), silentResponse);
    expect(isPromiseLike(identified)).toBe(false);
    expect(isPromiseLike(identified) ? "promise" : identified.isAuthenticated).toBe(false);
  });

  it("answers through a promise, with the same user, when the store's getSession does", async () => {
    const manager = managerOn(track(new PromisingStore()));
    const identified = manager.identify(await loggedInRequest(manager), silentResponse);
    expect(isPromiseLike(identified)).toBe(true);
    expect((await identified).user?.getId()).toBe("1");
  });

  it("answers through a promise when the user loader does", async () => {
    const manager = managerOn(track(new MemoryStore()), (id) => Promise.resolve(id === "1" ? alice : null));
    const identified = manager.identify(await loggedInRequest(manager), silentResponse);
    expect(isPromiseLike(identified)).toBe(true);
    expect((await identified).user?.getId()).toBe("1");
  });

  it("rejects instead of throwing when the user loader throws synchronously", async () => {
    const store = track(new MemoryStore());
    const request = await loggedInRequest(managerOn(store));
    const manager = managerOn(store, () => {
      throw new Error("user table gone");
    });
    let identified: unknown;
    expect(() => {
      identified = manager.identify(request, silentResponse);
    }).not.toThrow();
    await expect(identified).rejects.toThrow("user table gone");
  });

  it("rejects with a StoreError instead of throwing when the SQLite store fails", async () => {
    const store = new SqliteStore({ database: ":memory:" });
    const manager = managerOn(store);
    const request = await loggedInRequest(manager);
    await store.close();
    let identified: unknown;
    expect(() => {
      identified = manager.identify(request, silentResponse);
    }).not.toThrow();
    await expect(identified).rejects.toBeInstanceOf(StoreError);
  });

  it("authenticate always returns a promise, whatever the store", async () => {
    const manager = managerOn(track(new MemoryStore()));
    const request = await loggedInRequest(manager);
    const authenticated = manager.authenticate(request, silentResponse);
    expect(authenticated).toBeInstanceOf(Promise);
    expect((await authenticated).user?.getId()).toBe("1");
  });
});
