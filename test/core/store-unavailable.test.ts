/**
 * A session store that cannot be reached answers 503, never "anonymous" (which would log everybody
 * out, or worse, let a guard treat a logged-in user's request as a visitor's).
 * Flask-Login keeps sessions in the cookie, so no inventory item maps here.
 */
import express from "express";
import type { SessionStore } from "login-manager";
import { LoginManager, StoreError } from "login-manager";
import { initApp } from "login-manager/express";
import { MemoryStore } from "login-manager/stores/memory";
import request from "supertest";
import { afterEach, describe, expect, it } from "vitest";
import { Harness, SECRET, User } from "./helpers.js";

let harness: Harness;

afterEach(async () => {
  await harness?.close();
});

describe("store unavailable", () => {
  it("answers 503 with Retry-After to a logged-in user instead of treating them as anonymous", async () => {
    harness = new Harness({ views: { loginView: "/login" } });
    const browser = harness.browser();
    await browser.login(1);
    harness.probe.unavailable = true;
    const res = await browser.get("/protected");
    expect(res.status).toBe(503);
    expect(res.headers["retry-after"]).toBe("5");
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.headers["set-cookie"]).toBeUndefined();
    expect(harness.events.count("unauthorized")).toBe(0);
    harness.probe.unavailable = false;
    expect((await browser.whoami()).name).toBe("Notch");
  });

  it("answers 503 JSON to JSON clients", async () => {
    harness = new Harness();
    const browser = harness.browser();
    await browser.login(1);
    harness.probe.unavailable = true;
    const res = await browser.get("/whoami", { accept: "application/json" });
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ error: "service_unavailable" });
  });

  it("answers 503 to a remember-me restore and keeps the remember cookie", async () => {
    harness = new Harness();
    const browser = harness.browser();
    await browser.login(1, { remember: true });
    browser.cookies.delete("session");
    harness.probe.unavailable = true;
    const res = await browser.get("/whoami");
    expect(res.status).toBe(503);
    expect(res.headers["set-cookie"]).toBeUndefined();
    harness.probe.unavailable = false;
    expect((await browser.whoami()).name).toBe("Notch");
  });

  it("never runs the route handler while the store is down", async () => {
    let ran = 0;
    harness = new Harness(
      {},
      {
        routes: (app) => {
          app.get("/counted", (_req, res) => {
            ran++;
            res.send("ran");
          });
        },
      },
    );
    const browser = harness.browser();
    await browser.login(1);
    harness.probe.unavailable = true;
    expect((await browser.get("/counted")).status).toBe(503);
    expect(ran).toBe(0);
  });

  it("uses the adapter's onStoreUnavailable when given", async () => {
    const memory = new MemoryStore();
    let down = false;
    const store = new Proxy(memory, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          if (down) return Promise.reject(new StoreError("down", { unavailable: true }));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    }) as SessionStore;
    const user = new User(1, "Notch");
    const manager = new LoginManager<User>({ secret: SECRET, store, userLoader: () => user });
    const app = express();
    initApp(app, manager, {
      onStoreUnavailable: (error, _req, res) => {
        res.status(503).send(`maintenance (${error.code})`);
      },
    });
    app.get("/", (_req, res) => {
      res.send("ok");
    });
    const cookie = `session=${"A".repeat(22)}.${"B".repeat(22)}`;
    down = true;
    const res = await request(app).get("/").set("cookie", cookie);
    expect(res.status).toBe(503);
    expect(res.text).toBe("maintenance (ERR_STORE_UNAVAILABLE)");
  });

  it("passes other store errors to the app's error handler (500)", async () => {
    harness = new Harness();
    const browser = harness.browser();
    await browser.login(1);
    const original = harness.memory.getSession.bind(harness.memory);
    harness.memory.getSession = () => Promise.reject(new StoreError("corrupt row"));
    const res = await browser.get("/whoami");
    expect(res.status).toBe(500);
    expect((harness.errors[0] as StoreError).code).toBe("ERR_STORE");
    harness.memory.getSession = original;
  });

  it("answers a route handler's call (attemptLogin) with 503, before the app's error middleware sees it", async () => {
    harness = new Harness();
    harness.probe.unavailable = true;
    const res = await harness.browser().post("/attempt", { account: "Notch", password: "Notch-password" });
    expect(res.status).toBe(503);
    expect(res.headers["retry-after"]).toBe("5");
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.text).not.toMatch(/test store is down|getCounter|Error/);
    expect(harness.errors).toEqual([]);
    expect(harness.counters.verify).toBe(0);
  });

  it("still passes a handler's other errors to the app's error middleware", async () => {
    harness = new Harness();
    const browser = harness.browser();
    await browser.login(1);
    harness.memory.listUserSessions = () => Promise.reject(new StoreError("corrupt row"));
    const res = await browser.get("/sessions");
    expect(res.status).toBe(500);
    expect((harness.errors[0] as StoreError).code).toBe("ERR_STORE");
  });

  it("answers a handler's outage on an app mounted inside another app", async () => {
    const memory = new MemoryStore();
    let down = false;
    const store = new Proxy(memory, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) =>
          down
            ? Promise.reject(new StoreError("down", { unavailable: true }))
            : (value as (...a: unknown[]) => unknown).apply(target, args);
      },
    }) as SessionStore;
    const manager = new LoginManager<User>({
      secret: SECRET,
      store,
      userLoader: () => null,
      csrf: { skip: () => true },
    });
    const inner = express();
    initApp(inner, manager);
    inner.post("/revoke", async (_req, res) => {
      res.send(String(await manager.revokeUserSessions("1")));
    });
    const outer = express();
    outer.use("/admin", inner);
    outer.use(
      (_error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
        res.status(500).send("outer error handler");
      },
    );
    expect((await request(outer).post("/admin/revoke")).text).toBe("0");
    down = true;
    const res = await request(outer).post("/admin/revoke");
    expect(res.status).toBe(503);
    expect(res.text).toBe("The service is temporarily unavailable. Please try again in a moment.");
  });

  it("does not need the store for a visitor without cookies", async () => {
    harness = new Harness();
    harness.probe.unavailable = true;
    const res = await harness.browser().get("/whoami");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ anonymous: true });
  });
});
