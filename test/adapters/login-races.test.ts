/**
 * Issue 16.1 over HTTP on Express, Fastify and Hono: a password login in flight when the user's
 * sessions are revoked (an administrator, a password change elsewhere) leaves nothing behind. The
 * interleaving is forced by a store wrapper that holds the login's session write until the
 * revocation has run; `test/security/revocation-races.test.ts` covers every interleaving on every store.
 */
import { MemoryStore } from "login-manager/stores/memory";
import { afterEach, describe, expect, it } from "vitest";
import { HoldingStore } from "../helpers/holding-store.js";
import type { AppClient } from "./harness.js";
import { ADAPTERS, Browser, createEnv } from "./harness.js";
import { RIGHT_PASSWORD } from "./routes.js";

describe.each(ADAPTERS)("$name adapter: a login racing a revocation", ({ build }) => {
  let apps: AppClient[] = [];

  afterEach(async () => {
    await Promise.all(apps.map((app) => app.close()));
    apps = [];
  });

  async function setup() {
    const memory = new MemoryStore();
    const holding = new HoldingStore(memory);
    const env = createEnv({ store: holding.store });
    const app = await build(env);
    apps.push(app);
    return { env, app, holding, memory };
  }

  it("revokeUserSessions while the login's session is being stored: the login answers 401 and no session survives", async () => {
    const { env, app, holding, memory } = await setup();
    const browser = new Browser(app);
    const _csrf = await browser.csrfToken();
    const held = holding.hold("createSession");
    const login = browser.post("/attempt", {
      form: { username: "alice", password: RIGHT_PASSWORD, remember: "1", _csrf },
    });
    await held.reached;
    await env.manager.revokeUserSessions("1");
    held.release();
    const res = await login;
    expect(res.status).toBe(401);
    expect(await browser.whoami()).toMatchObject({ user: null });
    expect(await memory.listUserSessions("1", env.clock.now())).toEqual([]);
  });

  it("the same login without the race logs in (the test above fails only on the race)", async () => {
    const { env, app, memory } = await setup();
    const browser = new Browser(app);
    const _csrf = await browser.csrfToken();
    const res = await browser.post("/attempt", {
      form: { username: "alice", password: RIGHT_PASSWORD, _csrf },
    });
    expect(res.status).toBe(200);
    expect(await browser.whoami()).toMatchObject({ user: "1" });
    expect(await memory.listUserSessions("1", env.clock.now())).toHaveLength(1);
  });
});
