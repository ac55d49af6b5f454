/**
 * The request context behind `currentUser()` and the other free functions (Flask's request context,
 * here AsyncLocalStorage). Flask-Login inventory §2 item 5 and issue #140.
 *
 * Not applicable here, and why:
 * - Item 5's "in a bare request context current_user is anonymous" and Flask-Login's "outside a
 *   request current_user is None": outside a request there is nothing to be anonymous *in*; every
 *   helper throws NoRequestContextError instead of returning a value that looks like a visitor.
 */

import { setTimeout as sleep } from "node:timers/promises";
import type { Request } from "express";
import {
  ConfigurationError,
  confirmLogin,
  currentAuth,
  currentUser,
  LoginManager,
  LoginManagerError,
  loginFresh,
  loginRemembered,
  loginUser,
  logoutUser,
  NoRequestContextError,
} from "login-manager";
import { MemoryStore } from "login-manager/stores/memory";
import { afterEach, describe, expect, it } from "vitest";
import { Harness, type User } from "./helpers.js";

let harness: Harness;

afterEach(async () => {
  await harness?.close();
});

describe("outside a request", () => {
  it.each([
    ["currentUser", () => currentUser()],
    ["currentAuth", () => currentAuth()],
    ["loginFresh", () => loginFresh()],
    ["loginRemembered", () => loginRemembered()],
  ])("%s() throws NoRequestContextError naming itself and the fix", (name, call) => {
    let caught: unknown;
    try {
      call();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(NoRequestContextError);
    expect(caught).toBeInstanceOf(LoginManagerError);
    const error = caught as NoRequestContextError;
    expect(error.code).toBe("ERR_NO_REQUEST_CONTEXT");
    expect(error.name).toBe("NoRequestContextError");
    expect(error.message).toContain(`${name}() was called outside a request`);
    expect(error.message).toMatch(/route handler or middleware/);
    expect(error.message).toMatch(/initApp/);
  });

  it.each([
    ["loginUser", () => loginUser({} as User)],
    ["logoutUser", () => logoutUser()],
    ["confirmLogin", () => confirmLogin()],
  ])("%s() throws NoRequestContextError synchronously", (name, call) => {
    expect(call).toThrow(NoRequestContextError);
    expect(call).toThrow(`${name}() was called outside a request`);
  });

  it("throws from a timer started at module level, not inside any request", async () => {
    const result = await new Promise<unknown>((resolve) => {
      setTimeout(() => {
        try {
          resolve(currentUser());
        } catch (error) {
          resolve(error);
        }
      }, 0);
    });
    expect(result).toBeInstanceOf(NoRequestContextError);
  });
});

describe("inside a request", () => {
  it("works in async handlers after awaits of every kind", async () => {
    harness = new Harness(
      {},
      {
        routes: (app) => {
          app.get("/after-awaits", async (_req, res) => {
            const seen: Array<string | null> = [currentUser().getId()];
            await Promise.resolve();
            seen.push(currentUser().getId());
            await sleep(1);
            seen.push(currentUser().getId());
            await new Promise((resolve) => setImmediate(resolve));
            seen.push(currentUser().getId());
            await new Promise<void>((resolve) => process.nextTick(resolve));
            seen.push(currentUser().getId());
            seen.push(
              await new Promise<string | null>((resolve) =>
                setTimeout(() => resolve(currentUser().getId()), 1),
              ),
            );
            res.json({ seen, fresh: loginFresh(), remembered: loginRemembered() });
          });
        },
      },
    );
    const browser = harness.browser();
    await browser.login(1);
    const res = await browser.get("/after-awaits");
    expect(res.body).toEqual({ seen: ["1", "1", "1", "1", "1", "1"], fresh: true, remembered: false });
  });

  it("keeps concurrent requests apart while their handlers interleave", async () => {
    let arrived = 0;
    let release: () => void = () => undefined;
    const bothArrived = new Promise<void>((resolve) => {
      release = resolve;
    });
    harness = new Harness(
      {},
      {
        routes: (app) => {
          app.get("/interleaved", async (_req, res) => {
            const before = currentUser().getId();
            arrived++;
            if (arrived === 2) release();
            await bothArrived;
            await sleep(1);
            res.json({ before, after: currentUser().getId() });
          });
        },
      },
    );
    const notch = harness.browser();
    await notch.login(1);
    const steve = harness.browser();
    await steve.login(2);
    const anonymous = harness.browser();
    const [a, b] = await Promise.all([notch.get("/interleaved"), steve.get("/interleaved")]);
    expect(a.body).toEqual({ before: "1", after: "1" });
    expect(b.body).toEqual({ before: "2", after: "2" });
    expect((await anonymous.whoami()).anonymous).toBe(true);
  });

  it("is the same context as req.auth", async () => {
    harness = new Harness(
      {},
      {
        routes: (app) => {
          app.get("/same", (req: Request, res) => {
            res.json({ same: currentAuth() === req.auth, user: currentUser() === req.auth.user });
          });
        },
      },
    );
    expect((await harness.browser().get("/same")).body).toEqual({ same: true, user: true });
  });

  it("lets the free functions log in and out", async () => {
    harness = new Harness(
      {},
      {
        routes: (app) => {
          app.post("/free-login", async (_req, res) => {
            const ok = await loginUser(harness.users.get("2") as User, { remember: true });
            res.json({ ok, id: currentUser().getId(), fresh: loginFresh() });
          });
          app.post("/free-logout", async (_req, res) => {
            await logoutUser();
            res.json({ anonymous: currentUser().isAnonymous });
          });
          app.post("/free-confirm", async (_req, res) => {
            const confirmed = await confirmLogin();
            res.json({ confirmed, fresh: loginFresh() });
          });
        },
      },
    );
    const browser = harness.browser();
    expect((await browser.post("/free-login")).body).toEqual({ ok: true, id: "2", fresh: true });
    expect((await browser.whoami()).name).toBe("Steve");
    browser.cookies.delete("session");
    expect((await browser.whoami()).fresh).toBe(false);
    expect((await browser.post("/free-confirm")).body).toEqual({ confirmed: true, fresh: true });
    expect((await browser.post("/free-logout")).body).toEqual({ anonymous: true });
    expect((await browser.whoami()).anonymous).toBe(true);
  });

  it("is available in middleware mounted after initApp", async () => {
    harness = new Harness(
      {},
      {
        routes: (app) => {
          app.use((req, _res, next) => {
            (req as Request & { seenBy?: string | null }).seenBy = currentUser().getId();
            next();
          });
          app.get("/seen", (req, res) => {
            res.json({ seenBy: (req as Request & { seenBy?: string | null }).seenBy });
          });
        },
      },
    );
    const browser = harness.browser();
    await browser.login(1);
    expect((await browser.get("/seen")).body).toEqual({ seenBy: "1" });
  });

  it("is not available in routes mounted before initApp", async () => {
    harness = new Harness(
      {},
      {
        before: (app) => {
          app.get("/early", (_req, res) => {
            try {
              res.json({ id: currentUser().getId() });
            } catch (error) {
              res.status(500).json({ error: (error as Error).name });
            }
          });
        },
      },
    );
    const browser = harness.browser();
    await browser.login(1);
    expect((await browser.get("/early")).body).toEqual({ error: "NoRequestContextError" });
  });
});

describe("with asyncContext: false", () => {
  it("serves req.auth as usual while currentUser() throws NoRequestContextError naming the way out", async () => {
    harness = new Harness(
      { asyncContext: false },
      {
        routes: (app) => {
          app.get("/both", (req: Request, res) => {
            let helper: string;
            try {
              helper = String(currentUser().getId());
            } catch (error) {
              helper = `${(error as Error).name}: ${(error as Error).message}`;
            }
            res.json({ viaRequest: req.auth.user.getId(), helper });
          });
        },
      },
    );
    const browser = harness.browser();
    await browser.login(1);
    const { body } = await browser.get("/both");
    expect(body.viaRequest).toBe("1");
    expect(body.helper).toMatch(/^NoRequestContextError: .*asyncContext: false.*req\.auth/);
  });

  it("refuses a non-boolean value at construction", () => {
    const options = {
      secret: "a-test-secret-that-is-long-enough-0123456789",
      store: new MemoryStore(),
      userLoader: () => null,
      asyncContext: "no" as unknown as boolean,
    };
    expect(() => new LoginManager(options)).toThrow(ConfigurationError);
    expect(() => new LoginManager(options)).toThrow(/asyncContext/);
  });
});
